/**
 * Registers the service worker, and offers a new version when one is waiting.
 *
 * A new worker installs in the background and then waits (it never skips waiting on its own).
 * Every page shows the [data-update-banner] from base.html; its button posts SKIP_WAITING to the
 * waiting worker, and the page reloads once the new worker controls it. Queued items are in
 * IndexedDB, which an update does not touch; drafts are saved as the user types.
 */
(function () {
  'use strict';

  if (!('serviceWorker' in navigator)) return;

  var container = navigator.serviceWorker;
  var banner = document.querySelector('[data-update-banner]');
  var reloadRequested = false;

  /** @param {ServiceWorkerRegistration} registration */
  function offer(registration) {
    if (!banner || !registration.waiting || !container.controller) return;
    banner.hidden = false;
    var button = banner.querySelector('[data-update-reload]');
    if (button && !button.hasAttribute('data-wired')) {
      button.setAttribute('data-wired', '');
      button.addEventListener('click', function () {
        var waiting = registration.waiting;
        if (!waiting) {
          window.location.reload();
          return;
        }
        reloadRequested = true;
        button.disabled = true;
        waiting.postMessage({ type: 'SKIP_WAITING' });
      });
    }
  }

  container.addEventListener('controllerchange', function () {
    if (reloadRequested) {
      reloadRequested = false;
      window.location.reload();
    }
  });

  container
    // updateViaCache "imports": /sw.js itself is always refetched past the HTTP cache; the files
    // it imports are named by content hash (api/static_assets.py), so a new version of any of them
    // is a new URL in /sw.js, and the ones this page has just loaded come from the HTTP cache.
    .register('/sw.js', { scope: '/', updateViaCache: 'imports' })
    .then(function (registration) {
      offer(registration);
      // A page that opened while the first worker was still activating can miss its
      // clients.claim(); ask again, so this page's requests go through the worker from now on.
      container.ready.then(function (ready) {
        if (!container.controller && ready.active) ready.active.postMessage({ type: 'CLAIM' });
      });
      registration.addEventListener('updatefound', function () {
        var installing = registration.installing;
        if (!installing) return;
        installing.addEventListener('statechange', function () {
          if (installing.state === 'installed') offer(registration);
        });
      });
      // Look for a new version when the user comes back to the app.
      document.addEventListener('visibilitychange', function () {
        if (document.visibilityState === 'visible') registration.update().catch(function () {});
      });
    })
    .catch(function (error) {
      console.error('Frontline: the service worker could not be registered', error);
    });
})();
