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

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var field = form.querySelector('input[name="csrf_token"]');
    fetch('/login', { credentials: 'same-origin', cache: 'no-store', redirect: 'manual' }).then(
      function (response) {
        // The server answered: the form goes, with the fresh token when the answer has one (any
        // other answer is the server's to explain, to the form as it is).
        var read = response.status === 200 ? response.text() : Promise.resolve('');
        return read
          .then(function (html) {
            var fresh = html && new DOMParser().parseFromString(html, 'text/html').querySelector('meta[name="csrf-token"]');
            if (fresh && field) field.value = fresh.getAttribute('content') || '';
          })
          .catch(function () {})
          .then(function () {
            HTMLFormElement.prototype.submit.call(form);
          });
      },
      function () {
        var message = 'No signal. You can sign in when there is signal.';
        if (C) C.showErrors(form, [{ field: '', message: message }]);
        else window.alert(message);
      }
    );
  });
})();
