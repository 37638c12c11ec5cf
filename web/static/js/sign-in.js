/**
 * The sign-in page when the worker served its stored copy (after a sign-out with no signal, O12).
 *
 * The copy is anonymous and its CSRF token belongs to no one, so before posting the form fetches
 * the live sign-in page for a fresh token. With no signal it says so and keeps what was typed.
 */
(function () {
  'use strict';

  if (!document.documentElement.hasAttribute('data-offline-copy')) return;
  var form = document.querySelector('form[action="/login"]');
  if (!form) return;
  var C = window.FrontlineComponents;

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    fetch('/login', { credentials: 'same-origin', cache: 'no-store', redirect: 'manual' })
      .then(function (response) {
        if (response.status !== 200) throw new Error('No sign-in page: ' + response.status);
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, 'text/html');
        var fresh = page.querySelector('meta[name="csrf-token"]');
        var field = form.querySelector('input[name="csrf_token"]');
        if (!fresh || !field) throw new Error('No token');
        field.value = fresh.getAttribute('content') || '';
        HTMLFormElement.prototype.submit.call(form);
      })
      .catch(function () {
        var message = 'No signal. You can sign in when there is signal.';
        if (C) C.showErrors(form, [{ field: '', message: message }]);
        else window.alert(message);
      });
  });
})();
