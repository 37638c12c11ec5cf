// A rolling upgrade (SPEC §5 O2, O3, O6, O8): a page of the previous release (2026.12.06-32,
// tests/js/releases/) still open while this release's worker and pages use the same IndexedDB.
// Since the fifth pass of issue 16 a drain keeps the receipts of one answer in one record
// (outbox.js batchReceipt); everything else a drain stores is as it was. What one release writes
// the other must read, clear at sign-out and prune, and an outbox drained partly by each loses
// and duplicates nothing.
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

require('fake-indexeddb/auto');
const { IDBFactory } = require('fake-indexeddb');
const idb = require('idb');

const { FakeServer, clock } = require('./support/offline_world.js');
const New = { outbox: require('../../service_worker/outbox.js'), sync: require('../../service_worker/sync.js') };
const Old = {
  outbox: require('./releases/2026.12.06-32/outbox.js'),
  sync: require('./releases/2026.12.06-32/sync.js'),
};

/** Both releases' stores on one database, as a phone's old page and new worker have it. */
async function phone() {
  const time = clock();
  const factory = new IDBFactory();
  const fresh = await New.outbox.openOutbox({ idb, indexedDB: factory, now: time.now });
  const old = await Old.outbox.openOutbox({ idb, indexedDB: factory, now: time.now });
  await fresh.setMeta(New.outbox.LAST_USER, '1');
  const server = new FakeServer();
  const drainWith = (release, store, extra = {}) =>
    release.sync.drain({ store, fetch: server.fetch, now: time.now, random: () => 0.5, timeoutMs: 5000, onlyUser: null, ...extra });
  const ids = (prefix, n) => Array.from({ length: n }, (_, i) => prefix + String(i).padStart(4, '0'));
  const queue = async (store, list) => {
    for (const id of list) await store.enqueue({ id, kind: 'handover', userId: 1, data: { narrative: 'Secret ' + id } });
  };
  return { time, fresh, old, server, drainWith, ids, queue };
}

describe('a rolling upgrade of the outbox (previous release 2026.12.06-32)', () => {
  it('the previous release\'s page lists each answer\'s record as one well-formed receipt; this release lists every item', async () => {
    const { fresh, old, drainWith, ids, queue } = await phone();
    const list = ids('a', 250);
    await queue(fresh, list);
    assert.equal((await drainWith(New, fresh)).acknowledged, 250);
    const theirs = await old.listReceipts(1);
    assert.equal(theirs.length, 3, 'one record per answer (batches of 100, 100, 50)');
    for (const receipt of theirs) {
      assert.ok(list.includes(receipt.id), 'a receipt of an item that was sent');
      assert.equal(receipt.kind, 'handover');
      assert.equal(receipt.userId, '1');
      assert.equal(receipt.outcome, 'created');
      assert.equal(typeof receipt.sentAt, 'string');
      assert.deepEqual(await old.getReceipt(receipt.id), receipt, 'its own id finds it');
    }
    assert.deepEqual((await fresh.listReceipts(1)).map((r) => r.id).sort(), list);
    for (const id of list) assert.equal((await fresh.getReceipt(id)).outcome, 'created', id);
  });

  it('the previous release\'s sign-out removes every receipt this release wrote, and its prune the old ones', async () => {
    const { time, fresh, old, drainWith, ids, queue } = await phone();
    await queue(fresh, ids('b', 150));
    await drainWith(New, fresh);
    time.advance(31 * 24 * 3600 * 1000);
    await queue(fresh, ids('c', 120));
    await drainWith(New, fresh);
    await old.pruneReceipts(30 * 24 * 3600 * 1000);
    assert.deepEqual((await fresh.listReceipts(1)).map((r) => r.id).sort(), ids('c', 120), 'a month-old answer\'s records pruned whole');
    await old.clearUser(1, { keepItems: true });
    assert.deepEqual(await fresh.listReceipts(1), [], 'nothing of theirs left (O8)');
    for (const id of ids('c', 120)) assert.equal(await fresh.getReceipt(id), undefined, id);
  });

  it('receipts the previous release wrote, one per item, read in this release', async () => {
    const { fresh, old, drainWith, ids, queue } = await phone();
    await queue(old, ids('d', 120));
    assert.equal((await drainWith(Old, old)).acknowledged, 120);
    assert.deepEqual((await fresh.listReceipts(1)).map((r) => r.id).sort(), ids('d', 120));
    for (const id of ids('d', 120)) {
      assert.deepEqual(Object.keys(await fresh.getReceipt(id)).sort(), ['id', 'kind', 'outcome', 'sentAt', 'userId']);
    }
  });

  it('drains by each release in turn, each stopped midway, lose and duplicate nothing', async () => {
    const { time, fresh, old, server, drainWith, ids, queue } = await phone();
    const list = ids('e', 700);
    // Queued by pages of both releases.
    await queue(old, list.slice(0, 350));
    await queue(fresh, list.slice(350));
    // Each drain stops on a lost answer (the server stored the batch, the phone never heard).
    const turns = [New, Old, New, Old, New, Old];
    for (const [n, release] of turns.entries()) {
      server.plan = n % 2 ? ['ok', 'lost'] : ['ok', 'ok', 'lost'];
      await drainWith(release, release === New ? fresh : old, { force: true });
      time.advance(1000);
    }
    server.plan = [];
    await drainWith(New, fresh, { force: true });
    await drainWith(Old, old, { force: true });
    assert.deepEqual(await fresh.listItems(1), [], 'nothing left on the phone');
    for (const id of list) assert.equal(server.created.get(id), 1, id + ' stored once');
    assert.equal(server.records.size, list.length);
    assert.deepEqual(server.overlaps, [], 'no id in two requests at once');
    const receipts = await fresh.listReceipts(1);
    assert.deepEqual(receipts.map((r) => r.id).sort(), list, 'a receipt each, once');
    assert.ok(!JSON.stringify(receipts).includes('Secret'), 'no content in a receipt');
  });
  it('a batch this release claims while /me is asked (the online event) is one the previous release\'s page cannot discard, and put back it can', async () => {
    const { time, fresh, old, server, ids, queue } = await phone();
    const list = ids('g', 150);
    await queue(old, list);
    const [first] = await fresh.listItems(1);
    server.signOut(); // the session ended: /me will answer 401
    let answerMe;
    const held = new Promise((resolve) => (answerMe = resolve));
    let asked;
    const meAsked = new Promise((resolve) => (asked = resolve));
    const fetch = async (url, init) => {
      if (String(url) === '/api/v1/me') {
        asked();
        await held;
      }
      return server.fetch(url, init);
    };
    const drained = New.sync.drain({ store: fresh, fetch, now: time.now, timeoutMs: 5000, onlyUser: '1', signalBack: true });
    await meAsked;
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    // The previous release's page: Discard is refused for an item "sending", as it always was.
    assert.equal(await old.discard(first.id, 1), false, 'claimed: the old page cannot discard it');
    answerMe();
    assert.equal((await drained).status, 'signed-out');
    assert.equal(server.syncRequests().length, 0, 'nothing sent');
    // Put back: the old page can discard it now, and its drain sends the rest once.
    assert.equal(await old.discard(first.id, 1), true);
    server.signIn(1);
    const result = await Old.sync.drain({ store: old, fetch: server.fetch, now: time.now, timeoutMs: 5000, onlyUser: null });
    assert.equal(result.acknowledged, 149);
    for (const id of list) assert.equal(server.created.get(id) || 0, id === first.id ? 0 : 1, id);
    assert.deepEqual(await fresh.listItems(1), []);
  });
});
