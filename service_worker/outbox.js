/**
 * The outbox: what a user submitted, kept in IndexedDB until the server acknowledges it
 * (SPEC §5 O1, O2, O6, O8). Also the user's drafts, content-free receipts of what was sent, and a
 * few settings (the drain lease where Web Locks are missing, the last signed-in user).
 *
 * One database, "frontline", version 1:
 *   outbox   key id (the record's UUID), index "byUser" on userId — the queued items
 *   drafts   key [userId, kind] — a half-filled form
 *   receipts key id, index "byUser" — {id, kind, userId, outcome, sentAt}; no content. A drain
 *            writes one per answer: the first item's, listing the batch's others in `also`
 *            ({id, kind, outcome[, sentAt]} each; see batchReceipt)
 *   meta     key key — {key, value}
 *
 * An item leaves the outbox only through acknowledge() (the server said created/duplicate; a
 * receipt is written in the same transaction), discard() or replaceItem()/sendAsNew() (the
 * user's own choice, the replacement written in the same transaction), or clearUser() without
 * keepItems (the user chose at sign-out). Its `data` never changes once queued (O11).
 *
 * Every method works on one user's items when given a user id: a page or worker never lists or
 * sends another user's items.
 *
 * Dependencies are injected: `idb` (the vendored UMD global in browsers, the npm package in node)
 * and the IndexedDB factory (`self.indexedDB`, or fake-indexeddb in tests).
 */
(function (root) {
  'use strict';

  var DB_NAME = 'frontline';
  var DB_VERSION = 1;

  /**
   * The meta key naming who is signed in on this phone: set by the first page of a session
   * (outbox-client.js), removed at sign-out (clearUser, sign-out.js).
   */
  var LAST_USER = 'last-user';

  var STATES = Object.freeze({ WAITING: 'waiting', SENDING: 'sending', ATTENTION: 'attention' });
  var KINDS = Object.freeze(['idea', 'handover']);

  /**
   * @typedef {'idea' | 'handover'} Kind
   * @typedef {'waiting' | 'sending' | 'attention'} ItemState
   * @typedef {{field: string, message: string}} FieldError
   * @typedef {{
   *   id: string, kind: Kind, userId: string, data: Object<string, *>, state: ItemState,
   *   attempts: number, nextAttemptAt: number, lastError: (string | null), errors: FieldError[],
   *   attentionReason: (null | 'rejected' | 'conflict' | 'too-large'),
   *   sendingSince: (number | null), createdAt: string, updatedAt: string
   * }} OutboxItem
   *   nextAttemptAt and sendingSince are epoch milliseconds; createdAt/updatedAt ISO 8601 (UTC).
   * @typedef {{id: string, kind: Kind, userId: string, outcome: string, sentAt: string}} Receipt
   * @typedef {{userId: string, kind: Kind, recordId: string, values: Object<string, (string | string[])>,
   *   savedAt: string}} Draft
   */

  /**
   * @param {Uint8Array} bytes 16 random bytes
   * @returns {string}
   */
  function uuidFromBytes(bytes) {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = [];
    for (var i = 0; i < 16; i++) hex.push((bytes[i] + 0x100).toString(16).slice(1));
    return (
      hex.slice(0, 4).join('') + '-' + hex.slice(4, 6).join('') + '-' + hex.slice(6, 8).join('') +
      '-' + hex.slice(8, 10).join('') + '-' + hex.slice(10, 16).join('')
    );
  }

  /**
   * A fresh record id (O9): crypto.randomUUID where the browser has it, else a version 4 UUID from
   * crypto.getRandomValues (Safari before 15.4).
   *
   * @param {Crypto} [cryptoImpl] defaults to the global crypto
   * @returns {string}
   */
  function newRecordId(cryptoImpl) {
    var c = cryptoImpl || root.crypto;
    if (c && typeof c.randomUUID === 'function') return c.randomUUID();
    var bytes = new Uint8Array(16);
    c.getRandomValues(bytes);
    return uuidFromBytes(bytes);
  }

  /** @param {*} id @returns {string} */
  function userKey(id) {
    return String(id);
  }

  /**
   * Whether two payloads are the same submission. created_at is left out: two taps on the same
   * form differ only in when they were made.
   *
   * @param {Object<string, *>} a
   * @param {Object<string, *>} b
   */
  function sameContent(a, b) {
    function canonical(data) {
      var copy = {};
      Object.keys(data || {})
        .filter(function (k) {
          return k !== 'created_at';
        })
        .sort()
        .forEach(function (k) {
          copy[k] = data[k];
        });
      return JSON.stringify(copy);
    }
    return canonical(a) === canonical(b);
  }

  /** @param {OutboxItem} a @param {OutboxItem} b */
  function byQueueOrder(a, b) {
    if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }

  /**
   * Runs `work(tx, finish)` in a plain read-write transaction; resolves to what `finish` was given
   * once the transaction has committed, rejects if it fails or aborts (nothing written then).
   *
   * @param {IDBDatabase} raw
   * @param {string | string[]} stores
   * @param {(tx: IDBTransaction, finish: (value: *) => void) => void} work
   * @returns {Promise<*>}
   */
  function inTransaction(raw, stores, work) {
    return new Promise(function (resolve, reject) {
      var tx = raw.transaction(stores, 'readwrite');
      var value;
      tx.oncomplete = function () {
        resolve(value);
      };
      tx.onabort = function () {
        reject(tx.error || new Error('The outbox transaction was aborted'));
      };
      work(tx, function (v) {
        value = v;
      });
    });
  }

  /**
   * Calls `then` once every request in `requests` has succeeded (at once if there are none).
   *
   * @param {IDBRequest[]} requests
   * @param {() => void} then
   */
  function afterAll(requests, then) {
    var left = requests.length;
    if (!left) {
      then();
      return;
    }
    requests.forEach(function (request) {
      request.onsuccess = function () {
        left -= 1;
        if (!left) then();
      };
    });
  }

  /**
   * Reads the records of `ids` from `store` (an IDBObjectStore in a transaction under way) with
   * as few IndexedDB requests as it can, then calls `then(found, range)`: `found` maps each id
   * read to its record (absent: no such record). Every request costs the page and the browser's
   * storage process about the same whatever it carries (issue 16, fourth pass: 1,000 gets ~0.09 s
   * of Chromium's CPU, 1,000 records in ten getAll ~0.03 s), so ids that lie together in key
   * order are read with ONE getAll over the key range from the lowest to the highest, at most
   * twice as many records as ids (a range crowded with other records is not read whole); an id
   * the range did not reach is read on its own. A drain sends its batches in key order
   * (sync.js, sendOrder), so a batch's records are usually all there is in its range.
   *
   * `range` says what the one read found: {lower, upper, records, whole} where `whole` means
   * `records` are every record from lower to upper (the range was not cut short), so the caller
   * may act on the range as a whole in the same transaction (settleBatch's one delete).
   *
   * @param {IDBObjectStore} store
   * @param {string[]} ids
   * @param {(found: Map<string, OutboxItem>, range: ({lower: string, upper: string,
   *   records: OutboxItem[], whole: boolean} | null)) => void} then
   */
  function readMany(store, ids, then) {
    var found = new Map();
    var keys = ids
      .map(String)
      .filter(function (id, i, all) {
        return all.indexOf(id) === i;
      })
      .sort(keyOrder);
    var KeyRange = root && root.IDBKeyRange;
    if (keys.length < 3 || !KeyRange || typeof store.getAll !== 'function') {
      readEach(store, keys, found, function () {
        then(found, null);
      });
      return;
    }
    var lower = keys[0];
    var upper = keys[keys.length - 1];
    var limit = keys.length * 2;
    var read = store.getAll(KeyRange.bound(lower, upper), limit);
    read.onsuccess = function () {
      var records = read.result;
      var whole = records.length < limit;
      var reached = whole ? upper : records[records.length - 1].id;
      records.forEach(function (record) {
        found.set(record.id, record);
      });
      // Ids past the last record read (a crowded range, cut short) are read on their own.
      var rest = keys.filter(function (id) {
        return keyOrder(id, reached) > 0;
      });
      readEach(store, rest, found, function () {
        then(found, { lower: lower, upper: upper, records: records, whole: whole });
      });
    };
  }

  /** Reads each of `keys` into `found` with a get of its own; `then` once all have answered. */
  function readEach(store, keys, found, then) {
    var reads = keys.map(function (id) {
      return store.get(id);
    });
    afterAll(reads, function () {
      reads.forEach(function (request, i) {
        if (request.result) found.set(keys[i], request.result);
      });
      then();
    });
  }

  /** IndexedDB's order of string keys (by UTF-16 code unit, as JavaScript compares strings). */
  function keyOrder(a, b) {
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /**
   * Opens (and creates or upgrades) the database.
   *
   * @param {{idb: *, indexedDB: IDBFactory, now?: () => number, random?: () => number,
   *   crypto?: Crypto, name?: string}} deps
   * @returns {Promise<OutboxStore>}
   */
  function openOutbox(deps) {
    var factory = deps.indexedDB;
    var request = factory.open(deps.name || DB_NAME, DB_VERSION);
    request.addEventListener('upgradeneeded', function (event) {
      var db = request.result;
      if (event.oldVersion < 1) {
        var outbox = db.createObjectStore('outbox', { keyPath: 'id' });
        outbox.createIndex('byUser', 'userId');
        db.createObjectStore('drafts', { keyPath: ['userId', 'kind'] });
        var receipts = db.createObjectStore('receipts', { keyPath: 'id' });
        receipts.createIndex('byUser', 'userId');
        db.createObjectStore('meta', { keyPath: 'key' });
      }
    });
    return deps.idb.wrap(request).then(function (db) {
      // A newer version of the app opening the database with a higher version must not be blocked
      // by this old page: close, and the page reloads into the new code on its next navigation.
      db.addEventListener('versionchange', function () {
        db.close();
      });
      return new OutboxStore(db, deps);
    });
  }

  /**
   * @constructor
   * @param {*} db an idb-wrapped IDBDatabase
   * @param {{now?: () => number, crypto?: Crypto}} deps
   */
  function OutboxStore(db, deps) {
    this.db = db;
    /**
     * The plain IDBDatabase under idb's wrapper, for the drain's hot paths: there every request
     * is issued without a promise of its own (a promise per request, resolved in a microtask on
     * the page's main thread, was a good part of a long drain's time; issue 16).
     */
    this.raw = deps.idb && typeof deps.idb.unwrap === 'function' ? deps.idb.unwrap(db) : null;
    this.now = deps.now || Date.now;
    this.crypto = deps.crypto;
  }

  OutboxStore.prototype.isoNow = function () {
    return new Date(this.now()).toISOString();
  };

  OutboxStore.prototype.close = function () {
    this.db.close();
  };

  /**
   * Writes a new item, before any network attempt (O1). Resolves once the transaction has
   * committed, i.e. the item is on disk.
   *
   * The id stays fixed until the form is reset, so a double tap adds nothing: an existing item
   * with the same id and the same content is "already-queued". The same id with different content
   * (one draft submitted from two tabs after different edits) is kept too, under a fresh id.
   *
   * @param {{id: string, kind: Kind, userId: (string | number), data: Object<string, *>}} input
   * @returns {Promise<{status: 'queued' | 'already-queued' | 'queued-new-id', item: OutboxItem}>}
   */
  OutboxStore.prototype.enqueue = async function (input) {
    if (KINDS.indexOf(input.kind) < 0) throw new Error('Unknown kind: ' + input.kind);
    var at = this.isoNow();
    /** @type {OutboxItem} */
    var item = {
      id: String(input.id),
      kind: input.kind,
      userId: userKey(input.userId),
      data: input.data,
      state: STATES.WAITING,
      attempts: 0,
      nextAttemptAt: 0,
      lastError: null,
      errors: [],
      attentionReason: null,
      sendingSince: null,
      createdAt: at,
      updatedAt: at,
    };
    var tx = this.db.transaction('outbox', 'readwrite');
    var existing = await tx.store.get(item.id);
    var status = 'queued';
    if (existing) {
      if (existing.userId === item.userId && sameContent(existing.data, item.data)) {
        await tx.done;
        return { status: 'already-queued', item: existing };
      }
      item.id = newRecordId(this.crypto);
      status = 'queued-new-id';
    }
    try {
      await tx.store.add(item);
      await tx.done;
    } catch (error) {
      tx.done.catch(function () {});
      throw error;
    }
    return { status: status, item: item };
  };

  /** @param {string} id @returns {Promise<OutboxItem | undefined>} */
  OutboxStore.prototype.getItem = function (id) {
    return this.db.get('outbox', String(id));
  };

  /**
   * This user's items in queue order (oldest first).
   *
   * @param {string | number} userId
   * @returns {Promise<OutboxItem[]>}
   */
  OutboxStore.prototype.listItems = async function (userId) {
    var items = await this.db.getAllFromIndex('outbox', 'byUser', userKey(userId));
    return items.sort(byQueueOrder);
  };

  /**
   * @param {string | number} userId
   * @returns {Promise<{total: number, waiting: number, sending: number, attention: number}>}
   */
  OutboxStore.prototype.countItems = async function (userId) {
    var items = await this.db.getAllFromIndex('outbox', 'byUser', userKey(userId));
    var counts = { total: items.length, waiting: 0, sending: 0, attention: 0 };
    items.forEach(function (item) {
      counts[item.state] += 1;
    });
    return counts;
  };

  /**
   * How many items are on the phone, whoever queued them: what a page with no one signed in
   * shows (a count only, never the items: O8), e.g. the items kept at a sign-out.
   *
   * @returns {Promise<number>}
   */
  OutboxStore.prototype.countAll = function () {
    return this.db.count('outbox');
  };

  /**
   * Waiting items that may be sent now (all waiting ones when `force`), in queue order. With a
   * null userId: anyone's — only to decide whether to ask the server who is signed in.
   *
   * @param {string | number | null} userId
   * @param {number} nowMs
   * @param {boolean} force ignore nextAttemptAt (the "Send now" button)
   * @returns {Promise<OutboxItem[]>}
   */
  OutboxStore.prototype.dueItems = async function (userId, nowMs, force) {
    var items =
      userId === null
        ? await this.db.getAll('outbox')
        : await this.db.getAllFromIndex('outbox', 'byUser', userKey(userId));
    return items
      .filter(function (item) {
        return item.state === STATES.WAITING && (force || item.nextAttemptAt <= nowMs);
      })
      .sort(byQueueOrder);
  };

  /**
   * Runs `change` on each of `ids` that exists and passes `guard`, in one transaction.
   *
   * @param {string[]} ids
   * @param {(item: OutboxItem) => boolean} guard
   * @param {(item: OutboxItem) => void} change
   * @returns {Promise<OutboxItem[]>} the changed items
   */
  OutboxStore.prototype.updateItems = function (ids, guard, change) {
    // All reads, then all writes, in one transaction: IndexedDB keeps them in order and atomic,
    // and the batch does not wait on a round trip per item.
    var at = this.isoNow();
    return inTransaction(this.raw, 'outbox', function (tx, finish) {
      var store = tx.objectStore('outbox');
      readMany(store, ids, function (found) {
        var changed = ids
          .map(function (id) {
            return found.get(String(id));
          })
          .filter(function (item, i, all) {
            return item && all.indexOf(item) === i && guard(item);
          });
        changed.forEach(function (item) {
          change(item);
          item.updatedAt = at;
          store.put(item);
        });
        finish(changed);
      });
    });
  };

  /**
   * Claims waiting items for sending. Atomic: an item already claimed (or discarded, or sent) is
   * not returned, so two senders can never both send it.
   *
   * With `userId` (a drain always gives its user), only that user's items are claimed: an id
   * picked for a batch may since have been discarded and queued again by someone else on the
   * phone, and a drain sends only the signed-in user's items.
   *
   * @param {string[]} ids
   * @param {string | number} [userId]
   * @returns {Promise<OutboxItem[]>} the items now in "sending", to be sent
   */
  OutboxStore.prototype.markSending = function (ids, userId) {
    var nowMs = this.now();
    return this.updateItems(
      ids,
      function (item) {
        return isClaimable(item, userId);
      },
      function (item) {
        item.state = STATES.SENDING;
        item.sendingSince = nowMs;
      }
    );
  };

  /**
   * Items left in "sending" for `staleMs` or more (anyone's with a null userId), unchanged.
   *
   * @param {string | number | null} userId
   * @param {number} staleMs
   * @returns {Promise<OutboxItem[]>}
   */
  OutboxStore.prototype.staleSending = async function (userId, staleMs) {
    var nowMs = this.now();
    var items =
      userId === null
        ? await this.db.getAll('outbox')
        : await this.db.getAllFromIndex('outbox', 'byUser', userKey(userId));
    return items.filter(function (item) {
      return item.state === STATES.SENDING && (item.sendingSince || 0) + staleMs <= nowMs;
    });
  };

  /**
   * Puts back to "waiting" the items left in "sending" by a sender that died (a closed tab, a
   * killed worker) more than `staleMs` ago. A live sender never holds a batch that long: its
   * request times out first.
   *
   * @param {string | number} userId
   * @param {number} staleMs
   * @returns {Promise<OutboxItem[]>}
   */
  OutboxStore.prototype.resetStaleSending = async function (userId, staleMs) {
    var nowMs = this.now();
    var items = await this.db.getAllFromIndex('outbox', 'byUser', userKey(userId));
    var stale = items
      .filter(function (item) {
        return item.state === STATES.SENDING && (item.sendingSince || 0) + staleMs <= nowMs;
      })
      .map(function (item) {
        return item.id;
      });
    return this.updateItems(
      stale,
      function (item) {
        return item.state === STATES.SENDING && (item.sendingSince || 0) + staleMs <= nowMs;
      },
      function (item) {
        item.state = STATES.WAITING;
        item.sendingSince = null;
      }
    );
  };

  /**
   * Whether a drain has anything to do: an item due now (any waiting one when `force`), or one a
   * dead sender left "sending" for `staleMs` or more. With a null userId: anyone's.
   *
   * A cursor that stops at the first such item: in a long outbox the first item is usually due,
   * so this reads one item instead of every one (reading 1,000 took 30-70 ms before the first
   * request of a drain; issue 16).
   *
   * @param {string | number | null} userId
   * @param {number} nowMs
   * @param {boolean} force
   * @param {number} staleMs
   * @returns {Promise<boolean>}
   */
  OutboxStore.prototype.hasWork = async function (userId, nowMs, force, staleMs) {
    var tx = this.db.transaction('outbox', 'readonly');
    var cursor =
      userId === null
        ? await tx.store.openCursor()
        : await tx.store.index('byUser').openCursor(userKey(userId));
    var found = false;
    while (cursor) {
      var item = cursor.value;
      if (item.state === STATES.WAITING) found = force || item.nextAttemptAt <= nowMs;
      else found = item.state === STATES.SENDING && (item.sendingSince || 0) + staleMs <= nowMs;
      if (found) break;
      cursor = await cursor.continue();
    }
    await tx.done;
    return found;
  };

  /**
   * The start of a drain for one user, in one transaction: items a dead sender left "sending" for
   * `staleMs` or more go back to waiting (as resetStaleSending), then the items due now (all
   * waiting ones when `force`) in queue order (as dueItems). One read of the user's items instead
   * of two, which for a long outbox is most of the time before the first request (issue 16).
   *
   * With `pick`, the first batch is claimed in the same transaction: `pick(due)` returns the due
   * items to mark "sending" now (as markSending, from the copies just read: no second read, no
   * second transaction before the first request). Resolves to the due items either way; the
   * claimed ones are in state "sending" in the store and in the array.
   *
   * @param {string | number} userId
   * @param {number} nowMs
   * @param {boolean} force
   * @param {number} staleMs
   * @param {(due: OutboxItem[]) => OutboxItem[]} [pick]
   * @returns {Promise<OutboxItem[]>}
   */
  OutboxStore.prototype.startDrain = function (userId, nowMs, force, staleMs, pick) {
    var at = this.isoNow();
    var claimedAt = this.now();
    return inTransaction(this.raw, 'outbox', function (tx, finish) {
      var store = tx.objectStore('outbox');
      var read = store.index('byUser').getAll(userKey(userId));
      read.onsuccess = function () {
        var items = read.result;
        items.forEach(function (item) {
          if (item.state === STATES.SENDING && (item.sendingSince || 0) + staleMs <= nowMs) {
            item.state = STATES.WAITING;
            item.sendingSince = null;
            item.updatedAt = at;
            store.put(item);
          }
        });
        var due = items
          .filter(function (item) {
            return item.state === STATES.WAITING && (force || item.nextAttemptAt <= nowMs);
          })
          .sort(byQueueOrder);
        if (pick && due.length) {
          // Still inside the transaction, right after the read: the claim is atomic with it.
          pick(due).forEach(function (item) {
            item.state = STATES.SENDING;
            item.sendingSince = claimedAt;
            item.updatedAt = at;
            store.put(item);
          });
        }
        finish(due);
      };
    });
  };

  /**
   * The server has it (created or duplicate): delete the item and keep a content-free receipt, in
   * one transaction (O2, O8).
   *
   * @param {string} id
   * @param {'created' | 'duplicate'} outcome
   * @returns {Promise<boolean>} whether an item was removed
   */
  OutboxStore.prototype.acknowledge = async function (id, outcome) {
    var tx = this.db.transaction(['outbox', 'receipts'], 'readwrite');
    var outbox = tx.objectStore('outbox');
    var item = await outbox.get(String(id));
    if (item) {
      await outbox.delete(item.id);
      await tx.objectStore('receipts').put({
        id: item.id,
        kind: item.kind,
        userId: item.userId,
        outcome: outcome,
        sentAt: this.isoNow(),
      });
    }
    await tx.done;
    return Boolean(item);
  };

  /**
   * A whole batch acknowledged at once: every item deleted and its receipt kept, in one
   * transaction (one transaction per item made a 1,000-item drain spend most of its time here).
   *
   * Only the copy that was sent is deleted: the item must still be "sending" and, when the
   * acknowledgement names them, have the sent copy's createdAt and userId. An item queued again
   * under the same id since (discarded, then submitted again: another createdAt), or put back to
   * waiting by another sender, stays: it is sent on its own and the server answers `duplicate`
   * or `conflict` about it (SPEC §6). A late answer about one version can never delete another.
   *
   * @param {Array<{id: string, outcome: 'created' | 'duplicate', kind?: Kind, userId?: string,
   *   createdAt?: string}>} acknowledgements
   * @returns {Promise<number>} how many items were removed
   */
  OutboxStore.prototype.acknowledgeMany = async function (acknowledgements) {
    return (await this.settleBatch(acknowledgements, [])).acknowledged;
  };

  /**
   * What a drain writes when an answer arrives, in ONE read-write transaction (issue 16):
   * the acknowledged items of the answered batch deleted with their receipts (as
   * acknowledgeMany: only the copy that was sent), and the next batch claimed for sending (as
   * markSending: only items still waiting are claimed, so no id is ever claimed twice). One
   * transaction instead of two per batch (each commit is a disk flush on a phone), and the claim
   * no longer queues behind a separate acknowledging transaction.
   *
   * @param {Array<{id: string, outcome: 'created' | 'duplicate', kind?: Kind, userId?: string,
   *   createdAt?: string}>} acknowledgements
   * @param {string[]} claimIds
   * @param {string | number} [userId] the drain's user: only their items are claimed
   * @returns {Promise<{acknowledged: number, claimed: OutboxItem[]}>}
   */
  OutboxStore.prototype.settleBatch = function (acknowledgements, claimIds, userId) {
    if (!acknowledgements.length && !claimIds.length) return Promise.resolve({ acknowledged: 0, claimed: [] });
    var at = this.isoNow();
    var nowMs = this.now();
    return inTransaction(this.raw, ['outbox', 'receipts', 'meta'], function (tx, finish) {
      var outbox = tx.objectStore('outbox');
      var receipts = tx.objectStore('receipts');
      // Who is signed in on the phone now: a receipt is the user's record of what was sent, and
      // sign-out removes them (O8); a user who signed out mid-drain gets none written after.
      var signedIn = acknowledgements.length ? tx.objectStore('meta').get(LAST_USER) : null;
      var ackIds = acknowledgements.map(function (ack) {
        return String(ack.id);
      });
      // Each acknowledged item is read (whether it is still the copy that was sent is in it),
      // and each item to claim (whether it is still waiting): a range read each (readMany).
      // (Requests answer in the order they were made: the meta read is answered before the
      // outbox reads that follow it, so its result is there when they are.)
      readMany(outbox, ackIds, function (sent, sentRange) {
        readMany(outbox, claimIds, function (toClaim) {
          write(sent, sentRange, toClaim);
        });
      });
      function write(sent, sentRange, toClaim) {
        var row = signedIn && signedIn.result;
        var current = row && row.value !== undefined && row.value !== null ? userKey(row.value) : null;
        var gone = [];
        var receipted = [];
        acknowledgements.forEach(function (ack) {
          var item = sent.get(String(ack.id));
          if (!item || !isSentCopy(item, ack) || gone.indexOf(item) >= 0) return;
          gone.push(item);
          // The server has it: the item goes whoever is signed in (kept at sign-out, it would
          // only be sent again); its receipt only for the user still signed in.
          if (item.userId !== current) return;
          receipted.push({ id: item.id, kind: item.kind, outcome: ack.outcome, queued: item.createdAt });
        });
        // All of an answer's receipts carry one time: listed newest first, its items come in the
        // order they were queued, the latest first (as /outbox and /mine list them), not by id.
        receipted = receipted
          .map(function (receipt, i) {
            return [receipt, i];
          })
          .sort(function (a, b) {
            var x = a[0].queued;
            var y = b[0].queued;
            return x < y ? 1 : x > y ? -1 : a[1] - b[1];
          })
          .map(function (pair) {
            return { id: pair[0].id, kind: pair[0].kind, outcome: pair[0].outcome };
          });
        if (receipted.length) {
          // The record goes under the first item's id; one already there (that id sent before,
          // then queued again under it from another tab) may list other items: they are kept.
          var prior = receipts.get(receipted[0].id);
          prior.onsuccess = function () {
            receipts.put(batchReceipt(receipted, current, at, prior.result));
          };
        }
        // One delete for the whole key range when every record in it (read whole, in this same
        // transaction, so nothing else can be in it now) is an acknowledged copy; else one each.
        var wholeRange =
          sentRange &&
          sentRange.whole &&
          sentRange.records.length === gone.length &&
          sentRange.records.every(function (record) {
            return gone.indexOf(record) >= 0;
          });
        if (wholeRange) outbox.delete(root.IDBKeyRange.bound(sentRange.lower, sentRange.upper));
        else {
          gone.forEach(function (item) {
            outbox.delete(item.id);
          });
        }
        var acknowledged = gone.length;
        var claimed = claimIds
          .map(function (id) {
            return toClaim.get(String(id));
          })
          .filter(function (item, i, all) {
            return item && all.indexOf(item) === i && isClaimable(item, userId);
          });
        claimed.forEach(function (item) {
          item.state = STATES.SENDING;
          item.sendingSince = nowMs;
          item.updatedAt = at;
          outbox.put(item);
        });
        finish({ acknowledged: acknowledged, claimed: claimed });
      }
    });
  };

  /**
   * The receipts of one answer's acknowledged items, as ONE record (issue 16, fifth pass: a put
   * per receipt was ~0.07 s of Chromium's CPU per 1,000 items sent). The record is the first
   * item's receipt as every release has written it ({id, kind, userId, outcome, sentAt}, under
   * the item's id, in the user's "byUser" index), and lists the others of the batch in `also`
   * ({id, kind, outcome} each: no content, O8). So a page of the previous release, open while
   * this worker drains, reads it as that one item's receipt, deletes it at sign-out (clearUser
   * goes by the index) and prunes it by age; this release reads every item of it
   * (expandReceipt).
   *
   * A record already under the first item's id (`prior`) is replaced; the other items it listed
   * stay listed, each with its own time.
   *
   * @param {Array<{id: string, kind: Kind, outcome: string}>} sent in the batch's order
   * @param {string} userId
   * @param {string} at
   * @param {*} [prior] the record stored under sent[0].id, if any
   * @returns {Receipt}
   */
  function batchReceipt(sent, userId, at, prior) {
    var first = sent[0];
    var record = { id: first.id, kind: first.kind, userId: userId, outcome: first.outcome, sentAt: at };
    var also = sent.slice(1);
    if (prior && Array.isArray(prior.also)) {
      var listed = sent.map(function (receipt) {
        return receipt.id;
      });
      prior.also.forEach(function (other) {
        if (listed.indexOf(other.id) >= 0) return;
        also.push({ id: other.id, kind: other.kind, outcome: other.outcome, sentAt: other.sentAt || prior.sentAt });
      });
    }
    if (also.length) record.also = also;
    return record;
  }

  /**
   * The receipts a stored record holds: itself, and one for each item it lists in `also` (a
   * batch's, batchReceipt), each {id, kind, userId, outcome, sentAt}.
   *
   * @param {Receipt & {also?: Array<{id: string, kind: Kind, outcome: string}>}} record
   * @returns {Receipt[]}
   */
  function expandReceipt(record) {
    var own = { id: record.id, kind: record.kind, userId: record.userId, outcome: record.outcome, sentAt: record.sentAt };
    var found = [own];
    (Array.isArray(record.also) ? record.also : []).forEach(function (other) {
      found.push({
        id: other.id,
        kind: other.kind,
        userId: record.userId,
        outcome: other.outcome,
        sentAt: other.sentAt || record.sentAt,
      });
    });
    return found;
  }

  /**
   * Whether a drain for `userId` (anyone's when not given) may claim `item`: waiting, and theirs.
   *
   * @param {OutboxItem} item
   * @param {string | number} [userId]
   */
  function isClaimable(item, userId) {
    if (item.state !== STATES.WAITING) return false;
    return userId === undefined || userId === null || item.userId === userKey(userId);
  }

  /**
   * Whether `item`, as stored now, is the copy an acknowledgement is about: still being sent,
   * and queued when (and by whom) the sent copy was, where the acknowledgement says.
   *
   * @param {OutboxItem} item
   * @param {{createdAt?: string, userId?: string}} ack
   */
  function isSentCopy(item, ack) {
    if (item.state !== STATES.SENDING) return false;
    if (ack.createdAt !== undefined && item.createdAt !== ack.createdAt) return false;
    if (ack.userId !== undefined && item.userId !== userKey(ack.userId)) return false;
    return true;
  }

  /**
   * The server answered, and the user must act: parks the item (it is sent again only when the
   * user fixes it, resends it, or sends it as new).
   *
   * @param {string} id
   * @param {'rejected' | 'conflict' | 'too-large'} reason
   * @param {FieldError[]} errors
   * @param {string} message
   */
  OutboxStore.prototype.markAttention = function (id, reason, errors, message) {
    return this.updateItems(
      [id],
      function () {
        return true;
      },
      function (item) {
        item.state = STATES.ATTENTION;
        item.attentionReason = reason;
        item.errors = errors || [];
        item.lastError = message;
        item.sendingSince = null;
      }
    );
  };

  /**
   * No definite answer (network error, timeout, 5xx, 429, an HTML page): back to waiting, one more
   * attempt counted, not before `nextAttemptAt`.
   *
   * @param {string} id
   * @param {(attempts: number) => number} nextAttemptAt given the new attempt count
   * @param {string} message
   */
  OutboxStore.prototype.backOff = function (id, nextAttemptAt, message) {
    return this.backOffMany([id], nextAttemptAt, message);
  };

  /**
   * backOff for many items at once, in one transaction: a failed batch of 100 no longer takes
   * 100 transactions to put back.
   *
   * @param {string[]} ids
   * @param {(attempts: number) => number} nextAttemptAt given an item's new attempt count
   * @param {string} message
   */
  OutboxStore.prototype.backOffMany = function (ids, nextAttemptAt, message) {
    return this.updateItems(
      ids,
      function (item) {
        return item.state === STATES.SENDING || item.state === STATES.WAITING;
      },
      function (item) {
        item.attempts += 1;
        item.nextAttemptAt = nextAttemptAt(item.attempts);
        item.state = STATES.WAITING;
        item.lastError = message;
        item.sendingSince = null;
      }
    );
  };

  /**
   * Back to waiting with nothing counted against the items (the user must sign in first).
   *
   * @param {string[]} ids
   * @param {string | null} message
   */
  OutboxStore.prototype.release = function (ids, message) {
    return this.updateItems(
      ids,
      function (item) {
        return item.state === STATES.SENDING;
      },
      function (item) {
        item.state = STATES.WAITING;
        item.sendingSince = null;
        if (message) item.lastError = message;
      }
    );
  };

  /**
   * "Resend now": waiting again, due at once. Field errors are kept until the next answer.
   *
   * @param {string} id
   * @param {string | number} userId
   */
  OutboxStore.prototype.resend = function (id, userId) {
    var who = userKey(userId);
    return this.updateItems(
      [id],
      function (item) {
        return item.userId === who && item.state !== STATES.SENDING;
      },
      function (item) {
        item.state = STATES.WAITING;
        item.nextAttemptAt = 0;
        item.attentionReason = null;
      }
    );
  };

  /**
   * The user's own choice: delete one of their items. Not while it is being sent.
   *
   * @param {string} id
   * @param {string | number} userId
   * @returns {Promise<boolean>}
   */
  OutboxStore.prototype.discard = async function (id, userId) {
    var tx = this.db.transaction('outbox', 'readwrite');
    var item = await tx.store.get(String(id));
    var ok = Boolean(item && item.userId === userKey(userId) && item.state !== STATES.SENDING);
    if (ok) await tx.store.delete(item.id);
    await tx.done;
    return ok;
  };

  /**
   * Fix: the corrected copy replaces an item that needs attention. Both writes are one
   * transaction, so the old item goes only if the new one is stored.
   *
   * @param {string} oldId
   * @param {{id: string, kind: Kind, userId: (string | number), data: Object<string, *>}} input
   * @returns {Promise<OutboxItem>} the new item
   */
  OutboxStore.prototype.replaceItem = async function (oldId, input) {
    var at = this.isoNow();
    var tx = this.db.transaction('outbox', 'readwrite');
    var old = await tx.store.get(String(oldId));
    if (!old || old.userId !== userKey(input.userId) || old.state !== STATES.ATTENTION) {
      tx.abort();
      await tx.done.catch(function () {});
      throw new Error('That item is no longer waiting to be fixed.');
    }
    /** @type {OutboxItem} */
    var item = {
      id: String(input.id),
      kind: input.kind,
      userId: old.userId,
      data: input.data,
      state: STATES.WAITING,
      attempts: 0,
      nextAttemptAt: 0,
      lastError: null,
      errors: [],
      attentionReason: null,
      sendingSince: null,
      createdAt: old.createdAt,
      updatedAt: at,
    };
    try {
      await tx.store.add(item);
      await tx.store.delete(old.id);
      await tx.done;
    } catch (error) {
      // A failed write aborts the transaction: nothing changed, the old item is still there.
      tx.done.catch(function () {});
      throw error;
    }
    return item;
  };

  /**
   * "Send as new" for a conflict: the server holds different content under this id, so the same
   * data goes again under a fresh id.
   *
   * @param {string} oldId
   * @param {string | number} userId
   * @returns {Promise<OutboxItem>}
   */
  OutboxStore.prototype.sendAsNew = async function (oldId, userId) {
    var old = await this.getItem(oldId);
    if (!old) throw new Error('That item is no longer in the outbox.');
    return this.replaceItem(oldId, {
      id: newRecordId(this.crypto),
      kind: old.kind,
      userId: userId,
      data: old.data,
    });
  };

  /* Drafts --------------------------------------------------------------------------------- */

  /**
   * @param {{userId: (string | number), kind: Kind, recordId: string,
   *   values: Object<string, (string | string[])>}} draft
   */
  OutboxStore.prototype.saveDraft = function (draft) {
    return this.db.put('drafts', {
      userId: userKey(draft.userId),
      kind: draft.kind,
      recordId: draft.recordId,
      values: draft.values,
      savedAt: this.isoNow(),
    });
  };

  /** @returns {Promise<Draft | undefined>} */
  OutboxStore.prototype.getDraft = function (userId, kind) {
    return this.db.get('drafts', [userKey(userId), kind]);
  };

  OutboxStore.prototype.deleteDraft = function (userId, kind) {
    return this.db.delete('drafts', [userKey(userId), kind]);
  };

  /* Receipts ------------------------------------------------------------------------------- */

  /**
   * This user's receipts, one per item sent (a batch's record counts each of its items), newest
   * first. An id sent twice (queued again under it from another tab, answered `duplicate`) may
   * be listed by two records: its latest receipt counts.
   *
   * @returns {Promise<Receipt[]>}
   */
  OutboxStore.prototype.listReceipts = async function (userId) {
    var records = await this.db.getAllFromIndex('receipts', 'byUser', userKey(userId));
    var latest = new Map();
    records.forEach(function (record) {
      expandReceipt(record).forEach(function (receipt) {
        var seen = latest.get(receipt.id);
        if (!seen || seen.sentAt < receipt.sentAt) latest.set(receipt.id, receipt);
      });
    });
    return Array.from(latest.values()).sort(function (a, b) {
      return a.sentAt < b.sentAt ? 1 : a.sentAt > b.sentAt ? -1 : 0;
    });
  };

  /**
   * The receipt of item `id`: its own record, or its line in a batch's record (batchReceipt).
   * Pages ask while the item still waits (the form's "Sent" panel, on every change of the
   * outbox), so an item still in the outbox is answered from there, without looking through the
   * batches.
   *
   * @param {string} id
   * @returns {Promise<Receipt | undefined>}
   */
  OutboxStore.prototype.getReceipt = async function (id) {
    var key = String(id);
    var tx = this.db.transaction(['receipts', 'outbox'], 'readonly');
    var receipts = tx.objectStore('receipts');
    var own = await receipts.get(key);
    var found;
    if (own) {
      found = expandReceipt(own)[0];
    } else if (!(await tx.objectStore('outbox').getKey(key))) {
      // Not queued, no record of its own: a line in a batch's record, if anywhere.
      var cursor = await receipts.openCursor();
      while (cursor && !found) {
        found = expandReceipt(cursor.value)
          .slice(1)
          .filter(function (receipt) {
            return receipt.id === key;
          })[0];
        if (!found) cursor = await cursor.continue();
      }
    }
    await tx.done;
    return found;
  };

  /**
   * Receipts older than `maxAgeMs` are of no more use; items are never pruned.
   *
   * @param {number} maxAgeMs
   */
  OutboxStore.prototype.pruneReceipts = async function (maxAgeMs) {
    var cutoff = new Date(this.now() - maxAgeMs).toISOString();
    var tx = this.db.transaction('receipts', 'readwrite');
    var cursor = await tx.store.openCursor();
    while (cursor) {
      if (cursor.value.sentAt < cutoff) await cursor.delete();
      cursor = await cursor.continue();
    }
    await tx.done;
  };

  /* Sign-out ------------------------------------------------------------------------------- */

  /**
   * Sign-out on this phone (O8): the user's drafts and receipts always go; their queued items go
   * only when they chose not to keep them. Other users' data is not touched. If the phone names
   * this user as signed in (LAST_USER), that goes in the same transaction, so a drain still under
   * way writes no receipt for them after this (settleBatch); what the server acknowledges is
   * still deleted.
   *
   * @param {string | number} userId
   * @param {{keepItems: boolean}} options
   * @returns {Promise<{itemsDeleted: number, itemsKept: number}>}
   */
  OutboxStore.prototype.clearUser = async function (userId, options) {
    var who = userKey(userId);
    var tx = this.db.transaction(['outbox', 'drafts', 'receipts', 'meta'], 'readwrite');
    // In the same transaction as the receipts: from here on no receipt is written for this user
    // (settleBatch), even by a drain still under way.
    var meta = tx.objectStore('meta');
    var last = await meta.get(LAST_USER);
    if (last && last.value !== undefined && last.value !== null && userKey(last.value) === who) {
      await meta.delete(LAST_USER);
    }
    var deleted = 0;
    var kept = 0;
    var outbox = tx.objectStore('outbox');
    var ids = await outbox.index('byUser').getAllKeys(who);
    for (var i = 0; i < ids.length; i++) {
      if (options.keepItems) {
        kept += 1;
      } else {
        await outbox.delete(ids[i]);
        deleted += 1;
      }
    }
    var receipts = tx.objectStore('receipts');
    var receiptIds = await receipts.index('byUser').getAllKeys(who);
    for (var j = 0; j < receiptIds.length; j++) await receipts.delete(receiptIds[j]);
    var drafts = tx.objectStore('drafts');
    for (var k = 0; k < KINDS.length; k++) await drafts.delete([who, KINDS[k]]);
    await tx.done;
    return { itemsDeleted: deleted, itemsKept: kept };
  };

  /* Settings and the lease ----------------------------------------------------------------- */

  OutboxStore.prototype.getMeta = async function (key) {
    var row = await this.db.get('meta', key);
    return row ? row.value : undefined;
  };

  OutboxStore.prototype.setMeta = function (key, value) {
    return this.db.put('meta', { key: key, value: value });
  };

  OutboxStore.prototype.deleteMeta = function (key) {
    return this.db.delete('meta', key);
  };

  /**
   * Takes (or renews) the drain lease where Web Locks are missing. IndexedDB runs overlapping
   * read-write transactions one at a time, across tabs and the worker, so check-and-set is atomic.
   *
   * @param {string} owner a random id of this sender
   * @param {number} ttlMs how long the lease lasts unless renewed
   * @returns {Promise<boolean>} whether this owner holds it now
   */
  OutboxStore.prototype.acquireLease = async function (owner, ttlMs) {
    var nowMs = this.now();
    var tx = this.db.transaction('meta', 'readwrite');
    var row = await tx.store.get('drain-lease');
    var lease = row && row.value;
    var free = !lease || lease.owner === owner || lease.expiresAt <= nowMs;
    if (free) await tx.store.put({ key: 'drain-lease', value: { owner: owner, expiresAt: nowMs + ttlMs } });
    await tx.done;
    return free;
  };

  /** @param {string} owner */
  OutboxStore.prototype.releaseLease = async function (owner) {
    var tx = this.db.transaction('meta', 'readwrite');
    var row = await tx.store.get('drain-lease');
    if (row && row.value && row.value.owner === owner) await tx.store.delete('drain-lease');
    await tx.done;
  };

  var api = {
    DB_NAME: DB_NAME,
    DB_VERSION: DB_VERSION,
    LAST_USER: LAST_USER,
    STATES: STATES,
    KINDS: KINDS,
    openOutbox: openOutbox,
    newRecordId: newRecordId,
    sameContent: sameContent,
    OutboxStore: OutboxStore,
  };

  if (root) {
    root.FrontlineOutbox = api;
  }
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = api;
  }
})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : undefined);
