/**
 * The record forms with JavaScript (form[data-record-form="idea" | "handover"]): submissions go
 * to the outbox on the phone first, then to the server (SPEC §5 O1, O9).
 *
 * - A fresh record id from the browser when the form opens and after each submission (O9); the
 *   server-rendered hidden id is only for the no-JavaScript path.
 * - Drafts: saved on the phone as the user types, put back when the form opens, cleared on submit
 *   or "Discard draft". A draft keeps its record id, so the same draft sent from two tabs is one
 *   item (the outbox refuses a second item with the same id and content).
 * - Submit: the offline checks (required fields, lengths, NHS numbers in free text) with the NHS
 *   error summary; else the item is written to IndexedDB, and only then the user is told it is
 *   safe on the phone; the form is reset with a new id, and a send is started.
 * - ?fix=<item id> (from /outbox): the form opens with a queued item's data and the server's
 *   messages; sending it replaces that item.
 * - After a submission, one state at a time in place of the form: "Saved on this phone", then,
 *   once the server has acknowledged it, "Sent" with its reference (the first 8 characters of the
 *   id, as the no-JavaScript confirmation shows), and "Log another" to open the form again.
 * - Fields marked data-remember (the handover form's partner and call sign) are remembered per
 *   user on this phone (localStorage "frontline.remember.<user id>", removed at sign-out) and
 *   filled into a fresh form.
 *
 * Without the outbox (no IndexedDB), the form posts to the server as it does with JavaScript off.
 */
(function () {
  'use strict';

  var P = window.FrontlineFormPayload;
  var Outbox = window.FrontlineOutbox;
  var C = window.FrontlineComponents;
  var Guard = window.FrontlinePidGuard;
  var client = window.FrontlineOutboxClient;

  var DRAFT_DELAY_MS = 600;
  var REMEMBER_PREFIX = 'frontline.remember.';
  var NOT_VALUES = ['csrf_token', 'id'];
  var FORMAL_REPORT_HARMS = ['moderate', 'severe', 'death'];

  var userId = (document.querySelector('meta[name="frontline-user"]') || { getAttribute: function () { return null; } })
    .getAttribute('content');
  var forms = document.querySelectorAll('form[data-record-form]');
  if (!forms.length || !userId || !P || !Outbox || !C || !Guard || !client) return;

  /**
   * What the form holds, name → every value (unchecked boxes are absent).
   *
   * @param {HTMLFormElement} form
   * @returns {Object<string, string[]>}
   */
  function collectValues(form) {
    /** @type {Object<string, string[]>} */
    var values = {};
    new FormData(form).forEach(function (value, name) {
      if (NOT_VALUES.indexOf(name) >= 0 || typeof value !== 'string') return;
      (values[name] = values[name] || []).push(value);
    });
    return values;
  }

  /**
   * Puts values back into the form's controls; a name with no value empties its controls.
   *
   * @param {HTMLFormElement} form
   * @param {Object<string, (string | string[])>} values
   */
  function fillForm(form, values) {
    Array.prototype.forEach.call(form.elements, function (control) {
      var name = control.name;
      if (!name || NOT_VALUES.indexOf(name) >= 0) return;
      var raw = values[name];
      var list = raw === undefined ? [] : [].concat(raw).map(String);
      if (control.type === 'checkbox' || control.type === 'radio') {
        control.checked = list.indexOf(control.value) >= 0;
      } else if (control.type !== 'submit' && control.type !== 'button') {
        control.value = list.length ? list[list.length - 1] : '';
      }
    });
  }

  /** @param {Object<string, string[]>} a @param {Object<string, string[]>} b */
  function sameValues(a, b) {
    var keys = Object.keys(a).concat(Object.keys(b));
    return keys.every(function (k) {
      return JSON.stringify(a[k] || []) === JSON.stringify(b[k] || []);
    });
  }

  /** @returns {Object<string, Object<string, string>>} kind -> field -> value */
  function remembered() {
    try {
      return JSON.parse(window.localStorage.getItem(REMEMBER_PREFIX + userId) || '{}') || {};
    } catch (error) {
      return {}; // storage disabled or unreadable: nothing remembered
    }
  }

  /**
   * @param {string} kind
   * @param {Object<string, string>} values
   */
  function remember(kind, values) {
    try {
      var all = remembered();
      all[kind] = values;
      window.localStorage.setItem(REMEMBER_PREFIX + userId, JSON.stringify(all));
    } catch (error) {
      /* storage full or disabled: the next form is simply not pre-filled */
    }
  }

  /** The reference a person reads: as the no-JavaScript confirmation shows it. @param {string} id */
  function referenceOf(id) {
    return String(id).slice(0, 8).toUpperCase();
  }

  /**
   * @param {HTMLFormElement} form
   * @param {{store: *, userId: string} | null} outbox
   */
  function enhance(form, outboxReady) {
    var kind = form.getAttribute('data-record-form');
    var idInput = /** @type {HTMLInputElement} */ (form.elements.namedItem('id'));
    var column = form.closest('.nhsuk-grid-column-two-thirds') || form.parentNode;
    var savedPanel = column.querySelector('[data-saved-panel]');
    var discardButtons = column.querySelectorAll('[data-discard-draft]');
    var fixId = new URLSearchParams(window.location.search).get('fix');
    /** What the form holds untouched; a draft is only worth keeping when it differs. */
    var defaults = {};
    /** @type {* | null} */ var fixing = null;
    /** @type {* | null} */ var store = null;
    var draftReady = false;
    var draftTimer = null;
    var busy = false;
    var lastSavedId = null;
    var notice = null;
    var heading = column.querySelector('h1');
    var logAnother = column.querySelector('[data-log-another]');

    /** The data-remember fields, filled from what this user last sent, where still empty. */
    function fillRemembered() {
      var values = remembered()[kind] || {};
      form.querySelectorAll('[data-remember]').forEach(function (control) {
        var value = values[control.name];
        if (!control.value && typeof value === 'string') {
          control.value = value;
          // A remembered partner that is no longer offered leaves the select empty.
          if (control.value !== value) control.value = '';
        }
      });
    }

    /** @param {Object<string, *>} data */
    function rememberSent(data) {
      var values = {};
      form.querySelectorAll('[data-remember]').forEach(function (control) {
        var value = data[control.name];
        if (typeof value === 'string' && value !== '') values[control.name] = value;
      });
      remember(kind, values);
    }

    function filled() {
      document.dispatchEvent(new CustomEvent('frontline:form-filled', { detail: { kind: kind } }));
    }

    /** A field error inside a closed "More detail" must not be out of sight. */
    function openDetailsWithErrors() {
      form.querySelectorAll('details').forEach(function (details) {
        if (details.querySelector('.nhsuk-form-group--error')) details.open = true;
      });
    }

    function freshId() {
      idInput.value = Outbox.newRecordId();
    }

    /**
     * A page copy from the cache carries the times of when it was stored: the latest allowed time
     * (now + 5 minutes, as the server allows) and the server's "now" as the default. Both are
     * set again from the phone's clock.
     */
    function refreshTimes() {
      var occurred = form.elements.namedItem('occurred_at');
      if (!occurred || occurred.type !== 'datetime-local') return;
      var now = Date.now();
      occurred.max = P.isoToLocalInput(new Date(now + P.FUTURE_TOLERANCE_MS).toISOString());
      if (occurred.defaultValue) {
        occurred.value = P.isoToLocalInput(new Date(now).toISOString());
      }
    }

    function showDiscard(show) {
      discardButtons.forEach(function (button) {
        button.hidden = !show;
      });
    }

    function showNotice(children) {
      if (notice) notice.remove();
      notice = C.el('div', { class: 'nhsuk-inset-text app-form-notice' }, [
        C.el('span', { class: 'nhsuk-u-visually-hidden' }, 'Information: '),
      ].concat(children));
      form.parentNode.insertBefore(notice, form);
    }

    function hideNotice() {
      if (notice) notice.remove();
      notice = null;
    }

    /* Drafts ------------------------------------------------------------------------------- */

    function saveDraft() {
      clearTimeout(draftTimer);
      draftTimer = null;
      if (!draftReady || !store || fixing) return Promise.resolve();
      var values = collectValues(form);
      if (sameValues(values, defaults)) {
        showDiscard(false);
        return store.deleteDraft(userId, kind);
      }
      showDiscard(true);
      return store.saveDraft({ userId: userId, kind: kind, recordId: idInput.value, values: values });
    }

    function scheduleDraft() {
      if (!draftReady || fixing) return;
      clearTimeout(draftTimer);
      draftTimer = setTimeout(saveDraft, DRAFT_DELAY_MS);
    }

    function restoreDraft() {
      // A form opened from the learning library ("Try this in my team") comes filled from the
      // original: an older draft must not write over it (and drop the link to the original).
      var spread = form.elements.namedItem('spread_from');
      if (spread && spread.value) {
        draftReady = true;
        return Promise.resolve();
      }
      return store.getDraft(userId, kind).then(function (draft) {
        if (draft && draft.values) {
          fillForm(form, draft.values);
          filled();
          if (draft.recordId) idInput.value = draft.recordId;
          showDiscard(true);
          showNotice([
            C.el('p', {}, ['We have put back what you were writing on this phone (saved ', C.time(draft.savedAt), ').']),
            C.button('Discard draft', 'secondary', { 'data-discard-draft': '' }),
          ]);
        }
        draftReady = true;
      });
    }

    function discardDraft() {
      if (!window.confirm('Discard what you have written in this form?')) return;
      clearTimeout(draftTimer);
      (store ? store.deleteDraft(userId, kind) : Promise.resolve()).then(function () {
        resetForm();
        hideNotice();
      });
    }

    /* Fix a queued item -------------------------------------------------------------------- */

    function openFix() {
      return store.getItem(fixId).then(function (item) {
        if (!item || item.userId !== String(userId) || item.kind !== kind || item.state !== 'attention') {
          showNotice([C.el('p', {}, 'That item is no longer waiting to be fixed. Check your outbox.'),
            C.el('p', {}, C.el('a', { href: '/outbox' }, 'Go to your outbox'))]);
          return restoreDraft();
        }
        fixing = item;
        fillForm(form, P.dataToValues(item.data));
        filled();
        showNotice([
          C.el('p', {}, 'You are correcting an item from your outbox. When you send it, it replaces the one that needs your attention.'),
          item.lastError ? C.el('p', {}, item.lastError) : null,
        ]);
        if (item.errors && item.errors.length) {
          C.showErrors(form, item.errors);
          openDetailsWithErrors();
        }
      });
    }

    function leaveFix() {
      fixing = null;
      hideNotice();
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, '', window.location.pathname);
      }
      draftReady = true;
    }

    /* Submit ------------------------------------------------------------------------------- */

    function resetForm() {
      form.reset();
      freshId();
      refreshTimes();
      fillRemembered();
      filled();
      defaults = collectValues(form);
      C.clearErrors(form, column);
      showDiscard(false);
    }

    /** The form (and its notices) out of sight while the saved/sent state shows. */
    function showForm(show) {
      form.hidden = !show;
      column.querySelectorAll('.app-form-notice, .nhsuk-inset-text').forEach(function (node) {
        if (!node.closest('[data-saved-panel]')) node.hidden = !show;
      });
    }

    /** @param {Object<string, *>} data */
    function showSaved(data, id) {
      lastSavedId = id;
      if (!savedPanel) return;
      showForm(false);
      savedPanel.hidden = false;
      savedPanel.querySelectorAll('[data-saved-waiting]').forEach(function (n) {
        n.hidden = false;
      });
      savedPanel.querySelectorAll('[data-saved-sent]').forEach(function (n) {
        n.hidden = true;
      });
      savedPanel.querySelectorAll('[data-saved-reference]').forEach(function (n) {
        n.textContent = referenceOf(id);
      });
      var thanks = savedPanel.querySelector('[data-saved-thanks]');
      if (thanks) thanks.hidden = data.note_type !== 'good_practice';
      var formal = savedPanel.querySelector('[data-saved-formal-report]');
      if (formal) formal.hidden = FORMAL_REPORT_HARMS.indexOf(data.harm) < 0;
      // From the top, so the header's count ("1 item waiting on this phone") shows with it.
      savedPanel.focus({ preventScroll: true });
      window.scrollTo(0, 0);
    }

    function hideSaved() {
      if (savedPanel) savedPanel.hidden = true;
      showForm(true);
    }

    /** Once the item is acknowledged, the panel says so. */
    function checkSent() {
      if (!lastSavedId || !store || !savedPanel || savedPanel.hidden) return;
      var id = lastSavedId;
      store.getReceipt(id).then(function (receipt) {
        if (!receipt || id !== lastSavedId) return;
        savedPanel.querySelectorAll('[data-saved-waiting]').forEach(function (n) {
          n.hidden = true;
        });
        savedPanel.querySelectorAll('[data-saved-sent]').forEach(function (n) {
          n.hidden = false;
        });
        // Moves focus to the new state so a screen reader hears "Sent".
        savedPanel.focus({ preventScroll: true });
      });
    }

    function postToServer() {
      HTMLFormElement.prototype.submit.call(form);
    }

    function onSubmit(event) {
      event.preventDefault();
      if (busy) return;
      busy = true;
      clearTimeout(draftTimer);
      outboxReady
        .then(function (outbox) {
          if (!outbox) {
            postToServer();
            return;
          }
          var now = Date.now();
          var data = P.buildPayload(kind, Array.from(new FormData(form)), { nowMs: now });
          if (fixing && fixing.data && fixing.data.created_at) data.created_at = fixing.data.created_at;
          var errors = P.validate(kind, data, { nowMs: now, pidGuard: Guard });
          if (errors.length) {
            hideSaved();
            C.showErrors(form, errors);
            openDetailsWithErrors();
            return saveDraft();
          }
          var input = { id: idInput.value, kind: kind, userId: userId, data: data };
          var write = fixing ? outbox.store.replaceItem(fixing.id, input) : outbox.store.enqueue(input);
          return write.then(function (written) {
            // Stored: now, and only now, tell the user it is safe (O1).
            var item = written && written.item ? written.item : written;
            var wasFixing = Boolean(fixing);
            if (wasFixing) leaveFix();
            hideNotice();
            rememberSent(data);
            resetForm();
            showSaved(data, item.id);
            return (wasFixing ? Promise.resolve() : store.deleteDraft(userId, kind)).then(function () {
              client.afterEnqueue();
            });
          });
        })
        .catch(function (error) {
          console.error('Frontline: could not save the form on this phone', error);
          hideSaved();
          C.showErrors(form, [
            {
              field: '',
              message:
                'This phone could not save it (' + ((error && error.message) || 'storage error') + '). ' +
                'Your answers are still in the form. Try again, or free some space on the phone.',
            },
          ]);
        })
        .then(function () {
          busy = false;
        });
    }

    /* Wiring ------------------------------------------------------------------------------- */

    freshId(); // O9: before anything else, never the id of a page copy
    refreshTimes();
    if (!fixId && !form.querySelector('.nhsuk-form-group--error')) fillRemembered();
    filled();
    defaults = collectValues(form);
    form.addEventListener('submit', onSubmit);
    form.addEventListener('input', scheduleDraft);
    form.addEventListener('change', scheduleDraft);
    column.addEventListener('click', function (event) {
      var target = event.target instanceof Element ? event.target.closest('[data-discard-draft]') : null;
      if (target) {
        event.preventDefault();
        discardDraft();
      }
    });
    if (logAnother) {
      logAnother.addEventListener('click', function () {
        lastSavedId = null;
        hideSaved();
        refreshTimes();
        if (heading) {
          heading.setAttribute('tabindex', '-1');
          heading.focus({ preventScroll: true });
        }
        window.scrollTo(0, 0);
      });
    }
    window.addEventListener('pagehide', function () {
      if (draftTimer) saveDraft();
    });
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'hidden' && draftTimer) saveDraft();
    });
    document.addEventListener('frontline:outbox-changed', checkSent);

    outboxReady.then(function (outbox) {
      if (!outbox) return;
      store = outbox.store;
      return fixId ? openFix() : restoreDraft();
    }).catch(function (error) {
      draftReady = true;
      console.error('Frontline: could not open the draft', error);
    });
  }

  forms.forEach(function (form) {
    enhance(form, client.ready);
  });
})();
