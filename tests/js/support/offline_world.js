// A small world for the outbox tests: a fake Frontline server behind a fake fetch, a clock, a
// seeded random source, Web Locks, and a fresh IndexedDB (fake-indexeddb) per store.
//
// The fake server judges items the way api/sync does: an id it holds with the same owner and
// content is a `duplicate`, with anything else a `conflict`; `data.valid === false` is
// `rejected`. It can be told how to answer the next requests (a network error, a lost response
// after storing, a 5xx, a login page...), and it records every request for the tests to read.
'use strict';

require('fake-indexeddb/auto');
const { IDBFactory } = require('fake-indexeddb');
const idb = require('idb');

const { openOutbox } = require('../../../service_worker/outbox.js');

/** mulberry32: a tiny seeded PRNG, so a failing randomised run can be replayed. */
function seededRandom(seed) {
  let a = seed >>> 0;
  return function random() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function clock(start = Date.UTC(2026, 10, 24, 9, 0, 0)) {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}

/** A fresh outbox in its own IndexedDB. */
async function freshStore(now, name) {
  return openOutbox({ idb, indexedDB: new IDBFactory(), now: now || Date.now, name });
}

/** An answer object with what sync.js reads from a Response. */
function reply({ status = 200, type = 'basic', redirected = false, headers = {}, body = '' } = {}) {
  const h = new Headers(headers);
  return {
    status,
    type,
    redirected,
    ok: status >= 200 && status < 300,
    headers: h,
    json: async () => JSON.parse(body),
    text: async () => body,
  };
}

function jsonReply(status, value, headers = {}) {
  return reply({ status, body: JSON.stringify(value), headers: { 'content-type': 'application/json', ...headers } });
}

function networkError() {
  return new TypeError('Failed to fetch');
}

function canonical(data) {
  const copy = {};
  Object.keys(data)
    .sort()
    .forEach((k) => {
      copy[k] = data[k];
    });
  return JSON.stringify(copy);
}

/**
 * The fake server. `session` is who is signed in (null: signed out). `plan` holds the answers to
 * give to the next /api/v1/sync requests (then it answers normally); `mePlan` the same for
 * /api/v1/me.
 */
class FakeServer {
  constructor() {
    /** @type {Map<string, {owner: string, content: string, kind: string}>} */
    this.records = new Map();
    /** id -> how many times it was created (must never exceed 1) */
    this.created = new Map();
    this.session = { userId: '1', csrf: 'csrf-1' };
    this.plan = [];
    this.mePlan = [];
    this.requests = [];
    /** id -> requests the phone is still waiting on */
    this.inFlight = new Map();
    this.overlaps = [];
    this.latencyTicks = 1;
    /** When set, each sync request's own latency in ticks (answers then come out of order). */
    this.latency = null;
    this.fetch = this.fetch.bind(this);
  }

  signIn(userId) {
    this.session = { userId: String(userId), csrf: 'csrf-' + userId };
  }

  signOut() {
    this.session = null;
  }

  async tick(n = this.latencyTicks) {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  async fetch(url, init = {}) {
    const path = String(url);
    if (path === '/api/v1/me') return this.me(init);
    if (path === '/api/v1/sync') return this.sync(init);
    if (path === '/logout') return this.logout(init);
    throw new Error('unexpected fetch ' + path);
  }

  /** POST /logout: ends the session whose CSRF token it carries; another token is refused. */
  async logout(init) {
    this.requests.push({ path: '/logout', init, csrf: (init.headers || {})['X-CSRF-Token'] });
    const step = (this.logoutPlan || []).shift();
    await this.tick();
    if (step === 'network') throw networkError();
    if (step === 'html') return reply({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html>Wi-Fi sign in</html>' });
    const token = (init.headers || {})['X-CSRF-Token'];
    if (!this.session || this.session.csrf !== token) return jsonReply(403, { detail: 'CSRF' });
    this.session = null;
    return reply({ status: 0, type: 'opaqueredirect' });
  }

  async me(init) {
    this.requests.push({ path: '/api/v1/me', init });
    const step = this.mePlan.shift();
    await this.tick();
    if (step === 'network') throw networkError();
    if (step === 'html') return reply({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html>Wi-Fi sign in</html>' });
    if (step === 'redirect') return reply({ status: 0, type: 'opaqueredirect' });
    if (step === '500') return jsonReply(500, { detail: 'boom' });
    if (!this.session) return jsonReply(401, { detail: 'Sign in' });
    return jsonReply(200, { id: Number(this.session.userId), email: 'x', name: 'x', role: 'reporter', team_id: 1, csrf_token: this.session.csrf });
  }

  /** Judges items as api/sync/ingest.py does. */
  ingest(items, userId) {
    return items.map((item) => {
      if (item.data && item.data.valid === false) {
        return { id: item.id, kind: item.kind, outcome: 'rejected', errors: [{ field: 'title', message: 'Enter a title' }] };
      }
      const content = canonical(item.data);
      const held = this.records.get(item.id);
      if (held) {
        const outcome = held.owner === userId && held.content === content ? 'duplicate' : 'conflict';
        return { id: item.id, kind: item.kind, outcome, errors: [] };
      }
      this.records.set(item.id, { owner: userId, content, kind: item.kind });
      this.created.set(item.id, (this.created.get(item.id) || 0) + 1);
      return { id: item.id, kind: item.kind, outcome: 'created', errors: [] };
    });
  }

  async sync(init) {
    const body = JSON.parse(init.body);
    const step = this.plan.shift() || 'ok';
    const request = {
      path: '/api/v1/sync',
      init,
      step,
      ids: body.items.map((i) => i.id),
      session: this.session ? this.session.userId : null,
      csrf: init.headers && init.headers['X-CSRF-Token'],
      items: body.items,
    };
    this.requests.push(request);
    // In flight as the phone sees it: from the request until the answer, or until the phone gives
    // up waiting (its timeout aborts the request). An abandoned request may still be processed
    // here, as on a real server: that is a lost response, which a retry turns into `duplicate`.
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      for (const id of request.ids) this.inFlight.set(id, this.inFlight.get(id) - 1);
    };
    for (const id of request.ids) {
      if (this.inFlight.get(id)) this.overlaps.push(id);
      this.inFlight.set(id, (this.inFlight.get(id) || 0) + 1);
    }
    if (init.signal) init.signal.addEventListener('abort', close);
    try {
      await this.tick(this.latency ? this.latency() : this.latencyTicks);
      if (step === 'network') throw networkError();
      if (step === 'timeout') {
        await new Promise((resolve, reject) => {
          if (init.signal) {
            init.signal.addEventListener('abort', () => {
              const error = new Error('aborted');
              error.name = 'AbortError';
              reject(error);
            });
          }
        });
      }
      if (step === 'html') return reply({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<!doctype html><title>Sign in to Wi-Fi</title>' });
      if (step === 'redirect') return reply({ status: 0, type: 'opaqueredirect' });
      if (step === '302') return reply({ status: 302, headers: { location: '/login' } });
      if (step === '500') return jsonReply(500, { detail: 'boom' });
      if (step === '502-html') return reply({ status: 502, headers: { 'content-type': 'text/html' }, body: 'Bad gateway' });
      if (step === '503-retry-after') return jsonReply(503, { detail: 'busy' }, { 'retry-after': '120' });
      if (step === '429') return jsonReply(429, { detail: 'slow down' }, { 'retry-after': '30' });
      if (step === '429-no-header') return jsonReply(429, { detail: 'slow down' });
      if (step === '413') return jsonReply(413, { detail: 'too large' });
      if (step === '400') return jsonReply(400, { detail: 'bad' });
      if (step === '401' || !this.session) return jsonReply(401, { detail: 'Sign in' });
      if (step === '403' || request.csrf !== this.session.csrf) return jsonReply(403, { detail: 'CSRF' });
      if (step === '422-second') {
        return jsonReply(422, {
          detail: [{ loc: ['body', 'items', 1, 'kind'], msg: 'Field required', type: 'missing' }],
        });
      }
      const results = this.ingest(body.items, this.session.userId);
      if (step === 'lost') throw networkError(); // stored, but the answer never arrives
      if (step === 'partial') return jsonReply(200, { results: results.slice(0, 1) });
      if (step === 'wrong-ids') return jsonReply(200, { results: results.map((r) => ({ ...r, id: 'someone-else' })) });
      return jsonReply(200, { results });
    } finally {
      close();
    }
  }

  syncRequests() {
    return this.requests.filter((r) => r.path === '/api/v1/sync');
  }
}

/** Web Locks as navigator.locks behaves for one name: exclusive, with ifAvailable. */
function fakeLocks() {
  let held = false;
  const queue = [];
  function next() {
    if (held || !queue.length) return;
    held = true;
    const run = queue.shift();
    run();
  }
  return {
    request(name, options, callback) {
      return new Promise((resolve, reject) => {
        const run = () => {
          Promise.resolve()
            .then(() => callback({ name }))
            .then(resolve, reject)
            .finally(() => {
              held = false;
              next();
            });
        };
        if (options.ifAvailable && held) {
          Promise.resolve().then(() => callback(null)).then(resolve, reject);
          return;
        }
        queue.push(run);
        next();
      });
    },
  };
}

/** Timers that fire at once for delays under `limit` ms of real time, for timeout tests. */
const realTimers = { setTimeout, clearTimeout };

/**
 * Counts the requests made on one object store (the outbox unless `storeName` says) while `fn` runs, for each method named
 * (fake-indexeddb's prototypes, put back afterwards): what a drain costs the browser is mostly
 * how many IndexedDB requests it makes (issue 16, fourth pass).
 * @param {() => Promise<any>} fn
 * @param {string[]} names
 */
async function countingOutboxRequests(fn, names, storeName = 'outbox') {
  const { IDBObjectStore } = require('fake-indexeddb');
  const counts = Object.fromEntries(names.map((name) => [name, 0]));
  const saved = {};
  for (const name of names) {
    saved[name] = IDBObjectStore.prototype[name];
    IDBObjectStore.prototype[name] = function (...args) {
      if (this.name === storeName) counts[name] += 1;
      return saved[name].apply(this, args);
    };
  }
  try {
    return { result: await fn(), counts };
  } finally {
    Object.assign(IDBObjectStore.prototype, saved);
  }
}

module.exports = {
  countingOutboxRequests,
  FakeServer,
  fakeLocks,
  freshStore,
  seededRandom,
  clock,
  reply,
  jsonReply,
  realTimers,
};
