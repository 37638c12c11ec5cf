/**
 * Signing out on a shared phone (SPEC §5 O8, O12), with or without signal.
 *
 * On /logout ([data-sign-out-form]): if this user has items waiting, a ticked checkbox offers to
 * keep them ("…and send them when I sign in again"); unticked, the user confirms and they are
 * deleted. Either way this user's drafts and receipts, and the cached copies of their pages and
 * /api/v1/me/submissions, are removed from the phone before the form is sent. Kept items stay
 * under this user's id: no one else who signs in on the phone sees or sends them.
 *
 * The header's "Sign out" button: with items waiting it opens /logout to offer that choice;
 * without, it does the same clean-up and signs out.
 *
 * The phone forgets the user first, then the server is told: a "pending sign-out" (with this
 * session's CSRF token) is written to IndexedDB and sent at once; with no signal it stays and is
 * sent before anything else when signal returns (FrontlineSync.endPendingSignOut, run by every
 * drain and before every navigation by the worker). Either way the sign-in page is shown at once
 * (the worker keeps an anonymous copy of it).
 */
(function () {
  'use strict';

  var client = window.FrontlineOutboxClient;
  var Version = window.FrontlineVersion;
  var userNode = document.querySelector('meta[name="frontline-user"]');
  var userId = userNode ? userNode.getAttribute('content') : null;
  if (!client || !userId) return;

  /** Asks the worker to drop its copies too, and waits a little for it. */
  function tellWorker() {
    if (!('serviceWorker' in navigator) || !navigator.serviceWorker.controller) return Promise.resolve();
    return new Promise(function (resolve) {
      var channel = new MessageChannel();
      var timer = setTimeout(resolve, 1500);
      channel.port1.onmessage = function () {
        clearTimeout(timer);
        resolve();
      };
      navigator.serviceWorker.controller.postMessage({ type: 'CLEAR_USER_CACHES' }, [channel.port2]);
    });
  }

  /**
   * @param {*} store
   * @param {boolean} keepItems
   */
  function forgetUser(store, keepItems) {
    var jobs = [
      store.clearUser(userId, { keepItems: keepItems }),
      store.deleteMeta('last-user'),
      tellWorker(),
    ];
    if (window.caches && Version) {
      jobs.push(caches.delete(Version.PAGES_CACHE), caches.delete(Version.DATA_CACHE));
    }
    // A shared phone: the next person must not get this person's notifications. Bounded: with no
    // signal the push service may never answer, and signing out must not wait for it.
    if (window.FrontlinePushOptin) jobs.push(within(3000, window.FrontlinePushOptin.forget()));
    // The form's remembered partner and call sign (handover-form.js) are this user's too.
    try {
      window.localStorage.removeItem('frontline.remember.' + userId);
    } catch (error) {
      /* storage disabled: nothing was remembered */
    }
    return Promise.all(jobs).then(function () {
      client.broadcast({ type: 'changed' });
    });
  }

  /**
   * @param {number} ms
   * @param {Promise<*>} promise
   */
  function within(ms, promise) {
    return Promise.race([
      promise,
      new Promise(function (resolve) {
        setTimeout(resolve, ms);
      }),
    ]);
  }

  /** Without the outbox (no IndexedDB): the plain form post. @param {HTMLFormElement} form */
  function submit(form) {
    HTMLFormElement.prototype.submit.call(form);
  }

  /**
   * The phone has forgotten the user: now tell the server, or leave it pending for when there is
   * signal (O12), and show the sign-in page either way.
   *
   * @param {*} store
   * @param {HTMLFormElement} form
   */
  function endSession(store, form) {
    var field = form.querySelector('input[name="csrf_token"]');
    var token = field ? field.value : '';
    return store
      .setMeta(window.FrontlineSync.PENDING_SIGN_OUT, { csrfToken: token, at: new Date().toISOString() })
      .then(function () {
        return window.FrontlineSync.endPendingSignOut(store, window.fetch.bind(window), { timeoutMs: 5000 });
      })
      .catch(function (error) {
        console.error('Frontline: telling the server about the sign-out failed', error);
      })
      .then(function () {
        window.location.replace('/login');
      });
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var action = form.getAttribute('action');
    if (action !== '/logout' || (form.method || '').toLowerCase() !== 'post') return;
    event.preventDefault();
    var onLogoutPage = form.hasAttribute('data-sign-out-form');

    client.ready
      .then(function (ready) {
        if (!ready) return submit(form);
        return ready.store.countItems(userId).then(function (counts) {
          if (!onLogoutPage && counts.total > 0) {
            window.location.href = '/logout';
            return;
          }
          var box = form.querySelector('[data-keep-items-input]');
          var keep = counts.total === 0 || !box || box.checked;
          if (!keep) {
            var n = counts.total;
            var sure = window.confirm(
              'Delete ' + n + ' unsent ' + (n === 1 ? 'item' : 'items') + ' from this phone? ' +
                (n === 1 ? 'It has' : 'They have') + ' not reached Frontline and cannot be got back.'
            );
            if (!sure) return;
          }
          return forgetUser(ready.store, keep).then(
            function () {
              return endSession(ready.store, form);
            },
            function (error) {
              console.error('Frontline: clearing this phone at sign-out failed', error);
              return endSession(ready.store, form);
            }
          );
        });
      })
      .catch(function () {
        submit(form);
      });
  });

  // /logout: offer to keep the items, when there are any.
  var keepGroup = document.querySelector('[data-sign-out-form] [data-keep-items]');
  if (keepGroup) {
    client.ready.then(function (ready) {
      if (!ready) return;
      return ready.store.countItems(userId).then(function (counts) {
        keepGroup.hidden = counts.total === 0;
      });
    });
  }
})();
