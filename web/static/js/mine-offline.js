/**
 * /mine from the phone's copy: when the service worker served the page from its cache
 * (data-offline-copy on <html>, see service_worker/caches.js), say so next to the time the copy
 * was made ([data-mine-updated] holds the <time> of the copy).
 */
(function () {
  'use strict';

  var root = document.documentElement;
  var updated = document.querySelector('[data-mine-updated]');
  if (!updated || !root.hasAttribute('data-offline-copy')) return;

  var when = updated.querySelector('time');
  if (!when && window.FrontlineComponents) {
    var stored = root.getAttribute('data-offline-copy');
    when = stored ? window.FrontlineComponents.time(stored) : null;
  }
  updated.textContent = '';
  updated.appendChild(document.createTextNode('You are offline — this is the copy from '));
  if (when) updated.appendChild(when);
  else updated.appendChild(document.createTextNode('an earlier visit'));
  updated.appendChild(document.createTextNode('. It is updated when you open this page with signal.'));
  updated.classList.add('app-offline-copy');
})();
