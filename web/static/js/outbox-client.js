/**
 * The outbox on every page (SPEC §5 O4, O5, O11): how many items wait on this phone, sync
 * progress, and when to send.
 *
 * - Counts: every [data-outbox-count] shows the number of this user's items on the phone;
 *   [data-outbox-noun] says "item" or "items". Kept current across tabs and the worker through a
 *   BroadcastChannel.
 * - [data-sync-status]: "Sending 3 of 12", "Sign in to send 2 items", "1 needs your attention"…
 * - Sending: on page load, `online`, return to the page, a timer while the page is open (every
 *   30 s, sooner when an item's backoff ends), after each submission, and the "Send now" buttons
 *   ([data-send-now], which ignore backoff). Each drain holds the shared lock, so only one sender
 *   runs across tabs and the worker. navigator.onLine is never used to skip a try (O11).
 *
 * The user is the one named by <meta name="frontline-user">: this page lists and sends only their
 * items. Pages without it (sign-in) show the last signed-in user's count, unless they signed out.
 *
 * Exposes window.FrontlineOutboxClient for the form, outbox and sign-out scripts.
 */
(function () {
  'use strict';

  var Outbox = window.FrontlineOutbox;
  var Sync = window.FrontlineSync;
  var Version = window.FrontlineVersion;
  var C = window.FrontlineComponents;

  var CHANNEL_NAME = 'frontline-outbox';
  var SYNC_TAG = 'frontline-outbox';
  /** The timer's longest wait between tries while a page is open. */
  var PERIOD_MS = 30000;
  /** The timer's shortest wait, so a burst of due items cannot spin. */
  var MIN_WAIT_MS = 1000;

  function meta(name) {
    var node = document.querySelector('meta[name="' + name + '"]');
    return node ? node.getAttribute('content') : null;
  }

  var pageUser = meta('frontline-user') || null;
  var offlineCopy = document.documentElement.hasAttribute('data-offline-copy');
  /** The worker's anonymous "You are offline" page, shown in place of a page it has no copy of. */
  var offlineFallback = Boolean(document.querySelector('[data-offline-fallback]'));
  var channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL_NAME) : null;

  var state = {
    /** @type {*} */ store: null,
    /** whose items this page counts: the signed-in user, else the last one (see above) */
    countUser: /** @type {string | null} */ (pageUser),
    /**
     * Whose items this page may send: the signed-in user; on the offline page, the user still
     * signed in on this phone (the page itself names no one). Never anyone who signed out.
     */
    sendUser: /** @type {string | null} */ (pageUser),
    counts: { total: 0, waiting: 0, sending: 0, attention: 0 },
    /** @type {{done: number, total: number, sending: number} | null} */ progress: null,
    /** @type {* | null} */ lastResult: null,
    /** @type {Promise<*> | null} */ running: null,
    forceAgain: false,
    /** a call came while a drain ran: one more runs after it */
    tryAgain: false,
    timer: /** @type {*} */ (null),
    /** while a drain sends: the count when it started, and how many it has acknowledged since */
    drainBase: /** @type {number | null} */ (null),
    drainAcknowledged: 0,
    /**
     * The browser says it has lost its network (the `offline` event) since the last real answer:
     * with nothing queued no try is made to learn it, yet the user is told at once (O7). A hint
     * for what is shown only: nothing is ever skipped for it.
     */
    offlineHint: navigator.onLine === false,
  };

  /* Rendering ------------------------------------------------------------------------------ */

  function plural(n, one, many) {
    return n === 1 ? one : many;
  }

  /**
   * The nodes a render writes to, found in ONE walk of the page: each querySelectorAll walks the
   * whole document, and /outbox with a long queue holds tens of thousands of nodes; five walks
   * on each of a drain's progress reports were ~0.14 s of the page's CPU per 1,000 items sent
   * (issue 16, fourth pass).
   *
   * @returns {{count: Element[], noun: Element[], pronoun: Element[], sendNow: Element[], status: Element[]}}
   */
  function renderTargets() {
    var found = { count: [], noun: [], pronoun: [], sendNow: [], status: [] };
    document
      .querySelectorAll('[data-outbox-count], [data-outbox-noun], [data-outbox-pronoun], [data-send-now], [data-sync-status]')
      .forEach(function (node) {
        if (node.hasAttribute('data-outbox-count')) found.count.push(node);
        if (node.hasAttribute('data-outbox-noun')) found.noun.push(node);
        if (node.hasAttribute('data-outbox-pronoun')) found.pronoun.push(node);
        if (node.hasAttribute('data-send-now')) found.sendNow.push(node);
        if (node.hasAttribute('data-sync-status')) found.status.push(node);
      });
    return found;
  }

  function renderCounts(targets) {
    var at = targets || renderTargets();
    var total = state.counts.total;
    at.count.forEach(function (node) {
      node.textContent = String(total);
    });
    at.noun.forEach(function (node) {
      node.textContent = plural(total, 'item', 'items');
    });
    at.pronoun.forEach(function (node) {
      node.textContent = plural(total, 'it', 'them');
    });
    var canSend = Boolean(state.sendUser) && state.counts.waiting + state.counts.sending > 0;
    at.sendNow.forEach(function (node) {
      node.hidden = !canSend;
      node.disabled = Boolean(state.running);
    });
  }

  /** @returns {Array<Node | string>} */
  function statusParts() {
    var counts = state.counts;
    var result = state.lastResult;
    var parts = [];
    if (state.progress) {
      var upTo = Math.min(state.progress.total, state.progress.done + state.progress.sending);
      parts.push('Sending ' + upTo + ' of ' + state.progress.total);
      return parts;
    }
    if (noSignal()) {
      // O7: offline, a signed-in user is told their items are safe, never asked to sign in.
      parts.push(
        'No signal' +
          (counts.total > 0
            ? ' — ' + counts.total + ' ' + plural(counts.total, 'item', 'items') + ' safe on this phone.'
            : '.')
      );
      if (state.triedToSend && counts.total > 0) {
        parts.push('Not sent: ' + plural(counts.total, 'it', 'they') + ' will be sent when there is signal.');
      }
      return parts;
    }
    if (counts.total > 0 && !state.countUser) {
      parts.push('Kept at sign-out: sent when the person who kept ' + plural(counts.total, 'it', 'them') + ' signs in again.');
      return parts;
    }
    if (counts.total > 0 && (!state.sendUser || (result && result.status === 'signed-out'))) {
      parts.push(
        C.el('a', { href: '/login?next=/outbox', class: 'app-phone-status__action' },
          'Sign in to send ' + counts.total + ' ' + plural(counts.total, 'item', 'items'))
      );
      return parts;
    }
    if (counts.attention > 0) {
      parts.push(
        C.el('a', { href: '/outbox', class: 'app-phone-status__action' },
          counts.attention + ' ' + plural(counts.attention, 'needs', 'need') + ' your attention')
      );
    }
    if (counts.waiting > 0 && result && result.status === 'retry') {
      parts.push('Not sent yet. Frontline will keep trying.');
    } else if (counts.total === 0 && result && result.acknowledged > 0) {
      parts.push('All sent');
    }
    return parts;
  }

  /**
   * The last try got no answer at all (no network, the server unreachable), or this page is a
   * copy the worker served because the network did not answer.
   */
  function noSignal() {
    if (!state.sendUser) return false;
    if (state.offlineHint) return true;
    var result = state.lastResult;
    if (result) return Boolean(result.noSignal) && result.status === 'retry';
    return offlineCopy || offlineFallback;
  }

  function renderStatus(targets) {
    var parts = statusParts();
    (targets || renderTargets()).status.forEach(function (node) {
      var text = parts
        .map(function (p) {
          return typeof p === 'string' ? p : p.textContent;
        })
        .join(' ');
      if (node.getAttribute('data-last') === text) return; // aria-live: announce changes only
      node.setAttribute('data-last', text);
      node.textContent = '';
      parts.forEach(function (part, i) {
        if (i) node.appendChild(document.createTextNode(' '));
        node.appendChild(typeof part === 'string' ? document.createTextNode(part) : part.cloneNode(true));
      });
    });
  }

  /**
   * While a drain sends, the nodes found at its first report are used for the ones after (the
   * status bar and headings are the server's, not redrawn meanwhile); the next render outside a
   * drain looks again.
   */
  var drainTargets = null;

  function render() {
    var targets = state.progress ? drainTargets || (drainTargets = renderTargets()) : renderTargets();
    if (!state.progress) drainTargets = null;
    renderCounts(targets);
    renderStatus(targets);
    document.dispatchEvent(
      new CustomEvent('frontline:outbox-changed', { detail: { counts: state.counts, sending: Boolean(state.progress) } })
    );
  }

  function refresh() {
    if (!state.store) {
      render();
      return Promise.resolve();
    }
    if (!state.countUser) {
      // No one signed in (they signed out): the phone's items all the same, e.g. those kept at
      // the sign-out, so the bar never says "0 waiting" while something is (O5).
      return state.store.countAll().then(function (total) {
        state.counts = { total: total, waiting: total, sending: 0, attention: 0 };
        render();
      });
    }
    return state.store.countItems(state.countUser).then(function (counts) {
      state.counts = counts;
      // During a drain (an item added meanwhile): later progress counts down from this count.
      if (typeof state.drainBase === 'number') state.drainBase = counts.total + state.drainAcknowledged;
      render();
    });
  }

  /**
   * Progress arrives once per batch; counting the outbox each time made a long drain slow down as
   * it went (every count reads every item, and holds up the drain's own writes). While sending,
   * the status line follows each batch ("Sending 300 of 1000") and the count is read again at
   * most every 1.5 s; the drain's end recounts at once (issue 16).
   */
  var REFRESH_GAP_MS = 1500;
  var pendingRefresh = null;
  function refreshSoon() {
    render();
    if (pendingRefresh) return;
    pendingRefresh = setTimeout(function () {
      pendingRefresh = null;
      refresh();
    }, REFRESH_GAP_MS);
  }

  /**
   * A drain's progress for this page's user. From the drain's first report the count follows
   * what the drain says it has acknowledged (deleted) so far, with no read of the outbox; a page
   * that joins a drain midway recounts as above. The drain's end recounts exactly.
   *
   * @param {{done: number, sending: number, acknowledged?: number}} progress
   */
  function onProgress(progress) {
    state.progress = progress.sending ? progress : null;
    if (progress.done === 0 && progress.sending) {
      state.drainBase = state.counts.total;
      state.drainAcknowledged = 0;
    }
    if (typeof state.drainBase === 'number' && typeof progress.acknowledged === 'number') {
      state.drainAcknowledged = progress.acknowledged;
      state.counts = Object.assign({}, state.counts, {
        total: Math.max(0, state.drainBase - progress.acknowledged),
      });
      render();
    } else {
      refreshSoon();
    }
  }

  function broadcast(message) {
    if (channel) channel.postMessage(message);
  }

  /* Sending -------------------------------------------------------------------------------- */

  /**
   * One drain from this page under the shared lock. A call while one runs here waits for it, and
   * one more drain runs after it (forced after "Send now"): the running one may already have
   * failed for want of a signal that has since come back, or listed its items before this one
   * was queued, and the timer would leave them for up to PERIOD_MS.
   *
   * @param {boolean} force ignore backoff
   * @param {boolean} [signalBack] the `online` event: wait for the lock rather than leave the
   *   sending to whoever holds it (another tab or the worker), whose try may have started, and
   *   be failing, before the signal came back
   * @returns {Promise<*>}
   */
  function drainNow(force, signalBack) {
    if (!state.store || !state.sendUser) return Promise.resolve(null);
    if (force) state.triedToSend = true;
    if (state.running) {
      if (force) state.forceAgain = true;
      else state.tryAgain = true;
      return state.running;
    }
    var store = state.store;
    state.running = Sync.withOutboxLock(
      function (renew, lock) {
        return Sync.drain({
          store: store,
          fetch: window.fetch.bind(window),
          force: force,
          onlyUser: state.sendUser,
          // The browser says the network is back: the drain reads and claims while it asks who
          // is signed in (sync.js; nothing is sent before the answer names this page's user).
          signalBack: Boolean(signalBack),
          renew: renew,
          lock: lock,
          onProgress: function (progress) {
            broadcast({ type: 'progress', progress: progress });
            onProgress(progress);
          },
        });
      },
      { locks: navigator.locks, store: store, wait: force || Boolean(signalBack) }
    )
      .then(function (result) {
        state.progress = null;
        state.drainBase = null;
        if (result && result.status !== 'busy' && (result.status !== 'idle' || force)) {
          state.lastResult = result;
        }
        if (result && !result.noSignal) state.triedToSend = false;
        // Any answer from the server (a 401 and a refusal too) shows there is signal.
        if (result && !result.noSignal && result.status !== 'idle' && result.status !== 'busy') {
          state.offlineHint = false;
        }
        if (result && result.signOut === 'ended' && pageUser) {
          // O12: this page belongs to a session that was signed out with no signal and has now
          // been ended; it must not stay on screen.
          window.location.replace('/login');
        }
        broadcast({ type: 'drained', result: result });
        return result;
      })
      .catch(function (error) {
        state.progress = null;
        state.drainBase = null;
        console.error('Frontline: sending the outbox failed', error);
        return null;
      })
      .then(function (result) {
        state.running = null;
        return refresh().then(function () {
          schedule();
          var again = state.forceAgain || state.tryAgain;
          var forced = state.forceAgain;
          state.forceAgain = false;
          state.tryAgain = false;
          return again ? drainNow(forced) : result;
        });
      });
    renderCounts();
    return state.running;
  }

  /** The next timed try: when the earliest backoff ends, but at most PERIOD_MS away. */
  function schedule() {
    if (!state.store || !state.sendUser) return;
    clearTimeout(state.timer);
    state.store.listItems(state.sendUser).then(function (items) {
      var now = Date.now();
      var wait = PERIOD_MS;
      items.forEach(function (item) {
        // Items already due were just tried (or the server could not be reached): the period
        // applies. An item whose backoff ends sooner is tried when it ends.
        if (item.state === 'waiting' && item.nextAttemptAt > now) {
          wait = Math.min(wait, Math.max(MIN_WAIT_MS, item.nextAttemptAt - now));
        }
      });
      clearTimeout(state.timer);
      state.timer = setTimeout(function () {
        drainNow(false);
      }, wait);
    });
  }

  /** Asks the browser to keep our storage under pressure (O6); once per phone is enough. */
  function requestPersistence() {
    if (!navigator.storage || typeof navigator.storage.persist !== 'function') return;
    state.store.getMeta('persist-requested').then(function (asked) {
      if (asked) return;
      return navigator.storage
        .persisted()
        .then(function (persisted) {
          return persisted || navigator.storage.persist();
        })
        .then(function (granted) {
          return state.store.setMeta('persist-requested', { at: new Date().toISOString(), granted: granted });
        });
    }).catch(function () {});
  }

  /** Background Sync where the browser has it: the worker sends even after the tab is closed. */
  function registerBackgroundSync() {
    if (!('serviceWorker' in navigator)) return;
    navigator.serviceWorker.ready
      .then(function (registration) {
        if (registration.sync && typeof registration.sync.register === 'function') {
          return registration.sync.register(SYNC_TAG);
        }
      })
      .catch(function () {});
  }

  /** After a form put an item in the outbox. */
  function afterEnqueue() {
    broadcast({ type: 'changed' });
    requestPersistence();
    registerBackgroundSync();
    return refresh().then(function () {
      return drainNow(false);
    });
  }

  /** After the outbox page changed items (discard, resend, fix). */
  function changed() {
    broadcast({ type: 'changed' });
    return refresh();
  }

  /* Caches of another user ----------------------------------------------------------------- */

  /**
   * Page copies and API data in the caches belong to the user who was signed in when they were
   * stored. When a different user is now signed in (the last one's session ran out instead of
   * signing out), drop them, so the next offline visit cannot show the other user's pages.
   */
  function forgetOtherUsersCopies() {
    if (!pageUser || offlineCopy) return Promise.resolve(false);
    return state.store.getMeta('last-user').then(function (last) {
      var jobs = [];
      if (last !== undefined && last !== pageUser && window.caches) {
        jobs.push(caches.delete(Version.PAGES_CACHE), caches.delete(Version.DATA_CACHE));
      }
      if (last !== pageUser) jobs.push(state.store.setMeta('last-user', pageUser));
      return Promise.all(jobs).then(function () {
        return last !== pageUser;
      });
    });
  }

  /**
   * O7: asks the worker to store this user's copies of every app page and their data, so the app
   * opens with no signal from the first sign-in. `force` right after a sign-in (a new user on
   * this page); otherwise the worker does it at most once a minute. Not from a copy: no signal.
   *
   * @param {boolean} force
   */
  function storeCopies(force) {
    if (!pageUser || offlineCopy || !('serviceWorker' in navigator)) return;
    navigator.serviceWorker.ready
      .then(function (registration) {
        var worker = navigator.serviceWorker.controller || registration.active;
        if (worker) worker.postMessage({ type: 'STORE_USER_COPIES', force: force });
      })
      .catch(function () {});
  }

  /* Start ---------------------------------------------------------------------------------- */

  var ready = (function () {
    if (!Outbox || !Sync || !window.idb || !window.indexedDB) return Promise.resolve(null);
    return Outbox.openOutbox({ idb: window.idb, indexedDB: window.indexedDB })
      .then(function (store) {
        state.store = store;
        return forgetOtherUsersCopies()
          .then(function (newUser) {
            storeCopies(Boolean(newUser));
            if (pageUser) return;
            // A sign-in page: count the last user's items, unless they signed out. The offline
            // page stands in for a signed-in user's page: it may send for them.
            return store.getMeta('last-user').then(function (last) {
              state.countUser = last === undefined ? null : String(last);
              if (offlineFallback) state.sendUser = state.countUser;
            });
          })
          .then(function () {
            if (state.sendUser) return;
            // No one to send for (the sign-in page): still end a sign-out made with no signal
            // as soon as the server answers (O12).
            return Sync.endPendingSignOut(store, window.fetch.bind(window)).catch(function () {});
          })
          .then(function () {
            return { store: store, userId: pageUser, offlineCopy: offlineCopy };
          });
      })
      .catch(function (error) {
        // Private browsing on some browsers has no IndexedDB: forms then post to the server.
        console.error('Frontline: the outbox is not available on this browser', error);
        return null;
      });
  })();

  /** Receipts only reassure ("Sent from this phone: …"); a month of them is plenty. */
  var RECEIPT_DAYS = 30;

  ready.then(function (client) {
    if (!client) return;
    client.store.pruneReceipts(RECEIPT_DAYS * 24 * 60 * 60 * 1000).catch(function () {});
    document.body.classList.add('app-outbox-ready');
    refresh().then(function () {
      drainNow(false);
    });
  });

  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target.closest('[data-send-now]') : null;
    if (!target) return;
    event.preventDefault();
    drainNow(true);
  });

  window.addEventListener('offline', function () {
    state.offlineHint = true;
    render();
  });
  window.addEventListener('online', function () {
    state.offlineHint = false;
    render();
    if (state.store && !state.sendUser) {
      Sync.endPendingSignOut(state.store, window.fetch.bind(window)).catch(function () {});
    }
    // What waits on the phone goes first; the page copies are refreshed once it has been sent,
    // so their requests do not compete with a long outbox's (issue 16).
    drainNow(false, true).then(function () {
      storeCopies(false);
    });
  });
  document.addEventListener('visibilitychange', function () {
    // A tab frozen in the background may have missed `online` or `offline`.
    if (document.visibilityState === 'visible') state.offlineHint = navigator.onLine === false;
    if (document.visibilityState === 'visible') refresh().then(function () {
      drainNow(false);
    });
  });
  window.addEventListener('pageshow', function (event) {
    if (event.persisted) state.offlineHint = navigator.onLine === false; // back from the cache
    if (event.persisted) refresh().then(function () {
      drainNow(false);
    });
  });

  if (channel) {
    channel.addEventListener('message', function (event) {
      var data = event.data || {};
      if (data.type === 'progress' && data.progress && data.progress.userId === state.sendUser) {
        onProgress(data.progress);
        return;
      } else if (data.type === 'drained') {
        state.progress = null;
        state.drainBase = null;
        var result = data.result;
        // A signed-out answer names no user (the server would not say who): it is about this
        // browser's session, which every tab shares, so every page must ask to sign in.
        var mine =
          result &&
          (result.userId === state.sendUser || (!result.userId && (result.status === 'signed-out' || result.noSignal)));
        if (mine && result.status !== 'idle' && result.status !== 'busy') {
          state.lastResult = result;
        }
      }
      if (data.type === 'progress') refreshSoon();
      else refresh();
    });
  }

  window.FrontlineOutboxClient = {
    ready: ready,
    drainNow: drainNow,
    refresh: refresh,
    afterEnqueue: afterEnqueue,
    changed: changed,
    broadcast: broadcast,
    get lastResult() {
      return state.lastResult;
    },
    get counts() {
      return state.counts;
    },
  };
})();
