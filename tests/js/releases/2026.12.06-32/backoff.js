/**
 * When to try again after a send that got no definite answer (SPEC §5 O2, O10): exponential
 * backoff with full jitter, and the server's Retry-After when it gives one.
 *
 * Full jitter (a random delay between 0 and the exponential ceiling) spreads the retries of many
 * phones that lost signal together, so they do not all come back in the same second.
 *
 * Pure functions; loads in the worker, in pages and in node.
 */
(function (root) {
  'use strict';

  /** Ceiling of the first retry's delay. */
  var BASE_MS = 2000;
  /** Ceiling of any retry's delay: five minutes. */
  var CAP_MS = 5 * 60 * 1000;
  /** Longest Retry-After we obey; a longer one is cut to this (nothing waits for days). */
  var MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

  /**
   * The exponential ceiling after `attempts` failed tries: BASE_MS, 2×, 4×… up to CAP_MS.
   *
   * @param {number} attempts failed tries so far, at least 1
   * @returns {number} milliseconds
   */
  function ceilingMs(attempts) {
    var n = Math.max(1, Math.floor(attempts || 1));
    // 2^30 × 2 s is far past the cap; stop the power there so it never overflows.
    return Math.min(CAP_MS, BASE_MS * Math.pow(2, Math.min(n - 1, 30)));
  }

  /**
   * Full-jitter delay after `attempts` failed tries: random in [0, ceiling).
   *
   * @param {number} attempts failed tries so far, at least 1
   * @param {() => number} random a number in [0, 1), e.g. Math.random
   * @returns {number} milliseconds, a whole number
   */
  function backoffDelay(attempts, random) {
    var r = random();
    if (!(r >= 0)) r = 0;
    if (r >= 1) r = 0.999999;
    return Math.floor(r * ceilingMs(attempts));
  }

  /**
   * The delay a Retry-After header asks for: delay-seconds or an HTTP date. Null when absent or
   * unreadable. Never negative, never more than MAX_RETRY_AFTER_MS.
   *
   * @param {string | null | undefined} header
   * @param {number} nowMs
   * @returns {number | null} milliseconds
   */
  function retryAfterMs(header, nowMs) {
    if (header === null || header === undefined) return null;
    var text = String(header).trim();
    if (text === '') return null;
    var ms;
    if (/^\d+$/.test(text)) {
      ms = parseInt(text, 10) * 1000;
    } else {
      var when = Date.parse(text);
      if (isNaN(when)) return null;
      ms = when - nowMs;
    }
    return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
  }

  /**
   * When the next try may happen.
   *
   * @param {{attempts: number, nowMs: number, random: () => number, retryAfter?: number | null}} o
   *   attempts: failed tries including this one; retryAfter: from retryAfterMs
   * @returns {number} epoch milliseconds
   */
  function nextAttemptAt(o) {
    var delay =
      o.retryAfter !== null && o.retryAfter !== undefined
        ? o.retryAfter
        : backoffDelay(o.attempts, o.random);
    return o.nowMs + delay;
  }

  var api = Object.freeze({
    BASE_MS: BASE_MS,
    CAP_MS: CAP_MS,
    MAX_RETRY_AFTER_MS: MAX_RETRY_AFTER_MS,
    ceilingMs: ceilingMs,
    backoffDelay: backoffDelay,
    retryAfterMs: retryAfterMs,
    nextAttemptAt: nextAttemptAt,
  });

  if (root) {
    root.FrontlineBackoff = api;
  }
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = api;
  }
})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : undefined);
