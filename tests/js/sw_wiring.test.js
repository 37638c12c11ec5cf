// sw.js only wires events to the modules. Load it as a browser would (importScripts in one global
// scope) into a stand-in worker scope, and check what each event does. The browser checks in
// docs/offline.md prove the rest.
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const ROOT = path.join(__dirname, '..', '..');

function fileFor(url) {
  // A bundle (caches.js BUNDLES) exists only as scripts/build_min_js.mjs writes it: the very file.
  if (url.endsWith('.bundle.js')) return path.join(ROOT, 'web', 'static', 'min', url.startsWith('/sw/') ? 'sw' : 'js', path.basename(url));
  if (url.startsWith('/sw/')) return path.join(ROOT, 'service_worker', url.slice(4));
  if (url.startsWith('/static/')) return path.join(ROOT, 'web', url);
  throw new Error('importScripts of an unexpected URL: ' + url);
}

function loadWorker() {
  const listeners = {};
  const calls = { skipWaiting: 0, claim: 0, deleted: [] };
  const scope = {
    location: new URL('https://frontline.example/sw.js'),
    navigator: {},
    caches: {
      keys: async () => ['frontline-shell-old', 'unrelated'],
      delete: async (name) => {
        calls.deleted.push(name);
        return true;
      },
      open: async () => ({ match: async () => undefined, put: async () => undefined }),
    },
    clients: {
      claim: async () => {
        calls.claim += 1;
      },
    },
    registration: {},
    skipWaiting: () => {
      calls.skipWaiting += 1;
    },
    addEventListener: (type, fn) => {
      listeners[type] = fn;
    },
    fetch: async () => new Response('ok'),
    URL,
    Response,
    Request,
    Headers,
    Promise,
    setTimeout,
    clearTimeout,
    console,
  };
  scope.self = scope;
  scope.importScripts = (...urls) => {
    for (const url of urls) vm.runInContext(fs.readFileSync(fileFor(url), 'utf8'), context, { filename: url });
  };
  const context = vm.createContext(scope);
  vm.runInContext(fs.readFileSync(path.join(ROOT, 'service_worker', 'sw.js'), 'utf8'), context, { filename: 'sw.js' });
  return { listeners, calls, scope };
}

function event(props) {
  const seen = { responded: null, waited: [] };
  return {
    seen,
    ...props,
    respondWith: (p) => {
      seen.responded = p;
    },
    waitUntil: (p) => {
      seen.waited.push(p);
    },
  };
}

describe('sw.js', () => {
  it('listens for exactly the events of the worker', () => {
    const { listeners } = loadWorker();
    assert.deepEqual(Object.keys(listeners).sort(), ['activate', 'fetch', 'install', 'message', 'notificationclick', 'push', 'sync']);
  });

  it('loads every module it needs into one scope', () => {
    const { scope } = loadWorker();
    for (const name of ['FrontlineVersion', 'FrontlineBackoff', 'FrontlineOutbox', 'FrontlineSync', 'FrontlineCaches', 'FrontlinePush', 'idb']) {
      assert.ok(scope[name], name);
    }
  });

  it('does not skip waiting on its own: only when the page asks', async () => {
    const { listeners, calls } = loadWorker();
    const install = event({});
    listeners.install(install);
    await Promise.allSettled(install.seen.waited);
    assert.equal(calls.skipWaiting, 0);
    listeners.message(event({ data: { type: 'SKIP_WAITING' } }));
    assert.equal(calls.skipWaiting, 1);
  });

  it('declares at install the requests it never answers, so the browser sends them straight to the network', async () => {
    const { listeners, scope } = loadWorker();
    const declared = [];
    const install = event({
      addRoutes: async (rules) => {
        declared.push(rules);
      },
    });
    listeners.install(install);
    await Promise.allSettled(install.seen.waited);
    assert.equal(declared.length, 1);
    assert.deepEqual(declared[0], scope.FrontlineCaches.NETWORK_ROUTES.slice());
    assert.ok(declared[0].some((rule) => rule.condition.requestMethod === 'POST'));
  });

  it('still installs where the browser refuses the routes, and where it has none to take', async () => {
    // (The precache's own promise fails here: this stand-in scope's fetch answers "ok" to all.)
    const refused = loadWorker();
    const install = event({ addRoutes: async () => Promise.reject(new TypeError('unsupported condition')) });
    refused.listeners.install(install);
    assert.equal(install.seen.waited.length, 2, 'the routes, then the precache');
    const [routes] = await Promise.allSettled(install.seen.waited);
    assert.equal(routes.status, 'fulfilled', 'a refusal does not fail the install');

    const none = loadWorker();
    const plain = event({});
    none.listeners.install(plain);
    assert.equal(plain.seen.waited.length, 1, 'only the precache');
    await Promise.allSettled(plain.seen.waited);
  });

  it('takes control of a page that missed the first claim, when it asks', async () => {
    const { listeners, calls } = loadWorker();
    const message = event({ data: { type: 'CLAIM' } });
    listeners.message(message);
    await Promise.all(message.seen.waited);
    assert.equal(calls.claim, 1);
  });

  it('on activate deletes our old caches and takes control of open pages', async () => {
    const { listeners, calls } = loadWorker();
    const activate = event({});
    listeners.activate(activate);
    await Promise.all(activate.seen.waited);
    assert.deepEqual(calls.deleted, ['frontline-shell-old']);
    assert.equal(calls.claim, 1);
  });

  it('never touches a POST, and answers the app pages itself', () => {
    const { listeners } = loadWorker();
    const post = event({ request: { url: 'https://frontline.example/api/v1/sync', method: 'POST', mode: 'cors' } });
    listeners.fetch(post);
    assert.equal(post.seen.responded, null);
    const api = event({ request: { url: 'https://frontline.example/api/v1/ideas', method: 'GET', mode: 'cors' } });
    listeners.fetch(api);
    assert.equal(api.seen.responded, null);
    const page = event({ request: { url: 'https://frontline.example/outbox', method: 'GET', mode: 'navigate' } });
    listeners.fetch(page);
    assert.ok(page.seen.responded);
  });

  it('stores the user\'s page copies and data when a page asks after sign-in (O7), not after sign-out', async () => {
    const { listeners, scope } = loadWorker();
    const asked = [];
    scope.fetch = async (url, init) => {
      asked.push([url, init.credentials]);
      return new Response('<html></html>');
    };
    const replies = [];
    const message = event({ data: { type: 'STORE_USER_COPIES', force: true }, ports: [{ postMessage: (m) => replies.push(m) }] });
    listeners.message(message);
    await Promise.all(message.seen.waited);
    assert.deepEqual(
      asked.map(([u]) => u).sort(),
      ['/', '/api/v1/me/submissions', '/api/v1/reference', '/handovers/new', '/ideas/new', '/logout', '/mine', '/outbox']
    );
    assert.ok(asked.every(([, credentials]) => credentials === 'same-origin'));
    assert.equal(replies[0].type, 'STORED');
  });

  // A plain 200 from our own server, as the browser's fetch gives it (node's Response says 'default').
  const page = (body) => Object.defineProperty(new Response(body), 'type', { value: 'basic' });

  it('a phone\'s first visit fetches each copy once: the page\'s ask joins the new worker\'s (issue 16)', async () => {
    const { listeners, scope } = loadWorker();
    const asked = [];
    scope.fetch = async (url) => {
      asked.push(url);
      return page('<html></html>');
    };
    const activate = event({});
    listeners.activate(activate);
    const message = event({ data: { type: 'STORE_USER_COPIES', force: true }, ports: [{ postMessage: () => {} }] });
    listeners.message(message);
    await Promise.all([...activate.seen.waited, ...message.seen.waited]);
    assert.equal(asked.length, 8);
    assert.equal(new Set(asked).size, 8);
  });

  it('a forced ask that joined a store which missed copies (begun before sign-in) runs again', async () => {
    const { listeners, scope } = loadWorker();
    const asked = [];
    let signedIn = false;
    scope.fetch = async (url) => {
      asked.push(url);
      // Signed out, every page answers with the sign-in page: not a copy worth keeping.
      return signedIn ? page('<html></html>') : new Response('', { status: 401 });
    };
    const first = event({ data: { type: 'STORE_USER_COPIES', force: false }, ports: [{ postMessage: () => {} }] });
    listeners.message(first);
    signedIn = true;
    const replies = [];
    const second = event({ data: { type: 'STORE_USER_COPIES', force: true }, ports: [{ postMessage: (m) => replies.push(m) }] });
    listeners.message(second);
    await Promise.all([...first.seen.waited, ...second.seen.waited]);
    assert.equal(asked.length, 16);
    assert.equal(replies[0].result.stored.length, 8);
  });

  it('at sign-out clears the page copies and data, and says so', async () => {
    const { listeners, calls } = loadWorker();
    const replies = [];
    const message = event({ data: { type: 'CLEAR_USER_CACHES' }, ports: [{ postMessage: (m) => replies.push(m) }] });
    listeners.message(message);
    await Promise.all(message.seen.waited);
    assert.deepEqual(calls.deleted.sort(), ['frontline-data-v1', 'frontline-pages-v1']);
    assert.deepEqual(JSON.parse(JSON.stringify(replies)), [{ type: 'CLEARED' }]);
  });

  it('ignores Background Sync tags that are not the outbox\'s', () => {
    const { listeners } = loadWorker();
    const sync = event({ tag: 'something-else' });
    listeners.sync(sync);
    assert.deepEqual(sync.seen.waited, []);
  });
});
