// When the outbox tries again (SPEC §5 O2, O10): exponential backoff with full jitter, Retry-After.
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const Backoff = require('../../service_worker/backoff.js');

describe('backoff', () => {
  it('doubles the ceiling from 2 seconds up to 5 minutes', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 1000].map(Backoff.ceilingMs),
      [2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000, 300000]
    );
  });

  it('draws the delay anywhere from zero up to the ceiling (full jitter)', () => {
    assert.equal(Backoff.backoffDelay(3, () => 0), 0);
    assert.equal(Backoff.backoffDelay(3, () => 0.5), 4000);
    assert.equal(Backoff.backoffDelay(3, () => 0.999999), 7999);
    assert.ok(Backoff.backoffDelay(50, () => 0.999999) < Backoff.CAP_MS);
  });

  it('never gives a negative or oversized delay whatever the random source says', () => {
    assert.equal(Backoff.backoffDelay(1, () => -1), 0);
    assert.equal(Backoff.backoffDelay(1, () => NaN), 0);
    assert.ok(Backoff.backoffDelay(1, () => 5) < 2000);
  });

  it('reads Retry-After in seconds or as an HTTP date', () => {
    const now = Date.UTC(2026, 10, 24, 9, 0, 0);
    assert.equal(Backoff.retryAfterMs('120', now), 120000);
    assert.equal(Backoff.retryAfterMs(' 0 ', now), 0);
    assert.equal(Backoff.retryAfterMs(new Date(now + 90000).toUTCString(), now), 90000);
    assert.equal(Backoff.retryAfterMs(new Date(now - 90000).toUTCString(), now), 0);
  });

  it('ignores an absent or unreadable Retry-After, and caps a huge one at an hour', () => {
    const now = Date.UTC(2026, 10, 24, 9, 0, 0);
    assert.equal(Backoff.retryAfterMs(null, now), null);
    assert.equal(Backoff.retryAfterMs('', now), null);
    assert.equal(Backoff.retryAfterMs('soon', now), null);
    assert.equal(Backoff.retryAfterMs('86400', now), 60 * 60 * 1000);
  });

  it('uses Retry-After instead of the jittered delay when the server gives one', () => {
    assert.equal(Backoff.nextAttemptAt({ attempts: 1, nowMs: 1000, random: () => 0.5, retryAfter: 30000 }), 31000);
    assert.equal(Backoff.nextAttemptAt({ attempts: 1, nowMs: 1000, random: () => 0.5, retryAfter: null }), 2000);
  });
});
