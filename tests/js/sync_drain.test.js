// Draining the outbox (SPEC §5 O2, O3, O10, O11; §6 POST /api/v1/sync) against a fake server.
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const { FakeServer, countingOutboxRequests, fakeLocks, freshStore, clock } = require('./support/offline_world.js');
const { drain, withOutboxLock, makeBatches, sendOrder, MESSAGES } = require('../../service_worker/sync.js');
const { LAST_USER } = require('../../service_worker/outbox.js');

async function world(options = {}) {
  const time = clock();
  const store = await freshStore(time.now);
  await store.setMeta(LAST_USER, '1'); // user 1 is signed in on the phone (their page says so)
  const server = new FakeServer();
  const random = options.random || (() => 0.5);
  const run = (extra = {}) =>
    // A generous deadline: on a busy machine the fake server's answer can take a while in real
    // time; the timeout cases set a short one of their own.
    drain({ store, fetch: server.fetch, now: time.now, random, timeoutMs: 5000, onlyUser: null, ...extra });
  const add = async (id, userId = 1, data = { title: 'Idea ' + id }) =>
    (await store.enqueue({ id, kind: 'idea', userId, data })).item;
  return { time, store, server, run, add };
}

describe('draining the outbox', () => {
  it('sends a waiting item with a fresh CSRF token and removes it once created, keeping a receipt', async () => {
    const { store, server, run, add } = await world();
    await add('a');
    const result = await run();
    assert.equal(result.status, 'done');
    assert.equal(result.acknowledged, 1);
    assert.equal(await store.getItem('a'), undefined);
    assert.equal((await store.getReceipt('a')).outcome, 'created');
    const [me, sync] = server.requests;
    assert.equal(me.path, '/api/v1/me');
    assert.equal(me.init.redirect, 'manual');
    assert.equal(sync.path, '/api/v1/sync');
    assert.equal(sync.init.method, 'POST');
    assert.equal(sync.init.credentials, 'same-origin');
    assert.equal(sync.init.redirect, 'manual');
    assert.equal(sync.csrf, 'csrf-1');
    assert.ok(sync.init.signal, 'the request can time out');
    assert.deepEqual(JSON.parse(sync.init.body), { items: [{ kind: 'idea', id: 'a', data: { title: 'Idea a' } }] });
    assert.equal(server.created.get('a'), 1);
  });

  it('treats "duplicate" (stored on an earlier try) as sent, and never stores twice', async () => {
    const { store, server, run, add } = await world();
    await add('a');
    server.plan = ['lost']; // the server stores it, the phone never hears back
    assert.equal((await run()).status, 'retry');
    assert.equal((await store.getItem('a')).attempts, 1);
    const again = await run({ force: true });
    assert.equal(again.acknowledged, 1);
    assert.equal((await store.getReceipt('a')).outcome, 'duplicate');
    assert.equal(server.created.get('a'), 1);
    assert.deepEqual(server.syncRequests().map((r) => r.ids), [['a'], ['a']], 'the same id on every try');
  });

  it('parks a rejected item as needing attention, with the field errors, and does not resend it', async () => {
    const { store, server, run, add } = await world();
    await add('bad', 1, { valid: false });
    const result = await run();
    assert.equal(result.attention, 1);
    const item = await store.getItem('bad');
    assert.equal(item.state, 'attention');
    assert.equal(item.attentionReason, 'rejected');
    assert.deepEqual(item.errors, [{ field: 'title', message: 'Enter a title' }]);
    assert.equal(item.lastError, MESSAGES.rejected);
    await run({ force: true });
    assert.equal(server.syncRequests().length, 1);
  });

  it('parks a conflict, and "send as new" sends the same data under a new id', async () => {
    const { store, server, run, add } = await world();
    server.records.set('taken', { owner: '1', content: '{"title":"something else"}', kind: 'idea' });
    await add('taken', 1, { title: 'mine' });
    await run();
    const parked = await store.getItem('taken');
    assert.equal(parked.state, 'attention');
    assert.equal(parked.attentionReason, 'conflict');
    assert.equal(parked.lastError, MESSAGES.conflict);
    const fresh = await store.sendAsNew('taken', 1);
    const result = await run();
    assert.equal(result.acknowledged, 1);
    assert.equal(server.records.get(fresh.id).content, '{"title":"mine"}');
    assert.equal(await store.getItem('taken'), undefined);
  });

  it('pauses when signed out: nothing sent, nothing changed, until the user signs in', async () => {
    const { store, server, run, add } = await world();
    const before = await add('a');
    server.signOut();
    const result = await run();
    assert.equal(result.status, 'signed-out');
    assert.equal(server.syncRequests().length, 0);
    assert.deepEqual(await store.getItem('a'), before);
    server.signIn(1);
    assert.equal((await run()).acknowledged, 1);
  });

  for (const status of ['401', '403']) {
    it(`keeps every item queued, uncounted, when the sync request answers ${status}`, async () => {
      const { store, server, run, add } = await world();
      await add('a');
      await add('b');
      server.plan = [status];
      const result = await run();
      assert.equal(result.status, 'signed-out');
      for (const id of ['a', 'b']) {
        const item = await store.getItem(id);
        assert.equal(item.state, 'waiting');
        assert.equal(item.attempts, 0);
        assert.equal(item.nextAttemptAt, 0);
      }
    });
  }

  // Each answer that is not a definite answer about the items: keep, count a try, back off.
  const NOT_AN_ANSWER = [
    ['a network error', 'network', 1000, MESSAGES.offline],
    ['a lost response', 'lost', 1000, MESSAGES.offline],
    ['a timeout', 'timeout', 1000, MESSAGES.timeout],
    ['a 500', '500', 1000, MESSAGES.server],
    ['a 502 HTML page', '502-html', 1000, MESSAGES.server],
    ['a 200 HTML page (captive portal)', 'html', 1000, MESSAGES.notAnswer],
    ['a redirect (not followed)', 'redirect', 1000, MESSAGES.notAnswer],
    ['a 302 to the sign-in page', '302', 1000, MESSAGES.notAnswer],
    ['a 429 with Retry-After: 30', '429', 30000, MESSAGES.busy],
    ['a 429 without Retry-After', '429-no-header', 1000, MESSAGES.busy],
    ['a 503 with Retry-After: 120', '503-retry-after', 120000, MESSAGES.server],
    ['a 400', '400', 1000, MESSAGES.server],
    ['results that do not echo the id', 'wrong-ids', 1000, MESSAGES.noResult],
  ];
  for (const [what, step, delay, message] of NOT_AN_ANSWER) {
    it(`backs off after ${what}, keeping the item`, async () => {
      const { time, store, server, run, add } = await world();
      await add('a');
      server.plan = [step];
      const start = time.now();
      const result = await run(step === 'timeout' ? { timeoutMs: 30 } : {});
      assert.equal(result.status, 'retry');
      const item = await store.getItem('a');
      assert.equal(item.state, 'waiting');
      assert.equal(item.attempts, 1);
      assert.equal(item.nextAttemptAt, start + delay);
      assert.equal(item.lastError, message);
    });
  }

  it('a result missing for one item backs off that item only', async () => {
    const { store, server, run, add } = await world();
    await add('a');
    await add('b');
    server.plan = ['partial'];
    const result = await run();
    assert.equal(result.status, 'retry');
    assert.equal(result.acknowledged, 1);
    assert.equal(await store.getItem('a'), undefined);
    assert.equal((await store.getItem('b')).attempts, 1);
  });

  it('grows the delay exponentially with full jitter, capped at five minutes', async () => {
    const { time, store, server, run, add } = await world({ random: () => 0.999 });
    await add('a');
    const delays = [];
    for (let i = 0; i < 10; i++) {
      server.plan = ['500'];
      const start = time.now();
      await run();
      const item = await store.getItem('a');
      delays.push(Math.round((item.nextAttemptAt - start) / 1000));
      time.set(item.nextAttemptAt);
    }
    assert.deepEqual(delays, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
  });

  it('respects the backoff: nothing is sent (nor asked) before it ends, unless "Send now"', async () => {
    const { time, store, server, run, add } = await world();
    await add('a');
    server.plan = ['500'];
    await run();
    const requests = server.requests.length;
    assert.equal((await run()).status, 'idle');
    assert.equal(server.requests.length, requests, 'not even /api/v1/me');
    time.set((await store.getItem('a')).nextAttemptAt);
    assert.equal((await run()).acknowledged, 1);

    await add('b');
    server.plan = ['500'];
    await run();
    assert.equal((await run({ force: true })).acknowledged, 1, '"Send now" ignores the backoff');
  });

  it('asks again only when /api/v1/me is not a real answer (HTML, redirect, network, 500)', async () => {
    for (const step of ['html', 'redirect', 'network', '500']) {
      const { store, server, run, add } = await world();
      const before = await add('a');
      server.mePlan = [step];
      const result = await run();
      assert.equal(result.status, 'retry', step);
      assert.equal(server.syncRequests().length, 0, step);
      assert.deepEqual(await store.getItem('a'), before, step);
    }
  });

  it('sends only the signed-in user\'s items, whatever the page thought', async () => {
    const { store, server, run, add } = await world();
    await add('mine-1', 1);
    await add('theirs-2', 2);
    server.signIn(2);
    const result = await run({ onlyUser: '1' });
    assert.equal(result.userId, '2');
    assert.deepEqual(server.syncRequests().flatMap((r) => r.ids), ['theirs-2']);
    assert.ok(await store.getItem('mine-1'), 'user 1\'s item stays for user 1');
    const owners = { 'mine-1': '1', 'theirs-2': '2' };
    for (const request of server.syncRequests()) {
      for (const id of request.ids) assert.equal(owners[id], request.session);
    }
  });

  it('sends in batches of at most 100, in the order they were queued', async () => {
    const { time, store, server, run, add } = await world();
    const ids = [];
    for (let i = 0; i < 250; i++) {
      const id = 'id-' + String(i).padStart(3, '0');
      ids.push(id);
      await add(id);
      time.advance(1);
    }
    const progress = [];
    const acknowledged = [];
    const result = await run({
      onProgress: (p) => {
        progress.push([p.done, p.sending, p.total]);
        acknowledged.push(p.acknowledged);
      },
    });
    assert.equal(result.acknowledged, 250);
    const batches = server.syncRequests().map((r) => r.ids);
    assert.deepEqual(batches.map((b) => b.length), [100, 100, 50]);
    assert.deepEqual(batches.flat(), ids);
    // One update as each batch goes (two in flight at once: "Sending 200 of 250"), one as each
    // answer is written: the page redraws per batch, not per item.
    assert.deepEqual(progress, [[0, 100, 250], [0, 200, 250], [100, 150, 250], [200, 50, 250], [250, 0, 250]]);
    // What the page counts down by: items deleted so far, never more than were answered.
    assert.equal(acknowledged.at(-1), 250);
    assert.ok(acknowledged.every((n, i) => n <= progress[i][0] && (i === 0 || n >= acknowledged[i - 1])));
    assert.equal((await store.listItems(1)).length, 0);
  });

  it('stops at a failing batch and leaves the later ones untouched', async () => {
    const { time, store, server, run, add } = await world();
    for (let i = 0; i < 250; i++) {
      await add('id-' + String(i).padStart(3, '0'));
      time.advance(1);
    }
    server.plan = ['ok', '500'];
    const result = await run();
    assert.equal(result.status, 'retry');
    const left = await store.listItems(1);
    assert.equal(left.length, 150);
    assert.deepEqual(left.slice(0, 100).map((i) => i.attempts), Array(100).fill(1));
    assert.deepEqual(left.slice(100).map((i) => i.attempts), Array(50).fill(0));
    // The third batch was claimed while the second was in flight, and put back unsent.
    assert.equal(server.syncRequests().length, 2);
    assert.deepEqual(left.map((i) => i.state), Array(150).fill('waiting'));
    assert.deepEqual(left.map((i) => i.sendingSince), Array(150).fill(null));
  });

  it('also keeps batches under the body size limit', () => {
    const items = Array.from({ length: 10 }, (_, i) => ({ id: String(i), kind: 'idea', data: { t: 'x'.repeat(100) } }));
    const batches = makeBatches(items, { maxItems: 100, maxBytes: 400 });
    assert.ok(batches.every((b) => b.length <= 3));
    assert.deepEqual(batches.flat(), items);
    assert.deepEqual(makeBatches([{ id: 'huge', kind: 'idea', data: { t: 'x'.repeat(1000) } }], { maxBytes: 10 }).length, 1);
  });

  it('sends runs of neighbouring keys, the oldest item in the first, as many batches as in queue order (issue 16, fourth pass)', async () => {
    for (const [maxItems, expected] of [
      [2, [['m', 'p'], ['q', 'x'], ['a', 'c']]],
      [3, [['a', 'c', 'm'], ['p', 'q', 'x']]],
      [4, [['m', 'p', 'q', 'x'], ['a', 'c']]],
    ]) {
      const { time, store, server, run, add } = await world();
      // Queued in this order (m the oldest); their keys in another.
      for (const id of ['m', 'c', 'x', 'a', 'p', 'q']) {
        await add(id);
        time.advance(1000);
      }
      const result = await run({ limits: { maxItems } });
      assert.equal(result.acknowledged, 6);
      assert.deepEqual(server.syncRequests().map((r) => r.ids), expected, 'batches of ' + maxItems);
      assert.equal((await store.listItems(1)).length, 0);
    }
  });

  it('starts at the oldest itself when a batch cut short by its bytes would leave it out of the first', () => {
    const item = (id, createdAt, size) => ({ id, kind: 'idea', createdAt, data: { t: 'x'.repeat(size) } });
    // In key order a, c, m, x; from c (one batch of 3 before the wrap), c is too big to share
    // a batch with m.
    const due = [item('m', '1', 10), item('a', '2', 10), item('c', '3', 350), item('x', '4', 10)];
    const batches = sendOrder(due, { maxItems: 3, maxBytes: 400 });
    assert.deepEqual(batches.map((b) => b.map((i) => i.id)), [['m', 'x'], ['a'], ['c']]);
  });

  it('a drain stopped midway still sent the oldest: every item is sent in the end, however often drains stop', async () => {
    const { time, store, server, run, add } = await world();
    for (const id of ['m', 'c', 'x', 'a']) {
      await add(id);
      time.advance(1000);
    }
    // Each drain gets one answer through, then the signal goes.
    const sent = [];
    for (let i = 0; i < 6 && (await store.listItems(1)).length; i++) {
      server.plan = ['ok', 'network'];
      time.advance(600000); // past any backoff
      await run({ limits: { maxItems: 1 }, maxInFlight: 1 });
      sent.push(server.syncRequests().filter((r) => r.step === 'ok').map((r) => r.ids[0]).pop());
    }
    assert.deepEqual(sent, ['m', 'c', 'x', 'a'], 'oldest first, each drain');
    assert.equal((await store.listItems(1)).length, 0);
  });

  it('claims and acknowledges each batch of a long outbox with one read and one delete (issue 16, fourth pass)', async () => {
    const { time, store, run, add } = await world();
    for (let i = 0; i < 500; i++) {
      // Random-looking keys, as crypto.randomUUID makes them.
      await add(((i * 2654435761) % 4294967296).toString(16).padStart(8, '0'));
      time.advance(1);
    }
    const { result, counts } = await countingOutboxRequests(() => run(), ['get', 'getAll', 'delete']);
    assert.equal(result.acknowledged, 500);
    assert.equal((await store.listItems(1)).length, 0);
    // Batches 2 to 5 claimed (4 range reads); 5 answers, each a range read and a range delete.
    assert.deepEqual(counts, { get: 0, getAll: 9, delete: 5 });
  });

  it('parks only the item a 422 names, and sends the others again', async () => {
    const { time, store, server, run, add } = await world();
    await add('a');
    time.advance(1);
    await add('b');
    server.plan = ['422-second'];
    const result = await run();
    assert.equal(result.attention, 1);
    assert.equal((await store.getItem('b')).state, 'attention');
    assert.deepEqual((await store.getItem('b')).errors.map((e) => e.field), ['kind']);
    const a = await store.getItem('a');
    assert.equal(a.state, 'waiting');
    assert.equal(a.attempts, 0);
    assert.equal((await run()).acknowledged, 1);
  });

  it('parks a single item the server finds too large; backs off a larger batch', async () => {
    const { time, store, server, run, add } = await world();
    await add('a');
    server.plan = ['413'];
    await run();
    assert.equal((await store.getItem('a')).attentionReason, 'too-large');
    await add('b');
    time.advance(1);
    await add('c');
    server.plan = ['413'];
    await run();
    assert.equal((await store.getItem('b')).attempts, 1);
    assert.equal((await store.getItem('c')).state, 'waiting');
  });

  it('calls the timers as plain functions, as browsers require ("Illegal invocation")', async () => {
    const { store, server, add, time } = await world();
    await add('a');
    // window.setTimeout throws when called as a method of another object.
    function browserSetTimeout(fn, ms) {
      if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation');
      return setTimeout(fn, ms);
    }
    function browserClearTimeout(id) {
      if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation');
      return clearTimeout(id);
    }
    const result = await drain({ store, fetch: server.fetch, now: time.now, setTimeout: browserSetTimeout, clearTimeout: browserClearTimeout });
    assert.equal(result.acknowledged, 1);
  });

  it('under Web Locks, sends again at once what a closed tab left "sending"', async () => {
    const { store, server, add, time } = await world();
    await add('a');
    await store.markSending(['a']); // the tab navigated away mid-send
    const result = await withOutboxLock(
      (renew, lock) => drain({ store, fetch: server.fetch, now: time.now, onlyUser: '1', renew, lock }),
      { locks: fakeLocks(), store }
    );
    assert.equal(result.acknowledged, 1);
  });

  it('under the lease, frees items a dead sender left "sending" only once they are stale', async () => {
    const { time, store, run, add } = await world();
    await add('a');
    await store.markSending(['a']); // the tab was closed mid-send
    const lease = { exclusive: false };
    assert.equal((await run({ onlyUser: '1', lock: lease })).status, 'idle', 'a live sender may still hold it');
    time.advance(60000);
    assert.equal((await run({ onlyUser: '1', lock: lease })).acknowledged, 1);
  });
});

describe('one sender at a time', () => {
  async function concurrentDrains(lockFor) {
    const { store, server, add, time } = await world();
    for (let i = 0; i < 30; i++) {
      await add('id-' + i);
      time.advance(1);
    }
    server.latencyTicks = 5;
    const runs = Array.from({ length: 6 }, (_, n) =>
      lockFor(store, (renew) => drain({ store, fetch: server.fetch, now: time.now, random: () => 0.5, renew, force: n % 2 === 0, limits: { maxItems: 7 } }))
    );
    await Promise.all(runs);
    return { store, server };
  }

  const LOCKS = {
    'Web Locks': (locks) => (store, fn) => withOutboxLock(fn, { locks, store, wait: true }),
    'the IndexedDB lease': () => (store, fn) => withOutboxLock(fn, { locks: null, store, wait: true, sleep: () => new Promise((r) => setImmediate(r)) }),
    'no lock at all (claiming is atomic)': () => (store, fn) => fn(() => Promise.resolve(true)),
  };
  for (const [name, make] of Object.entries(LOCKS)) {
    it(`never has the same id in flight twice, with ${name}`, async () => {
      const { store, server } = await concurrentDrains(make(fakeLocks()));
      assert.deepEqual(server.overlaps, []);
      const sent = server.syncRequests().flatMap((r) => r.ids);
      assert.equal(new Set(sent).size, sent.length, 'no id sent twice');
      assert.equal(sent.length, 30);
      assert.equal((await store.listItems(1)).length, 0);
    });
  }

  it('under the lease, a suspended sender\'s late answer never deletes another version queued under the id', async () => {
    const { store, server, time, add, run } = await world();
    await add('x', 1, { title: 'version one' });
    let release;
    const gate = new Promise((r) => (release = r));
    let held = false;
    const suspended = async (url, init) => {
      const answer = await server.fetch(url, init);
      if (String(url) === '/api/v1/sync' && !held) {
        held = true;
        await gate; // the tab is suspended with the answer on its way
      }
      return answer;
    };
    const frozen = { setTimeout: () => 0, clearTimeout: () => {} }; // its timers do not fire
    const a = withOutboxLock(
      (renew, lock) => drain({ store, fetch: suspended, now: time.now, random: () => 0.5, renew, lock, ...frozen }),
      { locks: null, store, owner: 'A' }
    );
    while (!held) await server.tick();
    time.advance(61000); // the lease and the "sending" mark are both stale
    server.plan = ['network'];
    const b = await withOutboxLock(
      (renew, lock) => drain({ store, fetch: server.fetch, now: time.now, random: () => 0.5, renew, lock, timeoutMs: 5000 }),
      { locks: null, store, owner: 'B' }
    );
    assert.equal(b.status, 'retry');
    // The user discards it and submits other words under the same id.
    assert.equal(await store.discard('x', 1), true);
    time.advance(1000);
    assert.equal((await store.enqueue({ id: 'x', kind: 'idea', userId: 1, data: { title: 'version two' } })).status, 'queued');
    release();
    await a;
    assert.deepEqual((await store.getItem('x')).data, { title: 'version two' }, 'version two is still on the phone');
    // Sent on its own, it is answered `conflict` (the server holds version one): the user decides.
    time.advance(600000);
    const later = await run();
    assert.equal(later.attention, 1);
    assert.deepEqual([(await store.getItem('x')).state, (await store.getItem('x')).attentionReason], ['attention', 'conflict']);
  });

  it('tells a second sender the outbox is busy instead of waiting, unless asked to wait', async () => {
    for (const locks of [fakeLocks(), null]) {
      const { store } = await world();
      let release;
      const held = withOutboxLock(() => new Promise((r) => (release = r)), { locks, store });
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(await withOutboxLock(async () => 'ran', { locks, store }), { status: 'busy' });
      const waiting = withOutboxLock(async () => 'ran', { locks, store, wait: true, sleep: () => new Promise((r) => setImmediate(r)) });
      release('first');
      assert.equal(await held, 'first');
      assert.equal(await waiting, 'ran');
    }
  });
});

describe('a sign-out made with no signal (O12)', () => {
  const { endPendingSignOut, PENDING_SIGN_OUT } = require('../../service_worker/sync.js');

  it('ends the server session before anything else is sent, once signal returns', async () => {
    const { store, server, run, add } = await world();
    await add('kept');
    await store.setMeta(PENDING_SIGN_OUT, { csrfToken: 'csrf-1', at: 'x' });
    server.logoutPlan = ['network'];
    const offline = await run({ force: true });
    assert.equal(offline.status, 'retry');
    assert.equal(offline.noSignal, true);
    assert.deepEqual(server.requests.map((r) => r.path), ['/logout'], 'nothing else was tried');
    assert.ok(await store.getMeta(PENDING_SIGN_OUT), 'still pending');

    const back = await run({ force: true });
    assert.equal(back.signOut, 'ended');
    assert.equal(server.session, null, 'the session is over');
    const paths = server.requests.map((r) => r.path);
    assert.deepEqual(paths.slice(0, 3), ['/logout', '/logout', '/api/v1/me']);
    assert.equal(back.status, 'signed-out', 'the kept item waits for its user to sign in again');
    assert.equal(server.syncRequests().length, 0);
    assert.equal(await store.getMeta(PENDING_SIGN_OUT), undefined);
    assert.equal((await store.getItem('kept')).state, 'waiting');
  });

  it('cannot end the session of someone who signed in since: their token differs', async () => {
    const { store, server } = await world();
    await store.setMeta(PENDING_SIGN_OUT, { csrfToken: 'csrf-1', at: 'x' });
    server.signIn(2);
    assert.equal(await endPendingSignOut(store, server.fetch), 'ended');
    assert.deepEqual(server.session, { userId: '2', csrf: 'csrf-2' });
    assert.equal(await store.getMeta(PENDING_SIGN_OUT), undefined);
  });

  it('keeps it pending when a Wi-Fi sign-in page answers instead of Frontline', async () => {
    const { store, server } = await world();
    await store.setMeta(PENDING_SIGN_OUT, { csrfToken: 'csrf-1', at: 'x' });
    server.logoutPlan = ['html'];
    assert.equal(await endPendingSignOut(store, server.fetch), 'unreachable');
    assert.ok(await store.getMeta(PENDING_SIGN_OUT));
    assert.equal(await endPendingSignOut(store, server.fetch), 'ended');
  });

  it('asks nothing of the network when there is none pending', async () => {
    const { store, server } = await world();
    assert.equal(await endPendingSignOut(store, server.fetch), 'none');
    assert.equal(server.requests.length, 0);
  });

  it('says "no signal" when the server cannot be reached at all', async () => {
    const { server, run, add } = await world();
    await add('a');
    server.mePlan = ['network'];
    const result = await run();
    assert.equal(result.noSignal, true);
    server.mePlan = ['500'];
    assert.ok(!(await run({ force: true })).noSignal, 'a 5xx is an answer: not "no signal"');
  });
});

/** A world with `n` items queued a millisecond apart, ids 'id-000', 'id-001', … in queue order. */
async function queued(n, options) {
  const w = await world(options);
  const ids = [];
  for (let i = 0; i < n; i++) {
    const id = 'id-' + String(i).padStart(3, '0');
    ids.push(id);
    await w.add(id);
    w.time.advance(1);
  }
  return { ...w, ids };
}

describe('a long outbox (issue 16)', () => {
  /** The fake server's fetch, noting how many sync requests were in flight at once. */
  function counting(server) {
    const seen = { now: 0, most: 0 };
    const fetch = async (url, init) => {
      if (String(url) !== '/api/v1/sync') return server.fetch(url, init);
      seen.now += 1;
      seen.most = Math.max(seen.most, seen.now);
      try {
        return await server.fetch(url, init);
      } finally {
        seen.now -= 1;
      }
    };
    return { fetch, seen };
  }

  /** How many items the phone holds as "sending" each time the server answers a batch. */
  function sendingAtEachAnswer(store, server) {
    const noted = [];
    const judged = server.sync.bind(server);
    server.sync = async (init) => {
      const answer = await judged(init);
      noted.push((await store.countItems(1)).sending);
      return answer;
    };
    return noted;
  }

  it('keeps two requests in flight, in queue order, never more', async () => {
    const { store, server, run, ids } = await queued(450);
    server.latencyTicks = 40; // a slow server: the next batch is claimed and sent before the answer comes
    const { fetch, seen } = counting(server);
    const claimedDuring = sendingAtEachAnswer(store, server);
    const result = await run({ fetch });
    assert.equal(result.acknowledged, 450);
    assert.equal(seen.most, 2, 'two sync requests at once, never three');
    assert.deepEqual(server.syncRequests().flatMap((r) => r.ids), ids);
    // Answering batch 1, the phone holds batches 1 and 2 as "sending"; and so on.
    assert.deepEqual(claimedDuring, [200, 200, 200, 150, 50]);
    assert.equal((await store.listItems(1)).length, 0);
    assert.deepEqual(server.overlaps, []);
  });

  it('with maxInFlight 1, one request at a time, each batch claimed as the answer before it is written', async () => {
    const { store, server, run, ids } = await queued(250);
    server.latencyTicks = 40;
    const { fetch, seen } = counting(server);
    const claimedDuring = sendingAtEachAnswer(store, server);
    const result = await run({ fetch, maxInFlight: 1 });
    assert.equal(result.acknowledged, 250);
    assert.equal(seen.most, 1, 'never two sync requests at once');
    assert.deepEqual(server.syncRequests().flatMap((r) => r.ids), ids);
    assert.deepEqual(claimedDuring, [100, 100, 50]);
  });

  it('a batch that fails midway leaves exactly the unconfirmed items queued', async () => {
    const { store, server, run, ids } = await queued(300);
    server.plan = ['ok', 'ok', 'lost']; // the third batch is stored, its answer never arrives
    const result = await run();
    assert.equal(result.status, 'retry');
    assert.equal(result.acknowledged, 200);
    const left = await store.listItems(1);
    assert.deepEqual(left.map((i) => i.id), ids.slice(200));
    assert.deepEqual(left.map((i) => i.attempts), Array(100).fill(1));
    for (const id of ids.slice(0, 200)) assert.ok(await store.getReceipt(id), id);

    const again = await run({ force: true });
    assert.equal(again.acknowledged, 100);
    assert.deepEqual(
      new Set(ids.slice(200).map((id) => server.records.has(id) && 'duplicate')),
      new Set(['duplicate'])
    );
    assert.equal((await store.getReceipt(ids[250])).outcome, 'duplicate');
    for (const id of ids) assert.equal(server.created.get(id), 1, id + ' stored once');
  });

  it('parks a rejected item and a conflict of a middle batch, and acknowledges every other item', async () => {
    const w = await world();
    const ids = [];
    for (let i = 0; i < 250; i++) {
      const id = 'id-' + String(i).padStart(3, '0');
      ids.push(id);
      await w.add(id, 1, i === 130 ? { valid: false } : { title: 'Idea ' + id });
      w.time.advance(1);
    }
    w.server.records.set(ids[170], { owner: '1', content: '{"title":"something else"}', kind: 'idea' });
    const result = await w.run();
    assert.equal(result.status, 'done');
    assert.equal(result.acknowledged, 248);
    assert.equal(result.attention, 2);
    const left = await w.store.listItems(1);
    assert.deepEqual(left.map((i) => [i.id, i.state, i.attentionReason]), [
      [ids[130], 'attention', 'rejected'],
      [ids[170], 'attention', 'conflict'],
    ]);
  });

  it('a drain that dies after the server stored a batch, before deleting it: sent again, answered duplicate, stored once', async () => {
    const { store, server, ids, time } = await queued(150);
    const settleBatch = store.settleBatch.bind(store);
    store.settleBatch = async () => {
      throw new Error('the tab was closed'); // the answer came, the deletes never happened
    };
    await assert.rejects(drain({ store, fetch: server.fetch, now: time.now, random: () => 0.5 }));
    // The second batch was already on its way: the server finishes it as a real one would.
    while ([...server.inFlight.values()].some(Boolean)) await server.tick();
    for (const id of ids) assert.equal(server.created.get(id), 1);
    assert.ok((await store.listItems(1)).every((i) => i.state === 'sending'), 'left "sending"');
    store.settleBatch = settleBatch;

    // The next drain under Web Locks knows the dead sender is gone and sends them again.
    const result = await withOutboxLock(
      (renew, lock) => drain({ store, fetch: server.fetch, now: time.now, random: () => 0.5, renew, lock }),
      { locks: fakeLocks(), store }
    );
    assert.equal(result.acknowledged, 150);
    assert.equal((await store.listItems(1)).length, 0);
    assert.deepEqual(new Set(ids.map((id) => server.created.get(id))), new Set([1]), 'never stored twice');
    assert.equal((await store.getReceipt(ids[0])).outcome, 'duplicate');
    assert.equal((await store.getReceipt(ids[149])).outcome, 'duplicate');
  });

  it('signed out midway: the answered batch is acknowledged, the rest wait uncounted for the sign-in', async () => {
    const { store, server, run, ids } = await queued(300);
    server.plan = ['ok', '401'];
    const result = await run();
    assert.equal(result.status, 'signed-out');
    assert.equal(result.acknowledged, 100);
    assert.equal(server.syncRequests().length, 2, 'the batch claimed meanwhile was not sent');
    const left = await store.listItems(1);
    assert.deepEqual(left.map((i) => i.id), ids.slice(100));
    assert.ok(left.every((i) => i.state === 'waiting' && i.attempts === 0 && i.nextAttemptAt === 0));
  });

  it('losing the lease midway: the batch in flight is still written, nothing more is sent', async () => {
    const { store, server, run, ids } = await queued(300);
    let renewals = 0;
    const renew = async () => ++renewals < 3;
    const result = await run({ renew });
    assert.equal(result.status, 'lost-lease');
    assert.equal(result.acknowledged, 200);
    assert.equal(server.syncRequests().length, 2);
    const left = await store.listItems(1);
    assert.deepEqual(left.map((i) => [i.id, i.state]), ids.slice(200).map((id) => [id, 'waiting']));
  });

  it('writes each answer and claims the next batch in one read-write transaction', async () => {
    const { store, server, run, ids } = await queued(300);
    const calls = [];
    for (const name of ['startDrain', 'markSending', 'settleBatch', 'acknowledgeMany']) {
      const real = store[name].bind(store);
      store[name] = (...args) => {
        calls.push([name, ...args.filter(Array.isArray).map((list) => list.length)]);
        return real(...args);
      };
    }
    const result = await run();
    assert.equal(result.acknowledged, 300);
    assert.deepEqual(calls, [
      ['startDrain'], // reads what is due and claims batch 1
      ['markSending', 100], // batch 2, while batch 1 is in flight
      ['settleBatch', 100, 100], // answer 1 and batch 3, while batch 2 is in flight
      ['settleBatch', 100, 0], // answer 2, while batch 3 is in flight
      ['settleBatch', 100, 0], // answer 3
    ]);
    assert.deepEqual(server.syncRequests().flatMap((r) => r.ids), ids);
    for (const id of ids) assert.equal((await store.getReceipt(id)).outcome, 'created');
  });

  /**
   * While the server takes the first sync request, user 1 discards `id` and `userId` queues new
   * content under it (one draft submitted from two tabs, or another person on a shared phone).
   */
  function requeuedDuringFirstRequest(store, server, id, userId, data) {
    const judged = server.sync.bind(server);
    let first = true;
    server.sync = async (init) => {
      if (first) {
        first = false;
        assert.equal(await store.discard(id, 1), true);
        await store.enqueue({ id, kind: 'idea', userId, data });
      }
      return judged(init);
    };
  }

  it('an item discarded and queued again under its id mid-drain is sent with what was queued last', async () => {
    const { store, server, run, ids } = await queued(300);
    const later = ids[250]; // in batch 3, still waiting while batch 1 is in flight
    requeuedDuringFirstRequest(store, server, later, 1, { title: 'queued again' });
    const result = await run();
    assert.equal(result.acknowledged, 300);
    assert.equal(server.records.get(later).content, '{"title":"queued again"}');
    assert.equal(server.created.get(later), 1);
  });

  /**
   * A phone-side fetch whose first sync request is held until `release()`; it notes every id the
   * phone has in flight more than once at a time.
   */
  function heldFirstRequest(server) {
    let release;
    const gate = new Promise((resolve) => (release = resolve));
    const inFlight = new Map();
    const twice = new Set();
    let held = false;
    const fetch = async (url, init) => {
      if (String(url) !== '/api/v1/sync') return server.fetch(url, init);
      const sent = JSON.parse(init.body).items.map((i) => i.id);
      for (const id of sent) {
        if (inFlight.get(id)) twice.add(id);
        inFlight.set(id, (inFlight.get(id) || 0) + 1);
      }
      try {
        if (!held) {
          held = true;
          await gate; // a slow network
        } else {
          release(); // another request while the first is held: let both go
        }
        return await server.fetch(url, init);
      } finally {
        for (const id of sent) inFlight.set(id, inFlight.get(id) - 1);
      }
    };
    const busy = () => [...inFlight.values()].some(Boolean);
    return { fetch, twice, busy, release: () => release() };
  }

  it('a write failing while a batch is in flight: the lock is kept until its answer, which is written; a waiting "Send now" never sends it twice', async () => {
    const { store, server, time, ids } = await queued(250);
    const phone = heldFirstRequest(server);
    const markSending = store.markSending.bind(store);
    let failed = false;
    store.markSending = async (...args) => {
      if (!failed) {
        // Claiming batch 2 while batch 1 is in flight fails (a full disk, say). Batch 1's
        // answer comes a little later.
        failed = true;
        (async () => {
          for (let k = 0; k < 50; k++) await new Promise((r) => setImmediate(r));
          phone.release();
        })();
        throw new Error('QuotaExceededError');
      }
      return markSending(...args);
    };
    const locks = fakeLocks();
    let lockedWhileInFlight = false;
    const run = (force) =>
      withOutboxLock(
        (renew, lock) => {
          if (phone.busy()) lockedWhileInFlight = true;
          return drain({ store, fetch: phone.fetch, now: time.now, random: () => 0.5, renew, lock, force, timeoutMs: 5000 });
        },
        { locks, store, wait: force }
      );
    const first = run(false);
    const second = run(true); // "Send now" tapped meanwhile: waits for the lock
    await assert.rejects(first, /QuotaExceededError/);
    const result = await second;
    assert.equal(lockedWhileInFlight, false, 'the lock was not given up with a request in flight');
    assert.deepEqual([...phone.twice], [], 'no id in flight twice');
    assert.deepEqual(server.overlaps, []);
    assert.equal(result.acknowledged, 150, 'batch 1 was written by the first drain, on its own answer');
    for (const id of ids.slice(0, 100)) assert.equal((await store.getReceipt(id)).outcome, 'created', id);
    assert.deepEqual(server.syncRequests().map((r) => r.ids[0]), [ids[0], ids[100], ids[200]]);
    for (const id of ids) assert.equal(server.created.get(id), 1, id + ' stored once');
    assert.equal((await store.listItems(1)).length, 0);
  });

  it('writing an answer failing while the next batch is in flight: that batch\'s answer is still written, the unwritten one sent again', async () => {
    const { store, server, time, ids } = await queued(300);
    const settleBatch = store.settleBatch.bind(store);
    let calls = 0;
    store.settleBatch = async (...args) => {
      calls += 1;
      if (calls === 1) throw new Error('QuotaExceededError'); // answer 1, with batch 2 in flight
      return settleBatch(...args);
    };
    const locks = fakeLocks();
    const run = () =>
      withOutboxLock((renew, lock) => drain({ store, fetch: server.fetch, now: time.now, random: () => 0.5, renew, lock, timeoutMs: 5000 }), { locks, store });
    await assert.rejects(run(), /QuotaExceededError/);
    assert.deepEqual(server.syncRequests().map((r) => r.ids[0]), [ids[0], ids[100]], 'nothing sent after the failure');
    for (const id of ids.slice(100, 200)) assert.equal((await store.getReceipt(id)).outcome, 'created', id);
    const left = await store.listItems(1);
    assert.deepEqual(left.map((i) => [i.id, i.state]), [
      ...ids.slice(0, 100).map((id) => [id, 'sending']), // stored on the server; the phone did not write it
      ...ids.slice(200).map((id) => [id, 'waiting']), // never claimed
    ]);
    const again = await run();
    assert.equal(again.acknowledged, 200);
    assert.equal((await store.getReceipt(ids[0])).outcome, 'duplicate');
    assert.deepEqual(server.overlaps, []);
    for (const id of ids) assert.equal(server.created.get(id), 1, id + ' stored once');
    assert.equal((await store.listItems(1)).length, 0);
  });

  it('an id discarded and queued again by another user mid-drain is never sent as the drain\'s user', async () => {
    const { store, server, run, ids } = await queued(300);
    const later = ids[250]; // in batch 3, still waiting while batch 1 is in flight
    requeuedDuringFirstRequest(store, server, later, 2, { title: 'user 2 wrote this' });
    const result = await run();
    assert.equal(result.acknowledged, 299);
    assert.ok(!server.syncRequests().some((r) => r.ids.includes(later)), 'not in user 1\'s requests');
    assert.equal(server.records.has(later), false);
    const kept = await store.getItem(later);
    assert.deepEqual([kept.userId, kept.state, kept.data], ['2', 'waiting', { title: 'user 2 wrote this' }]);
    server.signIn(2);
    assert.equal((await run()).acknowledged, 1);
    assert.equal(server.records.get(later).owner, '2');
  });

  it('signed out mid-drain keeping the items: no receipt is written for them, the answered items still leave the phone', async () => {
    const { store, server, run } = await queued(300);
    const judged = server.sync.bind(server);
    let n = 0;
    server.sync = async (init) => {
      n += 1;
      if (n === 2) await store.clearUser(1, { keepItems: true }); // while batch 2 is in flight
      return judged(init);
    };
    const result = await run();
    assert.equal(result.acknowledged, 300);
    assert.deepEqual(await store.listReceipts(1), [], 'nothing of theirs left on the phone');
    assert.deepEqual(await store.listItems(1), [], 'the server has every one: none sent again');
  });

  it('backs off a whole failed batch in one go, each item counted once', async () => {
    const { store, server, run } = await queued(100);
    server.plan = ['503-retry-after'];
    const result = await run();
    assert.equal(result.retrying, 100);
    const left = await store.listItems(1);
    assert.ok(left.every((i) => i.attempts === 1 && i.state === 'waiting' && i.lastError === MESSAGES.server));
  });
});

describe('two batches in flight (issue 16, third pass)', () => {

  /**
   * A network the test answers by hand: each sync request waits until `answer(k, step)` lets the
   * fake server take request k (0-based) and answer it as `step` says ('ok', '500', '401', …).
   */
  function byHand(server) {
    const requests = [];
    let open = 0;
    let most = 0;
    const fetch = async (url, init) => {
      if (String(url) !== '/api/v1/sync') return server.fetch(url, init);
      let go;
      const gate = new Promise((resolve) => (go = resolve));
      requests.push({ ids: JSON.parse(init.body).items.map((i) => i.id), go });
      open += 1;
      most = Math.max(most, open);
      try {
        const step = await gate;
        server.plan = [step]; // taken synchronously by the fake server's sync()
        return await server.fetch(url, init);
      } finally {
        open -= 1;
      }
    };
    const ticks = async (n = 200) => {
      for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    /** Waits (a bounded while) until the phone has made `n` sync requests. */
    const sent = async (n) => {
      for (let i = 0; i < 5000 && requests.length < n; i++) await ticks(1);
      assert.equal(requests.length, n, `the phone made ${n} sync requests`);
    };
    const answer = (k, step = 'ok') => requests[k].go(step);
    return { fetch, requests, sent, answer, ticks, most: () => most };
  }

  async function states(store, ids) {
    return Promise.all(ids.map(async (id) => {
      const item = await store.getItem(id);
      return item ? [item.state, item.attempts] : 'gone';
    }));
  }

  it('sends batch 2 before answer 1, and never a third while two are unanswered', async () => {
    const { store, server, run, ids } = await queued(300);
    const net = byHand(server);
    const drained = run({ fetch: net.fetch });
    await net.sent(2);
    await net.ticks();
    assert.equal(net.requests.length, 2, 'no third request while two wait');
    assert.deepEqual(net.requests.map((r) => r.ids), [ids.slice(0, 100), ids.slice(100, 200)]);
    net.answer(0);
    await net.sent(3);
    net.answer(1);
    net.answer(2);
    const result = await drained;
    assert.equal(result.status, 'done');
    assert.equal(result.acknowledged, 300);
    assert.equal(net.most(), 2);
    assert.deepEqual(await store.listItems(1), []);
    for (const id of ids) assert.equal(server.created.get(id), 1, id);
  });

  it('answer 2 before answer 1: nothing of batch 1 leaves the phone until its own answer, then both are written', async () => {
    const { store, server, run, ids } = await queued(300);
    const net = byHand(server);
    const drained = run({ fetch: net.fetch });
    await net.sent(2);
    net.answer(1); // the server answers batch 2 first
    await net.ticks();
    for (const id of ids.slice(0, 100)) {
      const item = await store.getItem(id);
      assert.equal(item && item.state, 'sending', id + ' still on the phone, still being sent');
    }
    net.answer(0);
    await net.sent(3);
    net.answer(2);
    const result = await drained;
    assert.equal(result.acknowledged, 300);
    for (const id of ids) assert.equal((await store.getReceipt(id)).outcome, 'created', id);
    assert.deepEqual(net.requests.flatMap((r) => r.ids), ids, 'sent in queue order');
    for (const id of ids) assert.equal(server.created.get(id), 1, id);
  });

  it('batch 1 fails while batch 2 succeeds: exactly batch 1 backs off, batch 2 is written, nothing more is claimed', async () => {
    const { time, store, server, run, ids } = await queued(500);
    const net = byHand(server);
    const drained = run({ fetch: net.fetch });
    await net.sent(2);
    net.answer(0, '503-retry-after');
    await net.ticks();
    assert.equal((await store.countItems(1)).sending, 100, 'batch 3 not claimed once batch 1 failed');
    net.answer(1);
    const result = await drained;
    assert.equal(result.status, 'retry');
    assert.equal(result.message, MESSAGES.server);
    assert.equal(result.acknowledged, 100);
    assert.equal(result.retrying, 100);
    assert.equal(net.requests.length, 2, 'nothing sent after the failure');
    for (const id of ids.slice(0, 100)) {
      const item = await store.getItem(id);
      assert.deepEqual([item.state, item.attempts, item.nextAttemptAt, item.sendingSince], ['waiting', 1, time.now() + 120000, null], id);
    }
    for (const id of ids.slice(100, 200)) assert.equal((await store.getReceipt(id)).outcome, 'created', id);
    assert.deepEqual(await states(store, ids.slice(100, 200)), Array(100).fill('gone'));
    for (const id of ids.slice(200)) {
      const item = await store.getItem(id);
      assert.deepEqual([item.state, item.attempts, item.nextAttemptAt], ['waiting', 0, 0], id + ' untouched');
    }
  });

  it('batch 2 fails before answer 1 comes: batch 1 is written, batch 2 backs off, batch 3 is never claimed', async () => {
    const { store, server, run, ids } = await queued(500);
    const net = byHand(server);
    const drained = run({ fetch: net.fetch });
    await net.sent(2);
    net.answer(1, 'network');
    await net.ticks();
    net.answer(0);
    const result = await drained;
    assert.equal(result.status, 'retry');
    assert.equal(result.noSignal, true);
    assert.equal(result.acknowledged, 100);
    assert.equal(net.requests.length, 2);
    assert.deepEqual(await states(store, ids.slice(0, 100)), Array(100).fill('gone'));
    assert.deepEqual(await states(store, ids.slice(100, 200)), Array(100).fill(['waiting', 1]));
    assert.deepEqual(await states(store, ids.slice(200)), Array(300).fill(['waiting', 0]));
  });

  it('batch 2 fails after batch 3 was sent: batch 3 is still written, only batch 2 backs off, nothing after', async () => {
    const { time, store, server, run, ids } = await queued(500);
    const net = byHand(server);
    const drained = run({ fetch: net.fetch });
    await net.sent(2);
    net.answer(0);
    await net.sent(3); // answer 1 written, batch 3 on its way
    net.answer(1, '429');
    await net.ticks();
    assert.equal(net.requests.length, 3, 'no fourth request once batch 2 failed');
    net.answer(2);
    const result = await drained;
    assert.equal(result.status, 'retry');
    assert.equal(result.message, MESSAGES.busy);
    assert.equal(result.acknowledged, 200);
    assert.equal(net.requests.length, 3);
    assert.deepEqual(await states(store, ids.slice(0, 100)), Array(100).fill('gone'));
    assert.deepEqual(await states(store, ids.slice(100, 200)), Array(100).fill(['waiting', 1]));
    assert.equal((await store.getItem(ids[100])).nextAttemptAt, time.now() + 30000, 'Retry-After: 30 honoured');
    assert.deepEqual(await states(store, ids.slice(200, 300)), Array(100).fill('gone'));
    assert.deepEqual(await states(store, ids.slice(300)), Array(200).fill(['waiting', 0]));
    for (const id of ids.slice(200, 300)) assert.equal((await store.getReceipt(id)).outcome, 'created', id);
  });

  it('signed out between the two answers: the answered batch leaves the phone, the others wait uncounted, kept for the user', async () => {
    const { store, server, run, ids } = await queued(500);
    const net = byHand(server);
    const drained = run({ fetch: net.fetch });
    await net.sent(2);
    net.answer(0);
    await net.sent(3);
    // The user signs out in another tab, keeping their items: the server session ends.
    await store.clearUser(1, { keepItems: true });
    server.signOut();
    net.answer(1);
    net.answer(2);
    const result = await drained;
    assert.equal(result.status, 'signed-out');
    assert.equal(result.message, MESSAGES.signIn);
    assert.equal(result.acknowledged, 100);
    assert.equal(net.requests.length, 3);
    assert.deepEqual(await store.listReceipts(1), [], 'no receipt left for a user who signed out');
    assert.deepEqual(await states(store, ids.slice(0, 100)), Array(100).fill('gone'));
    assert.deepEqual(await states(store, ids.slice(100)), Array(400).fill(['waiting', 0]));

    server.signIn(1);
    const again = await run();
    assert.equal(again.acknowledged, 400);
    for (const id of ids) assert.equal(server.created.get(id), 1, id + ' stored once');
  });

  it('a 401 for batch 1 while batch 2 succeeds: batch 1 waits uncounted, batch 2 is written', async () => {
    const { store, server, run, ids } = await queued(300);
    const net = byHand(server);
    const drained = run({ fetch: net.fetch });
    await net.sent(2);
    net.answer(0, '401');
    net.answer(1);
    const result = await drained;
    assert.equal(result.status, 'signed-out');
    assert.equal(result.acknowledged, 100);
    assert.equal(net.requests.length, 2);
    assert.deepEqual(await states(store, ids.slice(0, 100)), Array(100).fill(['waiting', 0]));
    assert.deepEqual(await states(store, ids.slice(100, 200)), Array(100).fill('gone'));
    assert.deepEqual(await states(store, ids.slice(200)), Array(100).fill(['waiting', 0]));
  });

  it('the lease lost between them: the lock is held until both answers are written, nothing more is sent', async () => {
    const { store, server, run, ids } = await queued(500);
    const net = byHand(server);
    let renewals = 0;
    const renew = async () => ++renewals <= 2; // drain start and the claim of batch 2
    let finished = false;
    const drained = run({ fetch: net.fetch, renew }).then((result) => {
      finished = true;
      return result;
    });
    await net.sent(2);
    net.answer(0);
    await net.ticks();
    assert.equal(finished, false, 'not finished (the lock not given up) while batch 2 is in flight');
    assert.equal(net.requests.length, 2);
    net.answer(1);
    const result = await drained;
    assert.equal(result.status, 'lost-lease');
    assert.equal(result.acknowledged, 200);
    assert.equal(net.requests.length, 2);
    assert.deepEqual(await states(store, ids.slice(0, 200)), Array(200).fill('gone'));
    assert.deepEqual(await states(store, ids.slice(200)), Array(300).fill(['waiting', 0]));
  });

  it('a "Send now" waiting for the lock starts only once both requests are answered, and never sends an id twice', async () => {
    const { store, server, time, ids } = await queued(300);
    const net = byHand(server);
    const locks = fakeLocks();
    const drainWith = (force) =>
      withOutboxLock(
        (renew, lock) => drain({ store, fetch: net.fetch, now: time.now, random: () => 0.5, renew, lock, force, timeoutMs: 5000 }),
        { locks, store, wait: force }
      );
    const first = drainWith(false);
    await net.sent(2);
    const second = drainWith(true);
    net.answer(1, '500');
    await net.ticks();
    net.answer(0);
    await first;
    await net.sent(3); // the forced drain: batch 2's items again, and batch 3
    assert.deepEqual(net.requests[2].ids, ids.slice(100, 200));
    net.answer(2);
    await net.sent(4);
    net.answer(3);
    const result = await second;
    assert.equal(result.acknowledged, 200);
    assert.deepEqual(server.overlaps, [], 'no id in flight twice');
    for (const id of ids) assert.equal(server.created.get(id), 1, id + ' stored once');
  });

  it('a failed write with two in flight: both answers are waited for before the lock is given up', async () => {
    const { store, server, time, ids } = await queued(400);
    const net = byHand(server);
    const settleBatch = store.settleBatch.bind(store);
    let calls = 0;
    store.settleBatch = async (...args) => {
      calls += 1;
      if (calls === 1) throw new Error('QuotaExceededError'); // writing answer 1
      return settleBatch(...args);
    };
    let finished = false;
    const drained = drain({ store, fetch: net.fetch, now: time.now, random: () => 0.5, timeoutMs: 5000 }).finally(() => {
      finished = true;
    });
    await net.sent(2);
    net.answer(0);
    await net.ticks();
    assert.equal(finished, false, 'still waiting for batch 2');
    net.answer(1);
    await assert.rejects(drained, /QuotaExceededError/);
    assert.equal(net.requests.length, 2);
    assert.deepEqual(await states(store, ids.slice(0, 100)), Array(100).fill(['sending', 0]), 'unwritten: sent again next time');
    assert.deepEqual(await states(store, ids.slice(100, 200)), Array(100).fill('gone'));
    assert.deepEqual(await states(store, ids.slice(200)), Array(200).fill(['waiting', 0]));
  });
});

describe('the start of a drain when the signal comes back (issue 16, sixth pass)', () => {
  /** GET /api/v1/me held until `answer()` is called; `asked` resolves when it has been asked. */
  function heldMe(server) {
    let release;
    let asked;
    const gate = new Promise((resolve) => (release = resolve));
    const seen = new Promise((resolve) => (asked = resolve));
    const fetch = async (url, init) => {
      if (String(url) === '/api/v1/me') {
        asked();
        await gate;
      }
      return server.fetch(url, init);
    };
    return { fetch, seen, answer: () => release() };
  }

  /** Every field of each item that a person or a later drain could tell apart. */
  async function snapshot(store, ids) {
    const out = {};
    for (const id of ids) {
      const item = await store.getItem(id);
      out[id] = item && { state: item.state, attempts: item.attempts, nextAttemptAt: item.nextAttemptAt, lastError: item.lastError, sendingSince: item.sendingSince };
    }
    return out;
  }

  async function queued(add, n, userId = 1) {
    const ids = [];
    for (let i = 0; i < n; i++) ids.push((await add('s' + String(i).padStart(3, '0') + '-' + userId, userId)).id);
    return ids;
  }

  it('reads and claims the first batch while /me is asked, then sends it under that answer', async () => {
    const { store, server, run, add } = await world();
    const ids = await queued(add, 150);
    const me = heldMe(server);
    const drained = run({ fetch: me.fetch, onlyUser: '1', signalBack: true });
    await me.seen;
    // Give the store every chance to run while /me is unanswered.
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    const during = Object.values(await snapshot(store, ids)).filter((item) => item.state === 'sending').length;
    assert.equal(during, 100, 'the first batch is claimed before /me answers');
    assert.equal(server.syncRequests().length, 0, 'nothing is sent before /me answers');
    me.answer();
    const result = await drained;
    assert.equal(result.status, 'done');
    assert.equal(result.acknowledged, 150);
    assert.deepEqual(server.requests.map((r) => r.path).slice(0, 2), ['/api/v1/me', '/api/v1/sync']);
    assert.ok(server.syncRequests().every((r) => r.csrf === 'csrf-1' && r.session === '1'));
    for (const id of ids) assert.equal(server.created.get(id), 1);
  });

  it('without signalBack (a timer, a page load) claims nothing until /me has answered', async () => {
    const { store, server, run, add } = await world();
    const ids = await queued(add, 150);
    const me = heldMe(server);
    const drained = run({ fetch: me.fetch, onlyUser: '1' });
    await me.seen;
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.ok(Object.values(await snapshot(store, ids)).every((item) => item.state === 'waiting'));
    me.answer();
    assert.equal((await drained).acknowledged, 150);
  });

  it('with no signal after all, puts the claimed batch back exactly as it was: unsent, no attempt counted', async () => {
    const { store, server, run, add, time } = await world();
    const ids = await queued(add, 150);
    // Some already tried once, with a message the page shows; due again now.
    await store.backOffMany(ids.slice(0, 30), () => time.now() - 1, 'Not sent yet: earlier');
    const before = await snapshot(store, ids);
    for (const step of ['network', 'html', '500', 'redirect']) {
      server.mePlan = [step];
      const result = await run({ onlyUser: '1', signalBack: true });
      assert.equal(result.status, 'retry', step);
      assert.equal(server.syncRequests().length, 0, step + ': nothing sent');
      const after = await snapshot(store, ids);
      for (const id of ids) {
        const { sendingSince: _was, ...was } = before[id];
        const { sendingSince, ...now } = after[id];
        assert.deepEqual(now, was, step + ': ' + id + ' as it was');
        assert.equal(sendingSince, null, step + ': ' + id + ' not left claimed');
      }
    }
    assert.equal((await run({ onlyUser: '1', signalBack: true })).acknowledged, 150);
  });

  it('signed out: puts the claimed batch back and sends nothing', async () => {
    const { store, server, run, add } = await world();
    const ids = await queued(add, 120);
    server.signOut();
    const result = await run({ onlyUser: '1', signalBack: true });
    assert.equal(result.status, 'signed-out');
    assert.equal(server.syncRequests().length, 0);
    assert.ok(Object.values(await snapshot(store, ids)).every((item) => item.state === 'waiting' && item.attempts === 0));
  });

  it('someone else signed in (a shared phone): the page user\'s claim goes back; only the signed-in user\'s items are sent', async () => {
    const { store, server, run, add } = await world();
    const mine = await queued(add, 120, 1);
    const theirs = await queued(add, 30, 2);
    server.signIn(2);
    const result = await run({ onlyUser: '1', signalBack: true });
    assert.equal(result.status, 'done');
    assert.equal(result.userId, '2');
    assert.equal(result.acknowledged, 30);
    const sent = server.syncRequests().flatMap((r) => r.ids);
    assert.deepEqual(sent.sort(), theirs.slice().sort());
    assert.ok(server.syncRequests().every((r) => r.csrf === 'csrf-2'));
    assert.ok(Object.values(await snapshot(store, mine)).every((item) => item.state === 'waiting' && item.attempts === 0));
  });

  it('a page that dies while /me is asked leaves its claim to the next drain, which sends it once', async () => {
    const { store, server, add, time } = await world();
    const ids = await queued(add, 150);
    // The dying page: /me never answers, the page is gone.
    drain({ store, fetch: (url, init) => (String(url) === '/api/v1/me' ? new Promise(() => {}) : server.fetch(url, init)), now: time.now, onlyUser: '1', signalBack: true, timeoutMs: 60000, setTimeout: (fn, ms) => setTimeout(fn, ms).unref(), clearTimeout }).catch(() => {});
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(Object.values(await snapshot(store, ids)).filter((item) => item.state === 'sending').length, 100);
    // Under Web Locks the browser frees the dead page's lock: its claims are orphans at once.
    const result = await withOutboxLock((renew, lock) => drain({ store, fetch: server.fetch, now: time.now, onlyUser: '1', renew, lock }), { locks: fakeLocks(), store });
    assert.equal(result.acknowledged, 150);
    for (const id of ids) assert.equal(server.created.get(id), 1);
    assert.deepEqual(server.overlaps, []);
  });
});
