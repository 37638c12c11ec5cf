/**
 * Frontline page script (classic, deferred; loaded on every page by base.html).
 *
 * For now it only makes sure htmx keeps no page snapshots in localStorage (SPEC §5: with htmx 2,
 * historyCacheSize = 0). The htmx-config meta tag already says so; this is a second line in case
 * a page is served without it.
 *
 * The outbox wiring (IndexedDB queue, the [data-outbox-count] badge, [data-sync-status] progress,
 * the /outbox list and its "Send now" button, fresh record ids per form) comes with the offline
 * work. Until then nothing here pretends to queue or send anything: forms post straight to the
 * server, and the badge shows the server-rendered 0.
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
