/**
 * The manager's desk (classic, deferred; loaded by the queue, idea, handover and home pages).
 *
 * - Opens the filter panel at laptop width (it starts folded, which is what a phone and a
 *   browser without JavaScript get).
 * - On an idea page, shows the Equity Pause only for accept/decline and the duplicate search only
 *   for "duplicate" (without JavaScript both show, each with a hint saying when it is needed).
 * - After any action, moves focus to the confirmation (or the problem) so it is in view on a
 *   phone too: an htmx swap keeps the scroll position, which was down at the button.
 */
(function () {
  'use strict';

  var WIDE = window.matchMedia ? window.matchMedia('(min-width: 64em)') : null;

  function openFilters() {
    if (!WIDE) return;
    document.querySelectorAll('[data-filter-panel]').forEach(function (panel) {
      if (WIDE.matches) panel.open = true;
    });
  }

  /** Shows the parts of the move form that the chosen move needs. */
  function syncMoveForm(form) {
    var chosen = form.querySelector('input[name="to"]:checked');
    var value = chosen ? chosen.value : '';
    form.querySelectorAll('[data-show-for]').forEach(function (part) {
      var wanted = part.getAttribute('data-show-for').split(' ');
      part.hidden = wanted.indexOf(value) < 0;
    });
  }

  function enhance(root) {
    openFilters();
    root.querySelectorAll('form[data-move-form]').forEach(function (form) {
      form.classList.add('app-move-form--enhanced');
      syncMoveForm(form);
      if (form.dataset.moveWired) return;
      form.dataset.moveWired = '1';
      form.addEventListener('change', function (event) {
        if (event.target && event.target.name === 'to') syncMoveForm(form);
      });
    });
  }

  /** The first confirmation or problem in what was swapped in, focused and so scrolled to. */
  function focusOutcome(root) {
    var outcome = root.querySelector('[data-confirmation], .nhsuk-warning-callout');
    if (!outcome) return;
    if (!outcome.hasAttribute('tabindex')) outcome.setAttribute('tabindex', '-1');
    outcome.focus({ preventScroll: true });
    outcome.scrollIntoView({ block: 'start' });
  }

  document.addEventListener('DOMContentLoaded', function () {
    enhance(document);
    // A page loaded after a no-JavaScript post (…?done=moved) shows its confirmation on top.
    var done = document.querySelector('[data-confirmation]');
    if (done && /[?&]done=/.test(window.location.search)) focusOutcome(document);
  });
  if (WIDE && WIDE.addEventListener) WIDE.addEventListener('change', openFilters);

  document.addEventListener('htmx:afterSettle', function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.querySelector) return;
    // An outerHTML swap replaces the target: look at what took its place.
    if (!target.isConnected && target.id) target = document.getElementById(target.id) || target;
    enhance(target);
    // The results of a filter change are not an action: focus stays in the filter form.
    if (target.id === 'queue' || target.id === 'handover-results') {
      if (!target.querySelector('[data-confirmation], .nhsuk-warning-callout')) return;
    }
    if (target.querySelector('.nhsuk-error-summary')) return; // it focuses itself
    focusOutcome(target);
  });
})();
