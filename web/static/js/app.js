/**
 * Frontline page script (classic, deferred; loaded on every page by base.html).
 *
 * Makes sure htmx keeps no page snapshots in localStorage (SPEC §5: with htmx 2,
 * historyCacheSize = 0). The htmx-config meta tag already says so; this is a second line in case
 * a page is served without it. Swaps in the managers' panels when they come back with errors.
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

  /*
   * The managers' forms (idea and handover panels) answer 409, 412 and 422 with the panel again,
   * an error summary saying why. htmx 2 swaps no 4xx answer, so the manager saw nothing happen
   * and never learnt what to fix (WCAG 3.3.1). Such an answer is swapped in when it holds what
   * the form selects (hx-select), so a plain error page never replaces a panel with nothing.
   */
  var PANEL_ANSWERS = [409, 412, 422];
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (PANEL_ANSWERS.indexOf(detail.xhr.status) < 0 || !detail.requestConfig) return;
    var source = detail.requestConfig.elt;
    var selecting = source && source.closest ? source.closest("[hx-select]") : null;
    if (!selecting) return;
    var answer = new DOMParser().parseFromString(detail.serverResponse || "", "text/html");
    if (answer.querySelector(selecting.getAttribute("hx-select"))) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });
})();
