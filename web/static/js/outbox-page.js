/**
 * /outbox: every item of the signed-in user that waits on this phone (SPEC §5 O5), with its
 * state, its last error or field errors and when it was queued; and what the user can do:
 * Fix (opens the form with the item and its errors), Send as new (a conflict), Resend now,
 * Discard (after a confirmation), Send now for all, and Save a copy (a JSON file of all the items).
 *
 * The server renders only the frame; the list comes from IndexedDB and is built here with DOM
 * calls (text never goes in as HTML).
 */
(function () {
  'use strict';

  var page = document.querySelector('[data-outbox-page]');
  var client = window.FrontlineOutboxClient;
  var C = window.FrontlineComponents;
  var P = window.FrontlineFormPayload;
  if (!page || !client || !C || !P) return;

  var list = page.querySelector('[data-outbox-list]');
  var empty = page.querySelector('[data-outbox-empty]');
  var loading = page.querySelector('[data-outbox-loading]');
  var saveCopy = page.querySelector('[data-outbox-save-copy]');
  var receiptsLine = page.querySelector('[data-outbox-receipts]');
  var unavailable = page.querySelector('[data-outbox-unavailable]');

  var STATE_TAGS = {
    waiting: { text: 'Waiting', colour: 'grey' },
    sending: { text: 'Sending', colour: 'blue' },
    attention: { text: 'Needs your attention', colour: 'red' },
  };
  var KIND_NAMES = { idea: 'Improvement idea', handover: 'Handover note' };
  var FORM_PATHS = { idea: '/ideas/new', handover: '/handovers/new' };

  /** @type {{partners: Object<string, string>}} */
  var names = { partners: {} };
  var lastSignature = '';
  /** @type {* | null} */ var outbox = null;

  function loadNames() {
    return fetch('/api/v1/reference', { credentials: 'same-origin', redirect: 'manual', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok || !/json/.test(response.headers.get('content-type') || '')) return null;
        return response.json();
      })
      .then(function (reference) {
        (reference && reference.partners ? reference.partners : []).forEach(function (partner) {
          names.partners[String(partner.id)] = partner.name;
        });
      })
      .catch(function () {});
  }

  /** @param {*} item */
  function heading(item) {
    var data = item.data || {};
    if (item.kind === 'idea') return KIND_NAMES.idea + ': ' + (data.title || 'untitled');
    var partner = names.partners[String(data.partner_id)];
    // As /mine names it once sent: a note of something that went well is "Good practice".
    var what = data.note_type === 'good_practice' ? 'Good practice' : KIND_NAMES.handover;
    return what + (partner ? ': ' + partner : '');
  }

  /** @param {string} text @param {number} max */
  function shorten(text, max) {
    var s = String(text || '');
    return s.length > max ? s.slice(0, max - 1) + '…' : s;
  }

  /** @param {*} item */
  function card(item) {
    var data = item.data || {};
    var tagInfo = STATE_TAGS[item.state] || STATE_TAGS.waiting;
    var rows = [];
    if (item.kind === 'handover') {
      if (data.occurred_at) rows.push({ key: 'Happened', value: C.time(data.occurred_at) });
      if (data.narrative) rows.push({ key: 'What happened', value: shorten(data.narrative, 160) });
    } else if (data.problem) {
      rows.push({ key: 'What gets in the way', value: shorten(data.problem, 160) });
    }
    rows.push({ key: 'Saved on this phone', value: C.time(item.createdAt) });
    rows.push({ key: 'Reference', value: item.id.slice(0, 8).toUpperCase() });
    if (item.attempts > 0) rows.push({ key: 'Tries', value: String(item.attempts) });
    if (item.state === 'waiting' && item.nextAttemptAt > Date.now()) {
      rows.push({ key: 'Next try', value: C.time(item.nextAttemptAt) });
    }

    var content = [
      C.el('h2', { class: 'nhsuk-card__heading nhsuk-heading-s' }, heading(item)),
      C.el('p', { class: 'nhsuk-u-margin-bottom-3' }, C.tag(tagInfo.text, tagInfo.colour)),
    ];
    if (item.lastError) {
      content.push(C.el('p', { class: item.state === 'attention' ? 'app-outbox-item__problem' : 'nhsuk-body-s' }, item.lastError));
    }
    if (item.errors && item.errors.length) {
      content.push(
        C.el(
          'ul',
          { class: 'nhsuk-list nhsuk-list--bullet app-outbox-item__errors' },
          item.errors.map(function (error) {
            return C.el('li', {}, error.message);
          })
        )
      );
    }
    content.push(C.summaryList(rows, 'nhsuk-summary-list--no-border app-outbox-item__facts'));

    var actions = [];
    if (item.state === 'attention') {
      if (item.attentionReason === 'conflict') {
        actions.push(C.button('Send as new', '', { 'data-action': 'send-as-new', 'data-id': item.id }));
      } else {
        actions.push(
          C.el('a', { class: 'nhsuk-button nhsuk-button--small', href: FORM_PATHS[item.kind] + '?fix=' + encodeURIComponent(item.id), 'data-action': 'fix' }, 'Fix')
        );
      }
    }
    if (item.state !== 'sending') {
      actions.push(C.button('Resend now', 'secondary', { 'data-action': 'resend', 'data-id': item.id }));
      actions.push(C.button('Discard', 'warning', { 'data-action': 'discard', 'data-id': item.id }));
    }
    if (actions.length) content.push(C.el('div', { class: 'nhsuk-button-group app-outbox-item__actions' }, actions));

    return C.el('li', { class: 'nhsuk-card app-outbox-item', id: 'item-' + item.id, 'data-state': item.state },
      C.el('div', { class: 'nhsuk-card__content' }, content));
  }

  /** @param {*} item what its card shows changes only with these */
  function itemSignature(item) {
    return item.id + ':' + item.state + ':' + item.updatedAt;
  }

  function signature(items) {
    return items.map(itemSignature).join('|');
  }

  /**
   * The cards on screen by item id, with the signature each was drawn from. A redraw keeps the
   * cards whose item has not changed and builds only the others: while a long outbox drains,
   * a redraw removes the sent items' cards instead of rebuilding hundreds (issue 16).
   *
   * @type {Object<string, {signature: string, node: Element}>}
   */
  var drawn = {};

  /**
   * Makes `ul` hold exactly the cards of `items`, in order.
   *
   * @param {Element} ul
   * @param {Array<*>} items
   */
  function drawCards(ul, items) {
    var next = {};
    var nodes = items.map(function (item) {
      var sig = itemSignature(item);
      var old = drawn[item.id];
      var node = old && old.signature === sig ? old.node : card(item);
      next[item.id] = { signature: sig, node: node };
      return node;
    });
    Object.keys(drawn).forEach(function (id) {
      var old = drawn[id];
      if (!next[id] || next[id].node !== old.node) old.node.remove();
    });
    drawn = next;
    var at = ul.firstElementChild;
    nodes.forEach(function (node) {
      if (node === at) {
        at = at.nextElementSibling;
      } else {
        ul.insertBefore(node, at);
      }
    });
  }

  /**
   * Cards drawn for a long outbox, until the person asks for all (issue 16, sixth pass): the
   * oldest (sent first) and every item that needs attention, wherever it is in the queue; the
   * rest are counted under the list with a button that draws them. A crew's queue is a handful
   * of items; 1,000 cards (600,000 px at phone width) cost the page while it drains.
   */
  var CARDS_SHOWN = 50;
  var showAll = false;

  /** @param {Array<*>} items in queue order @returns {Array<*>} the items to draw a card for */
  function shownItems(items) {
    if (showAll || items.length <= CARDS_SHOWN) return items;
    return items.filter(function (item, i) {
      return i < CARDS_SHOWN || item.state === 'attention';
    });
  }

  /**
   * "950 more items waiting to be sent are not shown." with a button that draws them, or
   * nothing. Not "And 950 more": the cards needing attention are drawn wherever they are in the
   * queue, so the last card drawn may come after the items not shown.
   *
   * @param {number} hidden @param {number} total
   */
  function moreLine(hidden, total) {
    return C.el('div', { class: 'app-outbox-more', 'data-outbox-more': String(hidden) }, [
      C.el(
        'p',
        {},
        hidden + ' more ' + (hidden === 1 ? 'item' : 'items') + ' waiting to be sent ' + (hidden === 1 ? 'is' : 'are') + ' not shown.'
      ),
      C.button('Show all ' + total + ' items', 'secondary', { 'data-action': 'show-all' }),
    ]);
  }

  /** The latest receipts listed; the rest are counted (all are in /mine). */
  var RECEIPTS_SHOWN = 10;

  /**
   * One sent item: what it was, its reference (as the confirmation showed it), when it was sent,
   * and where to read it.
   *
   * @param {{id: string, kind: string, sentAt: string}} receipt
   */
  function receiptRow(receipt) {
    var reference = String(receipt.id).slice(0, 8).toUpperCase();
    var what = receipt.kind === 'idea' ? 'Idea' : 'Handover note';
    return C.el('li', { 'data-receipt': receipt.id }, [
      C.el('a', { href: '/mine#' + receipt.kind + '-' + receipt.id }, what + ' ' + reference),
      ' sent ',
      C.time(receipt.sentAt),
    ]);
  }

  function render() {
    if (!outbox) return Promise.resolve();
    return Promise.all([outbox.store.listItems(outbox.userId), outbox.store.listReceipts(outbox.userId)]).then(function (found) {
      var items = found[0];
      var receipts = found[1];
      if (loading) loading.hidden = true;
      if (empty) empty.hidden = items.length > 0;
      if (saveCopy) saveCopy.hidden = items.length === 0;
      if (receiptsLine) {
        receiptsLine.hidden = receipts.length === 0;
        receiptsLine.textContent = '';
        if (receipts.length) {
          receiptsLine.appendChild(C.el('h2', { class: 'nhsuk-heading-s' }, 'Sent from this phone'));
          receiptsLine.appendChild(C.el('ul', { class: 'nhsuk-list app-receipt-list' },
            receipts.slice(0, RECEIPTS_SHOWN).map(receiptRow)));
          if (receipts.length > RECEIPTS_SHOWN) {
            receiptsLine.appendChild(C.el('p', { class: 'nhsuk-body-s' },
              'And ' + (receipts.length - RECEIPTS_SHOWN) + ' more. All are in My submissions.'));
          }
        }
      }
      var shown = shownItems(items);
      var hidden = items.length - shown.length;
      // Items without a card change nothing on screen but the count under the list.
      var sig = signature(shown) + '+' + hidden;
      if (sig === lastSignature) return;
      lastSignature = sig;
      var focusedAction = document.activeElement && document.activeElement.getAttribute
        ? document.activeElement.getAttribute('data-action') + ':' + document.activeElement.getAttribute('data-id')
        : null;
      var ul = list.querySelector('ul.app-outbox-list');
      if (!items.length) {
        list.textContent = '';
        drawn = {};
      } else {
        if (!ul) {
          list.textContent = '';
          drawn = {};
          ul = C.el('ul', { class: 'nhsuk-list app-outbox-list' });
          list.appendChild(ul);
        }
        drawCards(ul, shown);
        var more = list.querySelector('[data-outbox-more]');
        if (more) more.remove();
        if (hidden) list.appendChild(moreLine(hidden, items.length));
        if (focusedAction && !list.contains(document.activeElement)) {
          var again = list.querySelector('[data-action="' + focusedAction.split(':')[0] + '"][data-id="' + focusedAction.split(':')[1] + '"]');
          if (again) again.focus();
        }
      }
    });
  }

  /** @param {string} message */
  function say(message) {
    var status = page.querySelector('[data-outbox-message]');
    if (status) status.textContent = message;
  }

  function act(action, id) {
    var store = outbox.store;
    return store.getItem(id).then(function (item) {
      if (!item || item.userId !== String(outbox.userId)) return;
      if (action === 'discard') {
        var what = (KIND_NAMES[item.kind] || 'item').toLowerCase();
        if (!window.confirm('Discard this ' + what + '? It has not been sent to Frontline and will be deleted from this phone.')) return;
        return store.discard(id, outbox.userId).then(function (done) {
          say(done ? 'The ' + what + ' was discarded.' : 'It could not be discarded: it is being sent.');
        });
      }
      if (action === 'resend') {
        return store.resend(id, outbox.userId).then(function () {
          say('Sending…');
          return client.changed().then(function () {
            return client.drainNow(false);
          });
        });
      }
      if (action === 'send-as-new') {
        return store.sendAsNew(id, outbox.userId).then(function () {
          say('It will be sent as a new record.');
          return client.changed().then(function () {
            return client.drainNow(false);
          });
        });
      }
    }).then(function () {
      return client.changed();
    });
  }

  function download() {
    return outbox.store.listItems(outbox.userId).then(function (items) {
      var copy = {
        app: 'Frontline',
        what: 'Items waiting on this phone, not yet confirmed by Frontline',
        savedAt: new Date().toISOString(),
        items: items.map(function (item) {
          return {
            id: item.id,
            kind: item.kind,
            state: item.state,
            createdAt: item.createdAt,
            lastError: item.lastError,
            errors: item.errors,
            data: item.data,
          };
        }),
      };
      var blob = new Blob([JSON.stringify(copy, null, 2)], { type: 'application/json' });
      var url = URL.createObjectURL(blob);
      var link = C.el('a', { href: url, download: 'frontline-outbox-' + new Date().toISOString().slice(0, 10) + '.json', hidden: true });
      document.body.appendChild(link);
      link.click();
      setTimeout(function () {
        URL.revokeObjectURL(url);
        link.remove();
      }, 1000);
    });
  }

  page.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target.closest('[data-action], [data-outbox-save-copy]') : null;
    if (!target || !outbox) return;
    if (target.hasAttribute('data-outbox-save-copy')) {
      event.preventDefault();
      download();
      return;
    }
    var action = target.getAttribute('data-action');
    if (action === 'fix') return; // a link to the form
    event.preventDefault();
    if (action === 'show-all') {
      showAll = true;
      var drawn = {};
      list.querySelectorAll('.app-outbox-item').forEach(function (card) {
        drawn[card.id] = true;
      });
      render().then(function () {
        // The button is gone: focus goes to the first card it drew (not one drawn already, such
        // as an item needing attention further down the queue), not to the top of the page.
        var first = Array.prototype.find.call(list.querySelectorAll('.app-outbox-item'), function (card) {
          return !drawn[card.id];
        });
        if (first) {
          first.setAttribute('tabindex', '-1');
          first.focus();
        }
      });
      return;
    }
    act(action, target.getAttribute('data-id')).catch(function (error) {
      say((error && error.message) || 'That did not work. Try again.');
    });
  });

  // The outbox changes with every batch while sending; redrawing each time made a long drain slow
  // itself down (each redraw reads the whole outbox, and the drain's writes wait for that read).
  // At most one redraw per 500 ms, and per 3 s while a drain is sending (the status line and the
  // count follow each batch meanwhile); the drain's end redraws within 500 ms (issue 16), even
  // when a redraw was already due up to 3 s later (the list showed sent items as "Sending" under
  // "All sent" until then).
  var RENDER_GAP_MS = 500;
  var RENDER_GAP_SENDING_MS = 3000;
  var renderPending = null;
  var renderDue = 0;
  document.addEventListener('frontline:outbox-changed', function (event) {
    var sending = Boolean(event.detail && event.detail.sending);
    var due = Date.now() + (sending ? RENDER_GAP_SENDING_MS : RENDER_GAP_MS);
    if (renderPending) {
      if (due >= renderDue) return;
      clearTimeout(renderPending);
    }
    renderDue = due;
    renderPending = setTimeout(function () {
      renderPending = null;
      render();
    }, due - Date.now());
  });

  client.ready.then(function (ready) {
    if (!ready || !ready.userId) {
      if (loading) loading.hidden = true;
      if (unavailable) unavailable.hidden = false;
      return;
    }
    outbox = ready;
    return render().then(loadNames).then(function () {
      // The partners' names are known now: every card's heading may change. Each card is
      // rebuilt in place by the next redraw, in one step once the outbox has been read: emptying
      // the list first left it empty while that read was under way (a flicker, and a list that
      // read "nothing" to whoever looked at that moment).
      lastSignature = '';
      Object.keys(drawn).forEach(function (id) {
        drawn[id].signature = '';
      });
      return render();
    });
  });
})();
