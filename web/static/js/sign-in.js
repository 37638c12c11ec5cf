/**
 * The sign-in form, sent only once the server is known to answer: with no signal, pressing
 * "Sign in" would leave the app for the browser's own "No internet" page. So before posting, the
 * form fetches the live sign-in page; with no answer it says "No signal" and keeps what was typed.
 *
 * The fetched page's CSRF token is put in the form: the worker's stored copy (after a sign-out
 * with no signal, O12) is anonymous and its token belongs to no one, and on the server's own page
 * the fresh token is as good as the one it came with.
 */
(function () {
  'use strict';

  var form = document.querySelector('form[action="/login"]');
  if (!form) return;
  var C = window.FrontlineComponents;
  /** A weak signal that never answers must not leave "Sign in" looking dead. */
  var ANSWER_WITHIN_MS = 10000;
  var sending = false;

  /** The live sign-in page, or null when nothing answers in time. */
  function fetchSignInPage() {
    var abort = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = abort ? setTimeout(function () { abort.abort(); }, ANSWER_WITHIN_MS) : null;
    return fetch('/login', {
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'manual',
      signal: abort ? abort.signal : undefined,
    }).then(
      function (response) {
        clearTimeout(timer);
        return response;
      },
      function () {
        clearTimeout(timer);
        return null;
      }
    );
  }

  /**
   * The server sends a signed-in session away from /login: a sign-out made with no signal (O12)
   * whose session the server still holds. It is ended first, as the app does whenever the signal
   * comes back; else this form's token, which belongs to no one, would be refused.
   */
  function endPendingSignOut() {
    var client = window.FrontlineOutboxClient;
    var Sync = window.FrontlineSync;
    if (!client || !Sync) return Promise.resolve();
    return client.ready
      .then(function (ready) {
        return ready && ready.store ? Sync.endPendingSignOut(ready.store, window.fetch.bind(window)) : null;
      })
      .catch(function () {});
  }

  function useToken(response) {
    var field = form.querySelector('input[name="csrf_token"]');
    if (response.status !== 200 || !field) return Promise.resolve();
    return response
      .text()
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('meta[name="csrf-token"]');
        if (fresh) field.value = fresh.getAttribute('content') || '';
      })
      .catch(function () {});
  }

  function noSignal() {
    sending = false;
    var message = 'No signal. You can sign in when there is signal.';
    if (C) C.showErrors(form, [{ field: '', message: message }]);
    else window.alert(message);
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (sending) return; // one sign-in at a time: a second tap while the first waits adds nothing
    sending = true;
    fetchSignInPage()
      .then(function (response) {
        if (!response || response.type !== 'opaqueredirect') return response;
        return endPendingSignOut().then(fetchSignInPage);
      })
      .then(function (response) {
        if (!response) return noSignal();
        // The server answered: the form goes, with the fresh token when the answer has one (any
        // other answer is the server's to explain, to the form as it is).
        return useToken(response).then(function () {
          HTMLFormElement.prototype.submit.call(form);
        });
      });
  });
})();
