/**
 * The service worker's version: the one place that names it (docs/offline.md, "Releasing a new
 * version").
 *
 * The shell cache (CSS, scripts, icons, vendor files, the offline page) is named after VERSION and
 * SHELL_DIGEST, so a new version installs into a fresh cache while the old worker keeps serving its
 * own. SHELL_DIGEST is the first 16 hex digits of a sha256 over the precached files;
 * tests/js/version.test.js recomputes it and fails, printing the new value, when a precached file
 * changed without a bump. Changing this file also changes the bytes of a script that sw.js imports,
 * which is what makes browsers install the new worker.
 *
 * Page copies (FrontlineVersion.PAGES_CACHE) and cached API data (DATA_CACHE) are not tied to
 * VERSION: an update must not take away the offline copy of the forms or of /mine. Change their
 * generation suffix only if what is stored in them changes shape.
 *
 * Loads in the worker and in pages as the first part of /sw/outbox-core.bundle.js (caches.js
 * BUNDLES; the digest in that bundle is left out of the digest, as this file is), and in node.
 */
(function (root) {
  'use strict';

  /** Human label of the release: date and a counter. Bump with SHELL_DIGEST. */
  var VERSION = '2026.12.07-51';

  /** sha256 (first 16 hex) of the precached static files; see tests/js/version.test.js. */
  var SHELL_DIGEST = 'a7179ff88a2c0647';

  var CACHE_PREFIX = 'frontline-';

  var api = Object.freeze({
    VERSION: VERSION,
    SHELL_DIGEST: SHELL_DIGEST,
    CACHE_PREFIX: CACHE_PREFIX,
    SHELL_CACHE: CACHE_PREFIX + 'shell-' + VERSION + '-' + SHELL_DIGEST,
    PAGES_CACHE: CACHE_PREFIX + 'pages-v1',
    DATA_CACHE: CACHE_PREFIX + 'data-v1',
  });

  if (root) {
    root.FrontlineVersion = api;
  }
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = api;
  }
})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : undefined);
