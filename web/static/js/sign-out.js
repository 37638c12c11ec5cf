/**
 * Signing out on a shared phone (SPEC §5 O8).
 *
 * On /logout ([data-sign-out-form]): if this user has items waiting, a ticked checkbox offers to
 * keep them ("…and send them when I sign in again"); unticked, the user confirms and they are
 * deleted. Either way this user's drafts and receipts, and the cached copies of their pages and
 * /api/v1/me/submissions, are removed from the phone before the form is sent. Kept items stay
 * under this user's id: no one else who signs in on the phone sees or sends them.
 *
 * The header's "Sign out" button: with items waiting it opens /logout to offer that choice;
 * without, it does the same clean-up and signs out.
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
    // A shared phone: the next person must not get this person's notifications.
    if (window.FrontlinePushOptin) jobs.push(window.FrontlinePushOptin.forget());
    return Promise.all(jobs).then(function () {
      client.broadcast({ type: 'changed' });
    });
  }

  /** @param {HTMLFormElement} form */
  function submit(form) {
    HTMLFormElement.prototype.submit.call(form);
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
              submit(form);
            },
            function (error) {
              console.error('Frontline: clearing this phone at sign-out failed', error);
              submit(form);
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
