/**
 * iPhone and iPad: suggest "Add to Home Screen" on the home page ([data-install-hint] in
 * base.html). On iOS, a site's storage can be cleared after some days without use unless it is on
 * the Home Screen, and web push works only there, so the outbox is safer installed.
 *
 * Shown only on iOS, outside the installed app, until dismissed. The dismissal is remembered in
 * localStorage under a fixed key with no personal data.
 */
(function () {
  'use strict';

  var KEY = 'frontline.install-hint.dismissed';
  var hint = document.querySelector('[data-install-hint]');
  if (!hint) return;

  var ua = navigator.userAgent || '';
  // iPadOS 13+ reports itself as a Mac; a Mac has no touch screen.
  var isIOS = /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1);
  var standalone =
    navigator.standalone === true ||
    (typeof window.matchMedia === 'function' && window.matchMedia('(display-mode: standalone)').matches);

  function dismissed() {
    try {
      return window.localStorage.getItem(KEY) === '1';
    } catch (error) {
      return false;
    }
  }

  if (!isIOS || standalone || dismissed()) return;
  hint.hidden = false;

  var button = hint.querySelector('[data-install-hint-dismiss]');
  if (button) {
    button.addEventListener('click', function () {
      try {
        window.localStorage.setItem(KEY, '1');
      } catch (error) {
        /* private browsing: it simply shows again next time */
      }
      hint.hidden = true;
    });
  }
})();
