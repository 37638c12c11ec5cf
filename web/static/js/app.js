/**
 * Frontline page script (classic, deferred; loaded on every page by base.html).
 *
 * Makes sure htmx keeps no page snapshots in localStorage (SPEC §5: with htmx 2,
 * historyCacheSize = 0). The htmx-config meta tag already says so; this is a second line in case
 * a page is served without it.
 *
 * The offline work lives in its own files (docs/offline.md): outbox-client.js (counts, sync
 * status, when to send), record-forms.js, outbox-page.js, sign-out.js, worker-updates.js,
 * install-hint.js, mine-offline.js, and the service worker's modules under /sw/.
 */
(function () {
  "use strict";

  if (window.htmx && window.htmx.config) {
    window.htmx.config.historyCacheSize = 0;
    window.htmx.config.allowEval = false;
    window.htmx.config.allowScriptTags = false;
    window.htmx.config.selfRequestsOnly = true;
  }
})();
