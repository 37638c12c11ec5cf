// The outbox in IndexedDB (SPEC §5 O1, O2, O6, O8, O11), on fake-indexeddb.
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const { countingOutboxRequests, freshStore, clock } = require('./support/offline_world.js');
const { newRecordId, openOutbox, LAST_USER } = require('../../service_worker/outbox.js');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function note(text = 'Patient not ready') {
  return { occurred_at: '2026-11-24T09:00:00+00:00', partner_id: '1', categories: ['patient_not_ready'], narrative: text };
}

/** As the first page of a session records it: `userId` is signed in on this phone. */
function signedIn(store, userId) {
  return store.setMeta(LAST_USER, String(userId));
}

describe('the outbox store', () => {
  it('keeps a submission waiting, under its own id and user', async () => {
    const store = await freshStore();
    const { status, item } = await store.enqueue({ id: 'a1', kind: 'handover', userId: 7, data: note() });
    assert.equal(status, 'queued');
    assert.equal(item.state, 'waiting');
    assert.equal(item.userId, '7');
    assert.equal(item.attempts, 0);
    assert.deepEqual(await store.getItem('a1'), item);
    assert.deepEqual(await store.countItems(7), { total: 1, waiting: 1, sending: 0, attention: 0 });
  });

  it('makes one item of a double tap (same id, same content)', async () => {
    const store = await freshStore();
    await store.enqueue({ id: 'a1', kind: 'handover', userId: 1, data: { ...note(), created_at: 'first tap' } });
    const again = await store.enqueue({ id: 'a1', kind: 'handover', userId: 1, data: { ...note(), created_at: 'second tap' } });
    assert.equal(again.status, 'already-queued');
    assert.equal((await store.listItems(1)).length, 1);
  });

  it('keeps both when one draft was sent from two tabs after different edits', async () => {
    const store = await freshStore();
    await store.enqueue({ id: 'a1', kind: 'handover', userId: 1, data: note('first wording') });
    const second = await store.enqueue({ id: 'a1', kind: 'handover', userId: 1, data: note('second wording') });
    assert.equal(second.status, 'queued-new-id');
    assert.notEqual(second.item.id, 'a1');
    assert.deepEqual((await store.listItems(1)).map((i) => i.data.narrative).sort(), ['first wording', 'second wording']);
  });

  it('lists and counts only the given user\'s items, oldest first', async () => {
    const time = clock();
    const store = await freshStore(time.now);
    await store.enqueue({ id: 'b', kind: 'idea', userId: 1, data: { title: 'later' } });
    time.advance(-1000);
    await store.enqueue({ id: 'a', kind: 'idea', userId: 1, data: { title: 'earlier' } });
    await store.enqueue({ id: 'z', kind: 'idea', userId: 2, data: { title: 'someone else' } });
    assert.deepEqual((await store.listItems(1)).map((i) => i.id), ['a', 'b']);
    assert.deepEqual((await store.listItems(2)).map((i) => i.id), ['z']);
    assert.equal((await store.countItems('1')).total, 2);
    // With no one signed in, a page counts the phone's items, whoever kept them (never lists them).
    assert.equal(await store.countAll(), 3);
    await store.clearUser(1, { keepItems: false });
    assert.equal(await store.countAll(), 1);
  });

  it('claims a waiting item for sending only once', async () => {
    const store = await freshStore();
    await store.enqueue({ id: 'a', kind: 'idea', userId: 1, data: {} });
    const [first, second] = await Promise.all([store.markSending(['a']), store.markSending(['a'])]);
    assert.equal(first.length + second.length, 1);
    assert.equal((await store.getItem('a')).state, 'sending');
  });

  it('removes an acknowledged item and keeps a receipt without its content', async () => {
    const store = await freshStore();
    await store.enqueue({ id: 'a', kind: 'idea', userId: 1, data: { title: 'Secret wording' } });
    assert.equal(await store.acknowledge('a', 'created'), true);
    assert.equal(await store.getItem('a'), undefined);
    const receipt = await store.getReceipt('a');
    assert.deepEqual(Object.keys(receipt).sort(), ['id', 'kind', 'outcome', 'sentAt', 'userId']);
    assert.equal(receipt.outcome, 'created');
    assert.ok(!JSON.stringify(receipt).includes('Secret'));
  });

  it('puts items left "sending" by a dead sender back to waiting, but not a live one\'s', async () => {
    const time = clock();
    const store = await freshStore(time.now);
    await store.enqueue({ id: 'a', kind: 'idea', userId: 1, data: {} });
    await store.markSending(['a']);
    assert.equal((await store.resetStaleSending(1, 60000)).length, 0);
    time.advance(60000);
    assert.equal((await store.resetStaleSending(1, 60000)).length, 1);
    assert.equal((await store.getItem('a')).state, 'waiting');
  });

  it('starts a drain in one step: stale "sending" items back to waiting, then what is due, in queue order', async () => {
    const time = clock();
    const store = await freshStore(time.now);
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      await store.enqueue({ id, kind: 'idea', userId: 1, data: { title: id } });
      time.advance(1);
    }
    await store.enqueue({ id: 'theirs', kind: 'idea', userId: 2, data: { title: 'x' } });
    await store.markSending(['a']); // a sender that died
    time.advance(60000);
    await store.markSending(['b']); // a live sender's
    await store.backOff('c', () => time.now() + 5000, 'Not sent yet');
    await store.markAttention('d', 'rejected', [], 'Check');
    const due = await store.startDrain(1, time.now(), false, 60000);
    assert.deepEqual(due.map((i) => i.id), ['a', 'e']);
    assert.equal((await store.getItem('a')).state, 'waiting');
    assert.equal((await store.getItem('a')).sendingSince, null);
    assert.equal((await store.getItem('b')).state, 'sending', 'a live sender keeps its batch');
    const forced = await store.startDrain(1, time.now(), true, 60000);
    assert.deepEqual(forced.map((i) => i.id), ['a', 'c', 'e'], '"Send now" ignores the backoff, never attention');
  });

  it('says whether a drain has anything to do, reading the outbox once', async () => {
    const time = clock();
    const store = await freshStore(time.now);
    assert.equal(await store.hasWork(null, time.now(), false, 60000), false);
    await store.enqueue({ id: 'a', kind: 'idea', userId: 1, data: {} });
    await store.backOff('a', () => time.now() + 5000, 'Not sent yet');
    assert.equal(await store.hasWork(null, time.now(), false, 60000), false, 'backing off');
    assert.equal(await store.hasWork(null, time.now(), true, 60000), true, '"Send now"');
    assert.equal(await store.hasWork('2', time.now(), true, 60000), false, 'another user has nothing');
    await store.markSending(['a']);
    assert.equal(await store.hasWork('1', time.now(), true, 60000), false, 'being sent by a live sender');
    assert.equal(await store.hasWork('1', time.now(), false, 0), true, 'left by a dead sender');
  });

  it('acknowledges a batch in one go, keeping receipts only for items still there', async () => {
    const store = await freshStore();
    await signedIn(store, 1);
    for (const id of ['a', 'b', 'c']) await store.enqueue({ id, kind: 'handover', userId: 1, data: note(id) });
    await store.markSending(['a', 'b', 'c']);
    await store.clearUser(1, { keepItems: false }); // signed out without keeping them, mid-send
    await signedIn(store, 1); // and in again
    await store.enqueue({ id: 'd', kind: 'handover', userId: 1, data: note('d') });
    await store.enqueue({ id: 'e', kind: 'idea', userId: 2, data: { title: 'e' } });
    await store.markSending(['d', 'e']);
    const removed = await store.acknowledgeMany([
      { id: 'a', outcome: 'created', kind: 'handover', userId: '1' },
      { id: 'd', outcome: 'duplicate', kind: 'handover', userId: '1' },
      { id: 'e', outcome: 'created' }, // without kind and user: read from the item
    ]);
    assert.equal(removed, 2);
    assert.equal(await store.getReceipt('a'), undefined, 'no receipt for an item no longer held');
    assert.deepEqual(await store.getItem('d'), undefined);
    const d = await store.getReceipt('d');
    assert.deepEqual([d.kind, d.userId, d.outcome], ['handover', '1', 'duplicate']);
    assert.equal(await store.getItem('e'), undefined);
    assert.equal(await store.getReceipt('e'), undefined, 'user 2 is not signed in on the phone');
  });

  it('finds a due item behind items that are not (the read stops at the first one due)', async () => {
    const time = clock();
    const store = await freshStore(time.now);
    for (const id of ['a', 'b', 'c']) {
      await store.enqueue({ id, kind: 'idea', userId: 1, data: {} });
      await store.backOff(id, () => time.now() + 5000, 'Not sent yet');
    }
    await store.markAttention('b', 'rejected', [], 'Check');
    assert.equal(await store.hasWork('1', time.now(), false, 60000), false);
    await store.enqueue({ id: 'z', kind: 'idea', userId: 1, data: {} });
    assert.equal(await store.hasWork('1', time.now(), false, 60000), true, 'the last item by key is due');
    assert.equal(await store.hasWork(null, time.now(), false, 60000), true);
  });

  it('claims the first batch in the transaction that starts a drain', async () => {
    const time = clock();
    const store = await freshStore(time.now);
    for (const id of ['a', 'b', 'c', 'd']) {
      await store.enqueue({ id, kind: 'idea', userId: 1, data: { title: id } });
      time.advance(1);
    }
    await store.markSending(['a']); // a sender that died
    await store.backOff('d', () => time.now() + 5000, 'Not sent yet');
    let offered = null;
    const due = await store.startDrain(1, time.now(), false, 0, (items) => {
      offered = items.map((i) => i.id);
      return items.slice(0, 2);
    });
    assert.deepEqual(offered, ['a', 'b', 'c'], 'the stale item is due again, the backing-off one not');
    assert.deepEqual(due.map((i) => [i.id, i.state]), [['a', 'sending'], ['b', 'sending'], ['c', 'waiting']]);
    const stored = await Promise.all(['a', 'b', 'c', 'd'].map((id) => store.getItem(id)));
    assert.deepEqual(stored.map((i) => i.state), ['sending', 'sending', 'waiting', 'waiting']);
    assert.equal(stored[0].sendingSince, time.now());
    // Claimed: a second sender can claim neither.
    assert.deepEqual((await store.markSending(['a', 'b', 'c'])).map((i) => i.id), ['c']);
  });

  it('writes an answer and claims the next batch in one go, claiming only waiting items', async () => {
    const store = await freshStore();
    await signedIn(store, 1);
    for (const id of ['a', 'b', 'c', 'd', 'e']) await store.enqueue({ id, kind: 'handover', userId: 1, data: note(id) });
    await store.markSending(['a', 'b', 'e']);
    await store.markAttention('d', 'rejected', [], 'Check');
    const settled = await store.settleBatch(
      [
        { id: 'a', outcome: 'created', kind: 'handover', userId: '1' },
        { id: 'b', outcome: 'duplicate', kind: 'handover', userId: '1' },
      ],
      ['c', 'd', 'e', 'gone']
    );
    assert.equal(settled.acknowledged, 2);
    assert.deepEqual(settled.claimed.map((i) => [i.id, i.state]), [['c', 'sending']], 'not attention, not already sending');
    assert.equal(await store.getItem('a'), undefined);
    assert.equal((await store.getReceipt('b')).outcome, 'duplicate');
    assert.equal((await store.getItem('c')).state, 'sending');
    assert.equal((await store.getItem('d')).state, 'attention');
  });

  it('writes no receipt for an acknowledged item signed out of the phone meanwhile', async () => {
    const store = await freshStore();
    for (const id of ['a', 'b']) await store.enqueue({ id, kind: 'handover', userId: 1, data: note(id) });
    await store.enqueue({ id: 'c', kind: 'handover', userId: 2, data: note('c') });
    await store.markSending(['a', 'b']);
    await store.clearUser(1, { keepItems: false });
    const settled = await store.settleBatch([{ id: 'a', outcome: 'created', kind: 'handover', userId: '1' }], ['c']);
    assert.equal(settled.acknowledged, 0);
    assert.equal(await store.getReceipt('a'), undefined);
    assert.equal((await store.getItem('c')).state, 'sending');
  });

  it('deletes on an acknowledgement only the copy that was sent, still being sent', async () => {
    const time = clock();
    const store = await freshStore(time.now);
    await signedIn(store, 1);
    for (const id of ['x', 'y', 'z']) await store.enqueue({ id, kind: 'idea', userId: 1, data: { title: 'version one' } });
    const sent = await store.markSending(['x', 'y', 'z']);
    const createdAt = Object.fromEntries(sent.map((i) => [i.id, i.createdAt]));
    // x: put back, discarded and queued again under its id with other words, claimed again.
    await store.release(['x', 'y'], null);
    assert.equal(await store.discard('x', 1), true);
    time.advance(1000);
    await store.enqueue({ id: 'x', kind: 'idea', userId: 1, data: { title: 'version two' } });
    await store.markSending(['x']);
    // y: put back to waiting by another sender; z: still the copy being sent.
    const settled = await store.settleBatch(
      ['x', 'y', 'z'].map((id) => ({ id, outcome: 'created', kind: 'idea', userId: '1', createdAt: createdAt[id] })),
      []
    );
    assert.equal(settled.acknowledged, 1);
    assert.deepEqual((await store.getItem('x')).data, { title: 'version two' }, 'a late answer about version one');
    assert.equal((await store.getItem('x')).state, 'sending');
    assert.equal(await store.getReceipt('x'), undefined);
    assert.equal((await store.getItem('y')).state, 'waiting', 'not being sent: it goes again, answered duplicate');
    assert.equal(await store.getItem('z'), undefined);
    assert.equal((await store.getReceipt('z')).outcome, 'created');
  });

  it('claims for a drain only its user\'s items', async () => {
    const store = await freshStore();
    await store.enqueue({ id: 'a', kind: 'idea', userId: 1, data: { title: 'a' } });
    await store.enqueue({ id: 'b', kind: 'idea', userId: 2, data: { title: 'b' } });
    await store.enqueue({ id: 'c', kind: 'idea', userId: 2, data: { title: 'c' } });
    assert.deepEqual((await store.markSending(['a', 'b'], '1')).map((i) => i.id), ['a']);
    assert.deepEqual((await store.settleBatch([], ['c'], 1)).claimed, [], 'not in the answer\'s transaction either');
    assert.deepEqual([(await store.getItem('b')).state, (await store.getItem('c')).state], ['waiting', 'waiting']);
    assert.deepEqual((await store.settleBatch([], ['b', 'c'], '2')).claimed.map((i) => i.id), ['b', 'c']);
  });

  it('writes no receipt for a user who signed out mid-drain keeping their items; the items still go on the answer', async () => {
    const store = await freshStore();
    await signedIn(store, 1);
    for (const id of ['a', 'b']) await store.enqueue({ id, kind: 'handover', userId: 1, data: note(id) });
    await store.markSending(['a', 'b']);
    const kept = await store.clearUser(1, { keepItems: true });
    assert.equal(kept.itemsKept, 2);
    assert.equal(await store.getMeta(LAST_USER), undefined, 'signed out on the phone with the same step');
    const settled = await store.settleBatch(['a', 'b'].map((id) => ({ id, outcome: 'created', kind: 'handover', userId: '1' })), []);
    assert.equal(settled.acknowledged, 2);
    assert.deepEqual(await store.listItems(1), [], 'the server has them: not sent again');
    assert.deepEqual(await store.listReceipts(1), []);
  });

  it('at sign-out forgets who is signed in only if it is that user', async () => {
    const store = await freshStore();
    await signedIn(store, 2);
    await store.clearUser(1, { keepItems: true });
    assert.equal(await store.getMeta(LAST_USER), '2');
    await store.clearUser(2, { keepItems: true });
    assert.equal(await store.getMeta(LAST_USER), undefined);
  });

  it('backs off many items at once, each with its own attempt count', async () => {
    const time = clock();
    const store = await freshStore(time.now);
    for (const id of ['a', 'b']) await store.enqueue({ id, kind: 'idea', userId: 1, data: {} });
    await store.backOff('a', () => 1, 'first');
    await store.markSending(['a', 'b']);
    const changed = await store.backOffMany(['a', 'b', 'gone'], (attempts) => attempts * 1000, 'Not sent yet');
    assert.deepEqual(changed.map((i) => i.id), ['a', 'b']);
    const a = await store.getItem('a');
    const b = await store.getItem('b');
    assert.deepEqual([a.state, a.attempts, a.nextAttemptAt, a.lastError], ['waiting', 2, 2000, 'Not sent yet']);
    assert.deepEqual([b.state, b.attempts, b.nextAttemptAt, b.sendingSince], ['waiting', 1, 1000, null]);
  });

  it('replaces a fixed item only together with storing its corrected copy', async () => {
    const store = await freshStore();
    await store.enqueue({ id: 'old', kind: 'idea', userId: 1, data: { title: 'x' } });
    await store.markAttention('old', 'rejected', [{ field: 'title', message: 'Title must be at least 3 characters' }], 'Check');
    // A corrected copy whose id is taken: nothing changes, the old item stays.
    await store.enqueue({ id: 'taken', kind: 'idea', userId: 1, data: { title: 'other' } });
    await assert.rejects(store.replaceItem('old', { id: 'taken', kind: 'idea', userId: 1, data: { title: 'xyz' } }));
    assert.equal((await store.getItem('old')).state, 'attention');
    const fixed = await store.replaceItem('old', { id: 'new', kind: 'idea', userId: 1, data: { title: 'xyz' } });
    assert.equal(fixed.state, 'waiting');
    assert.equal(await store.getItem('old'), undefined);
    assert.equal((await store.getItem('new')).data.title, 'xyz');
  });

  it('will not let another user fix, resend or discard an item', async () => {
    const store = await freshStore();
    await store.enqueue({ id: 'a', kind: 'idea', userId: 1, data: {} });
    await store.markAttention('a', 'rejected', [], 'Check');
    await assert.rejects(store.replaceItem('a', { id: 'b', kind: 'idea', userId: 2, data: {} }));
    assert.equal((await store.resend('a', 2)).length, 0);
    assert.equal(await store.discard('a', 2), false);
    assert.ok(await store.getItem('a'));
  });

  it('"send as new" re-queues the same data under a fresh id', async () => {
    const store = await freshStore();
    await store.enqueue({ id: 'a', kind: 'handover', userId: 1, data: note() });
    await store.markAttention('a', 'conflict', [], 'Different content');
    const again = await store.sendAsNew('a', 1);
    assert.match(again.id, UUID);
    assert.notEqual(again.id, 'a');
    assert.deepEqual(again.data, note());
    assert.equal(again.state, 'waiting');
    assert.equal(await store.getItem('a'), undefined);
  });

  it('prunes old receipts, never items', async () => {
    const time = clock();
    const store = await freshStore(time.now);
    await store.enqueue({ id: 'old', kind: 'idea', userId: 1, data: {} });
    await store.acknowledge('old', 'created');
    await store.enqueue({ id: 'waiting', kind: 'idea', userId: 1, data: {} });
    time.advance(31 * 24 * 3600 * 1000);
    await store.enqueue({ id: 'new', kind: 'idea', userId: 1, data: {} });
    await store.acknowledge('new', 'duplicate');
    await store.pruneReceipts(30 * 24 * 3600 * 1000);
    assert.deepEqual((await store.listReceipts(1)).map((r) => r.id), ['new']);
    assert.ok(await store.getItem('waiting'), 'a month-old item stays until it is sent');
  });

  it('keeps drafts per user and form', async () => {
    const store = await freshStore();
    await store.saveDraft({ userId: 1, kind: 'idea', recordId: 'r1', values: { title: ['Half'] } });
    await store.saveDraft({ userId: 2, kind: 'idea', recordId: 'r2', values: { title: ['Other'] } });
    assert.deepEqual((await store.getDraft(1, 'idea')).values, { title: ['Half'] });
    assert.equal(await store.getDraft(1, 'handover'), undefined);
    await store.deleteDraft(1, 'idea');
    assert.equal(await store.getDraft(1, 'idea'), undefined);
    assert.ok(await store.getDraft(2, 'idea'));
  });

  it('at sign-out removes the user\'s drafts and receipts, and their items only if they choose', async () => {
    const store = await freshStore();
    for (const user of [1, 2]) {
      await store.enqueue({ id: 'item-' + user, kind: 'idea', userId: user, data: {} });
      await store.enqueue({ id: 'sent-' + user, kind: 'idea', userId: user, data: {} });
      await store.acknowledge('sent-' + user, 'created');
      await store.saveDraft({ userId: user, kind: 'idea', recordId: 'd', values: {} });
    }
    assert.deepEqual(await store.clearUser(1, { keepItems: true }), { itemsDeleted: 0, itemsKept: 1 });
    assert.ok(await store.getItem('item-1'));
    assert.equal(await store.getDraft(1, 'idea'), undefined);
    assert.equal((await store.listReceipts(1)).length, 0);
    assert.deepEqual(await store.clearUser(1, { keepItems: false }), { itemsDeleted: 1, itemsKept: 0 });
    assert.equal(await store.getItem('item-1'), undefined);
    // The other user's things are untouched.
    assert.ok(await store.getItem('item-2'));
    assert.ok(await store.getDraft(2, 'idea'));
    assert.equal((await store.listReceipts(2)).length, 1);
  });

  it('gives the drain lease to one holder until it expires', async () => {
    const time = clock();
    const store = await freshStore(time.now);
    assert.equal(await store.acquireLease('tab-a', 60000), true);
    assert.equal(await store.acquireLease('tab-b', 60000), false);
    assert.equal(await store.acquireLease('tab-a', 60000), true, 'the holder renews');
    time.advance(60000);
    assert.equal(await store.acquireLease('tab-b', 60000), true, 'an expired lease is free');
    await store.releaseLease('tab-a');
    assert.equal(await store.acquireLease('tab-a', 60000), false, 'only the holder releases');
    await store.releaseLease('tab-b');
    assert.equal(await store.acquireLease('tab-a', 60000), true);
  });

  it('keeps items when the database is opened again (a reload, a new worker version)', async () => {
    require('fake-indexeddb/auto');
    const { IDBFactory } = require('fake-indexeddb');
    const factory = new IDBFactory();
    const idb = require('idb');
    const first = await openOutbox({ idb, indexedDB: factory });
    await first.enqueue({ id: 'a', kind: 'idea', userId: 1, data: { title: 'kept' } });
    first.close();
    const second = await openOutbox({ idb, indexedDB: factory });
    assert.equal((await second.getItem('a')).data.title, 'kept');
  });

  it('makes version 4 UUIDs, also where crypto.randomUUID is missing', () => {
    assert.match(newRecordId(), UUID);
    const oldSafari = { getRandomValues: (bytes) => require('node:crypto').webcrypto.getRandomValues(bytes) };
    const ids = new Set(Array.from({ length: 50 }, () => newRecordId(oldSafari)));
    assert.equal(ids.size, 50);
    for (const id of ids) assert.match(id, UUID);
  });

  describe('a drain\'s reads and deletes by key range (issue 16, fourth pass)', () => {
    const counting = (fn) => countingOutboxRequests(fn, ['get', 'getAll', 'delete', 'put']);

    const ids = (prefix, n) => Array.from({ length: n }, (_, i) => prefix + String(i).padStart(3, '0'));

    it('acknowledges a batch of neighbouring keys and claims the next with one read and one delete', async () => {
      const store = await freshStore();
      await signedIn(store, 1);
      const sent = ids('b', 100);
      const next = ids('c', 100);
      for (const id of sent.concat(next)) await store.enqueue({ id, kind: 'handover', userId: 1, data: note(id) });
      const claimed = await store.markSending(sent, '1');
      const { result, counts } = await counting(() =>
        store.settleBatch(claimed.map((i) => ({ id: i.id, outcome: 'created', kind: 'handover', userId: '1', createdAt: i.createdAt })), next, '1')
      );
      assert.equal(result.acknowledged, 100);
      assert.deepEqual(result.claimed.map((i) => i.id), next);
      assert.deepEqual(counts, { get: 0, getAll: 2, delete: 1, put: 100 }, 'the acknowledged and the claimed read by range, deleted by range; the claimed rewritten "sending"');
      for (const id of sent) assert.equal(await store.getItem(id), undefined);
      assert.equal((await store.listReceipts(1)).length, 100, 'a receipt each');
      for (const id of next) assert.equal((await store.getItem(id)).state, 'sending');
    });

    it('keeps the receipts of an answer in one record, each item\'s receipt read as before (fifth pass)', async () => {
      const time = clock();
      const store = await freshStore(time.now);
      await signedIn(store, 1);
      const sent = ids('r', 100);
      for (const id of sent) await store.enqueue({ id, kind: 'handover', userId: 1, data: note('Secret ' + id) });
      const claimed = await store.markSending(sent, '1');
      const acks = claimed.map((i, n) => ({ id: i.id, outcome: n % 2 ? 'duplicate' : 'created', kind: 'handover', userId: '1', createdAt: i.createdAt }));
      const { result, counts } = await countingOutboxRequests(() => store.settleBatch(acks, [], '1'), ['get', 'put'], 'receipts');
      assert.equal(result.acknowledged, 100);
      assert.deepEqual(counts, { get: 1, put: 1 }, 'one record for the answer (and a look at what its key held)');
      const listed = await store.listReceipts(1);
      assert.deepEqual(listed.map((r) => r.id).sort(), sent, 'a receipt per item');
      for (const [n, id] of sent.entries()) {
        const receipt = await store.getReceipt(id);
        assert.deepEqual(Object.keys(receipt).sort(), ['id', 'kind', 'outcome', 'sentAt', 'userId'], id);
        assert.deepEqual(receipt, { id, kind: 'handover', userId: '1', outcome: n % 2 ? 'duplicate' : 'created', sentAt: new Date(time.now()).toISOString() });
      }
      assert.ok(!JSON.stringify(listed).includes('Secret'), 'no content');
      assert.equal(await store.getReceipt('r100'), undefined, 'never sent');
    });

    it('lists an answer\'s receipts (all sent at one time) latest queued first, not in id order', async () => {
      const time = clock();
      const store = await freshStore(time.now);
      await signedIn(store, 1);
      // Queued in this order; their ids sort the other way round for two of them.
      for (const id of ['m', 'z', 'a', 'q']) {
        await store.enqueue({ id, kind: 'handover', userId: 1, data: note(id) });
        time.advance(1000);
      }
      const claimed = await store.markSending(['a', 'm', 'q', 'z'], '1');
      await store.settleBatch(claimed.map((i) => ({ id: i.id, outcome: 'created', createdAt: i.createdAt })), [], '1');
      assert.deepEqual((await store.listReceipts(1)).map((r) => r.id), ['q', 'a', 'z', 'm']);
      // A later answer comes before it, whatever its ids.
      await store.enqueue({ id: 'b', kind: 'handover', userId: 1, data: note('b') });
      time.advance(1000);
      const later = await store.markSending(['b'], '1');
      await store.settleBatch(later.map((i) => ({ id: i.id, outcome: 'created', createdAt: i.createdAt })), [], '1');
      assert.deepEqual((await store.listReceipts(1)).map((r) => r.id), ['b', 'q', 'a', 'z', 'm']);
    });

    it('answers "not sent" for an item still queued, and keeps a batch\'s receipts when its first id is sent again', async () => {
      const time = clock();
      const store = await freshStore(time.now);
      await signedIn(store, 1);
      for (const id of ['a', 'b', 'c']) await store.enqueue({ id, kind: 'idea', userId: 1, data: { title: id } });
      assert.equal(await store.getReceipt('b'), undefined, 'still queued');
      const first = await store.markSending(['a', 'b', 'c'], '1');
      await store.settleBatch(first.map((i) => ({ id: i.id, outcome: 'created', createdAt: i.createdAt })), [], '1');
      const sentAt = new Date(time.now()).toISOString();
      // The same draft open in another tab, submitted again under its id: sent and answered
      // `duplicate`, its receipt goes where the batch's record is.
      time.advance(60000);
      await store.enqueue({ id: 'a', kind: 'idea', userId: 1, data: { title: 'a' } });
      const again = await store.markSending(['a'], '1');
      await store.settleBatch(again.map((i) => ({ id: i.id, outcome: 'duplicate', createdAt: i.createdAt })), [], '1');
      assert.equal((await store.getReceipt('a')).outcome, 'duplicate');
      assert.equal((await store.getReceipt('a')).sentAt, new Date(time.now()).toISOString());
      for (const id of ['b', 'c']) assert.deepEqual(await store.getReceipt(id), { id, kind: 'idea', userId: '1', outcome: 'created', sentAt }, id + ' kept, with its own time');
      assert.equal((await store.listReceipts(1)).length, 3);

      // b, listed in the batch's record, is sent again alone: it has its own record now, and is
      // listed once, with its latest answer.
      time.advance(60000);
      await store.enqueue({ id: 'b', kind: 'idea', userId: 1, data: { title: 'b' } });
      const alone = await store.markSending(['b'], '1');
      await store.settleBatch(alone.map((i) => ({ id: i.id, outcome: 'duplicate', createdAt: i.createdAt })), [], '1');
      const listed = await store.listReceipts(1);
      assert.deepEqual(listed.map((r) => r.id).sort(), ['a', 'b', 'c'], 'each id once');
      assert.equal(listed.find((r) => r.id === 'b').outcome, 'duplicate');
      assert.equal((await store.getReceipt('b')).outcome, 'duplicate');
    });

    it('never deletes by range an item in the range that was not acknowledged', async () => {
      const time = clock();
      const store = await freshStore(time.now);
      await signedIn(store, 1);
      const sent = ids('k', 10);
      for (const id of sent) await store.enqueue({ id, kind: 'handover', userId: 1, data: note(id) });
      // Keys between the acknowledged ones: another user's item, one waiting, one needing
      // attention, one claimed but not in this answer, and one queued again under its id.
      await store.enqueue({ id: 'k000a', kind: 'handover', userId: 2, data: note('other user') });
      await store.enqueue({ id: 'k002a', kind: 'handover', userId: 1, data: note('waiting') });
      await store.enqueue({ id: 'k004a', kind: 'handover', userId: 1, data: note('attention') });
      await store.markAttention('k004a', 'rejected', [], 'Check');
      const claimed = await store.markSending(sent, '1');
      const acks = claimed
        .filter((i) => i.id !== 'k006')
        .map((i) => ({ id: i.id, outcome: 'created', kind: 'handover', userId: '1', createdAt: i.createdAt }));
      await store.release(['k008'], null);
      assert.equal(await store.discard('k008', 1), true);
      time.advance(1000);
      await store.enqueue({ id: 'k008', kind: 'handover', userId: 1, data: note('queued again') });
      const { result, counts } = await counting(() => store.settleBatch(acks, [], '1'));
      assert.equal(result.acknowledged, 8, 'all but k006 (no answer) and k008 (another copy now)');
      assert.equal(counts.getAll, 1);
      assert.equal(counts.delete, 8, 'one delete each, not the range');
      for (const id of ['k000a', 'k002a', 'k004a', 'k006', 'k008']) assert.ok(await store.getItem(id), id + ' kept');
      assert.deepEqual((await store.getItem('k008')).data, note('queued again'));
      assert.equal((await store.getItem('k006')).state, 'sending');
    });

    it('reads ids a crowded range does not reach on their own, and claims them all the same', async () => {
      const store = await freshStore();
      // 30 items of user 2 between the first and the last of user 1's three.
      for (const id of ids('m', 30)) await store.enqueue({ id, kind: 'idea', userId: 2, data: { title: id } });
      for (const id of ['a', 'm015x', 'z']) await store.enqueue({ id, kind: 'idea', userId: 1, data: { title: id } });
      const { result, counts } = await counting(() => store.markSending(['z', 'a', 'm015x'], '1'));
      assert.deepEqual(result.map((i) => i.id).sort(), ['a', 'm015x', 'z']);
      assert.equal(counts.getAll, 1, 'one range read, cut short at twice the ids');
      assert.equal(counts.get, 2, 'the two ids past where it stopped, read on their own');
      assert.deepEqual((await store.markSending(['a', 'm015x', 'z'], '1')), [], 'claimed once only');
    });
  });
});
