// What the service worker caches and how it answers (SPEC §5 O7, O8), with a fake Cache Storage.
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const Caches = require('../../service_worker/caches.js');
const Version = require('../../service_worker/version.js');

const ROOT = path.join(__dirname, '..', '..');
const ORIGIN = 'https://frontline.example';

/** A bundle as scripts/build_min_js.mjs writes it (caches.js BUNDLES); it has no source file. */
function builtBundle(url) {
  return path.join(ROOT, 'web', 'static', 'min', url.startsWith('/sw/') ? 'sw' : 'js', path.basename(url));
}

/** A script as the server sends it at its plain URL: the minified copy, or the vendor file. */
function servedScript(url) {
  if (url.startsWith('/sw/')) return fs.readFileSync(path.join(ROOT, 'web', 'static', 'min', 'sw', url.slice(4)), 'utf8');
  if (url.startsWith('/static/js/')) return fs.readFileSync(path.join(ROOT, 'web', 'static', 'min', 'js', path.basename(url)), 'utf8');
  return fs.readFileSync(path.join(ROOT, 'web', url), 'utf8');
}

class FakeCache {
  constructor() {
    this.entries = new Map();
  }
  key(request) {
    return typeof request === 'string' ? new URL(request, ORIGIN).href : request.url;
  }
  async match(request) {
    const hit = this.entries.get(this.key(request));
    return hit ? hit.clone() : undefined;
  }
  async put(request, response) {
    this.entries.set(this.key(request), response);
  }
}

class FakeCacheStorage {
  constructor() {
    this.caches = new Map();
  }
  async open(name) {
    if (!this.caches.has(name)) this.caches.set(name, new FakeCache());
    return this.caches.get(name);
  }
  async keys() {
    return [...this.caches.keys()];
  }
  async delete(name) {
    return this.caches.delete(name);
  }
}

/** A same-origin answer as the browser gives it to a worker. */
function basic(body, { status = 200, redirected = false, type = 'basic', headers = { 'content-type': 'text/html' } } = {}) {
  const response = new Response(body, { status, headers });
  Object.defineProperty(response, 'type', { value: type });
  Object.defineProperty(response, 'redirected', { value: redirected });
  return response;
}

function navigation(pathname) {
  return { url: ORIGIN + pathname, method: 'GET', mode: 'navigate' };
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function respond(cacheStorage, request, fetchImpl, extra = {}) {
  const url = new URL(request.url);
  const pending = [];
  const answer = Caches.respond({
    request,
    url,
    route: Caches.routeFor(url, request, ORIGIN),
    caches: cacheStorage,
    fetch: fetchImpl,
    waitUntil: (p) => pending.push(p),
    now: () => Date.parse('2026-11-24T09:30:00Z'),
    timeoutMs: 20,
    ...extra,
  });
  return { answer, settled: () => Promise.all(pending) };
}

describe('which requests the worker answers', () => {
  const cases = [
    ['GET', 'navigate', '/', 'app-page'],
    ['GET', 'navigate', '/handovers/new', 'app-page'],
    ['GET', 'navigate', '/ideas/new', 'app-page'],
    ['GET', 'navigate', '/outbox', 'app-page'],
    ['GET', 'navigate', '/mine', 'app-page'],
    ['GET', 'navigate', '/handovers/new?fix=abc', 'app-page'],
    ['GET', 'navigate', '/triage', 'page'],
    ['GET', 'navigate', '/handovers', 'page'],
    ['GET', 'navigate', '/measures', 'page'],
    ['GET', 'navigate', '/login', 'sign-in'],
    ['GET', 'cors', '/api/v1/reference', 'api-cached'],
    ['GET', 'cors', '/api/v1/me/submissions', 'api-cached'],
    ['GET', 'cors', '/api/v1/me', null],
    ['GET', 'cors', '/api/v1/ideas', null],
    ['GET', 'cors', '/api/v1/export/ideas.csv', null],
    ['GET', 'cors', '/triage?page=2', null],
    ['GET', 'no-cors', '/static/css/app.css', 'static'],
    ['GET', 'no-cors', '/sw/outbox.js', 'static'],
    ['GET', 'no-cors', '/static/css/measures.css', null],
    ['GET', 'no-cors', '/sw/caches.js', null],
    ['GET', 'no-cors', '/manifest.webmanifest', 'static'],
    ['GET', 'no-cors', '/static/vendor/nhsuk-frontend/nhsuk-frontend.min.js.map', null],
    ['GET', 'no-cors', '/sw.js', null],
    ['POST', 'navigate', '/handovers', null],
    ['POST', 'cors', '/api/v1/sync', null],
    ['POST', 'navigate', '/logout', null],
  ];
  for (const [method, mode, pathname, route] of cases) {
    it(`${method} ${pathname} (${mode}) → ${route}`, () => {
      assert.equal(Caches.routeFor(new URL(ORIGIN + pathname), { method, mode }, ORIGIN), route);
    });
  }

  // The routes the worker declares at install (NETWORK_ROUTES) must only ever name requests that
  // routeFor leaves to the browser: one the worker answers (from its cache) must match none.
  function matches(rule, method, pathname) {
    const c = rule.condition;
    if (c.requestMethod && c.requestMethod !== method) return false;
    if (c.urlPattern && c.urlPattern.pathname !== pathname) return false;
    return true;
  }
  for (const [method, mode, pathname, route] of cases.filter((c) => c[3] !== null)) {
    it(`${method} ${pathname} (${mode}) is answered by the worker: it matches no network route`, () => {
      assert.equal(Caches.NETWORK_ROUTES.some((rule) => matches(rule, method, pathname)), false, route);
    });
  }

  it('sends every request that is not a GET, and GET /api/v1/me, straight to the network', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      for (const pathname of ['/api/v1/sync', '/handovers', '/logout', '/anything']) {
        assert.ok(Caches.NETWORK_ROUTES.some((rule) => matches(rule, method, pathname)), `${method} ${pathname}`);
        assert.equal(Caches.routeFor(new URL(ORIGIN + pathname), { method, mode: 'navigate' }, ORIGIN), null);
      }
    }
    assert.ok(Caches.NETWORK_ROUTES.some((rule) => matches(rule, 'GET', '/api/v1/me')));
    for (const pathname of ['/api/v1/reference', '/api/v1/me/submissions', '/outbox', '/sw/outbox.js']) {
      assert.equal(Caches.NETWORK_ROUTES.some((rule) => matches(rule, 'GET', pathname)), false, pathname);
    }
  });

  it('leaves other sites alone', () => {
    assert.equal(Caches.routeFor(new URL('https://elsewhere.example/static/x.js'), { method: 'GET', mode: 'no-cors' }, ORIGIN), null);
  });
});

describe('app pages: network first, then the stored copy', () => {
  it('answers from the network and keeps a copy stamped with its time', async () => {
    const storage = new FakeCacheStorage();
    const { answer, settled } = respond(storage, navigation('/handovers/new'), async () => basic('<html lang="en">form</html>'));
    assert.equal(await (await answer).text(), '<html lang="en">form</html>');
    await settled();
    const stored = await (await storage.open(Version.PAGES_CACHE)).match(ORIGIN + '/handovers/new');
    assert.equal(stored.headers.get(Caches.STORED_AT_HEADER), '2026-11-24T09:30:00.000Z');
  });

  it('offline, opens the stored copy marked as a copy (also with ?fix=)', async () => {
    const storage = new FakeCacheStorage();
    await respond(storage, navigation('/handovers/new'), async () => basic('<html lang="en">form</html>')).settled();
    const { answer } = respond(storage, navigation('/handovers/new?fix=abc'), async () => {
      throw new TypeError('offline');
    });
    const html = await (await answer).text();
    assert.equal(html, '<html data-offline-copy="2026-11-24T09:30:00.000Z" lang="en">form</html>');
  });

  it('shows the stored copy when the network is slow, and still refreshes it', async () => {
    const storage = new FakeCacheStorage();
    await respond(storage, navigation('/mine'), async () => basic('<html>old</html>')).settled();
    const { answer, settled } = respond(storage, navigation('/mine'), async () => {
      await wait(60);
      return basic('<html>new</html>');
    });
    assert.match(await (await answer).text(), /old/);
    await settled();
    const refreshed = await (await storage.open(Version.PAGES_CACHE)).match(ORIGIN + '/mine');
    assert.equal(await refreshed.text(), '<html>new</html>');
  });

  it('waits for a slow network when there is no copy', async () => {
    const storage = new FakeCacheStorage();
    const { answer } = respond(storage, navigation('/mine'), async () => {
      await wait(60);
      return basic('<html>late</html>');
    });
    assert.equal(await (await answer).text(), '<html>late</html>');
  });

  it('prefers the copy to a server error, but shows the error when there is no copy', async () => {
    const storage = new FakeCacheStorage();
    const failing = async () => basic('oops', { status: 503 });
    assert.equal((await respond(storage, navigation('/outbox'), failing).answer).status, 503);
    await respond(storage, navigation('/outbox'), async () => basic('<html>outbox</html>')).settled();
    assert.match(await (await respond(storage, navigation('/outbox'), failing).answer).text(), /outbox/);
  });

  it('never keeps a redirect (the sign-in page) or an error as the copy', async () => {
    const storage = new FakeCacheStorage();
    const opaqueRedirect = { status: 0, type: 'opaqueredirect', redirected: false, headers: new Headers(), clone() { return this; } };
    for (const response of [
      opaqueRedirect,
      basic('<html>login</html>', { redirected: true }),
      basic('<html>gone</html>', { status: 404 }),
    ]) {
      await respond(storage, navigation('/'), async () => response).settled();
    }
    assert.equal(await (await storage.open(Version.PAGES_CACHE)).match(ORIGIN + '/'), undefined);
  });

  it('offline with no copy, shows the offline page from the shell', async () => {
    const storage = new FakeCacheStorage();
    await (await storage.open(Version.SHELL_CACHE)).put('/offline', basic('<html>You are offline</html>'));
    const { answer } = respond(storage, navigation('/ideas/new'), async () => {
      throw new TypeError('offline');
    });
    assert.match(await (await answer).text(), /You are offline/);
  });
});

describe('other requests', () => {
  it('other pages: the network, else the offline page, and never a stored copy', async () => {
    const storage = new FakeCacheStorage();
    await (await storage.open(Version.SHELL_CACHE)).put('/offline', basic('<html>You are offline</html>'));
    const live = respond(storage, navigation('/triage'), async () => basic('<html>queue</html>'));
    assert.match(await (await live.answer).text(), /queue/);
    await live.settled();
    const offline = respond(storage, navigation('/triage'), async () => {
      throw new TypeError('offline');
    });
    assert.match(await (await offline.answer).text(), /You are offline/);
    assert.equal(storage.caches.has(Version.PAGES_CACHE), false);
  });

  it('shell files: from the shell cache first; other static files are left to the network', async () => {
    const storage = new FakeCacheStorage();
    const request = { url: ORIGIN + '/static/css/app.css', method: 'GET', mode: 'no-cors' };
    await (await storage.open(Version.SHELL_CACHE)).put(request, basic('cached css'));
    let fetched = 0;
    const fetchImpl = async () => {
      fetched += 1;
      return basic('network css');
    };
    assert.equal(await (await respond(storage, request, fetchImpl).answer).text(), 'cached css');
    assert.equal(fetched, 0);
    const other = new URL(ORIGIN + '/static/css/measures.css');
    assert.equal(Caches.routeFor(other, { method: 'GET', mode: 'no-cors' }, ORIGIN), null, 'not in the shell: not cached');
  });

  it('reference data and my submissions: network first, the stored answer offline', async () => {
    const storage = new FakeCacheStorage();
    const request = { url: ORIGIN + '/api/v1/reference', method: 'GET', mode: 'cors' };
    const json = { headers: { 'content-type': 'application/json' } };
    await respond(storage, request, async () => basic('{"teams":[]}', json)).settled();
    const offline = respond(storage, request, async () => {
      throw new TypeError('offline');
    });
    assert.equal(await (await offline.answer).text(), '{"teams":[]}');
    const nothing = respond(new FakeCacheStorage(), request, async () => {
      throw new TypeError('offline');
    });
    assert.equal((await nothing.answer).status, 503);
  });
});

describe('cache housekeeping', () => {
  it('a new version deletes only our older caches, keeping page copies and others\' caches', async () => {
    const storage = new FakeCacheStorage();
    for (const name of ['frontline-shell-2026.01.01-1-abc', Version.SHELL_CACHE, Version.PAGES_CACHE, Version.DATA_CACHE, 'someone-else']) {
      await storage.open(name);
    }
    assert.deepEqual(await Caches.deleteOldCaches(storage), ['frontline-shell-2026.01.01-1-abc']);
    assert.deepEqual((await storage.keys()).sort(), [Version.DATA_CACHE, Version.PAGES_CACHE, Version.SHELL_CACHE, 'someone-else'].sort());
  });

  it('sign-out deletes the page copies and API data, not the shell', async () => {
    const storage = new FakeCacheStorage();
    for (const name of [Version.SHELL_CACHE, Version.PAGES_CACHE, Version.DATA_CACHE]) await storage.open(name);
    await Caches.clearUserCaches(storage);
    assert.deepEqual(await storage.keys(), [Version.SHELL_CACHE]);
  });

  it('precaches the shell revalidated against the HTTP cache (never an unchecked copy), and the offline page without cookies', async () => {
    const storage = new FakeCacheStorage();
    const seen = [];
    await Caches.precache(storage, async (url, init) => {
      seen.push([url, init]);
      return basic('x');
    });
    assert.equal(seen.length, Caches.PRECACHE_URLS.length);
    // 'no-cache': a copy in the HTTP cache is used only after the server says it is current (304).
    // Not 'default' or 'force-cache': those could store a file older than this version's.
    assert.ok(seen.every(([, init]) => init.cache === 'no-cache'));
    assert.deepEqual(seen.filter(([, init]) => init.credentials === 'omit').map(([u]) => u), ['/offline', '/login']);
    await assert.rejects(Caches.precache(new FakeCacheStorage(), async () => basic('', { status: 404 })));
  });
});

describe('the precache list', () => {
  const fileFor = (url) =>
    url === '/manifest.webmanifest'
      ? path.join(ROOT, 'web', 'static', 'manifest.webmanifest')
      : url.endsWith('.bundle.js')
        ? builtBundle(url)
        : url.startsWith('/sw/')
          ? path.join(ROOT, 'service_worker', url.slice(4))
          : path.join(ROOT, 'web', url);

  it('names only files that exist (the offline and sign-in pages are routes)', () => {
    for (const url of Caches.PRECACHE_URLS) {
      if (url === '/offline' || url === '/login') continue;
      assert.ok(fs.existsSync(fileFor(url)), url);
      assert.ok(!url.endsWith('.map'), url);
    }
  });

  it('holds every script, stylesheet and icon the offline pages load', () => {
    // The templates of the pages that open offline, and everything they extend, include or import.
    const TEMPLATES = path.join(ROOT, 'web', 'templates');
    const pending = ['base.html', 'home.html', 'handovers/new.html', 'ideas/new.html', 'outbox.html', 'mine.html', 'offline.html', 'login.html', 'logout.html'];
    const seen = new Set();
    const used = new Set();
    while (pending.length) {
      const name = pending.pop();
      if (seen.has(name)) continue;
      seen.add(name);
      const file = path.join(TEMPLATES, name);
      if (!fs.existsSync(file)) continue; // a macro from the nhsuk package
      // What base.html loads only for pages that use htmx is not loaded by these (none sets it).
      const source = fs.readFileSync(file, 'utf8');
      assert.doesNotMatch(source, /set uses_htmx/, `${name} opens offline and must not need htmx`);
      const html = source.replace(/\{%-?\s*if uses_htmx\s*-?%\}[\s\S]*?\{%-?\s*endif\s*-?%\}/g, '');
      for (const match of html.matchAll(/\{%-?\s*(?:extends|include|from|import)\s+"([^"]+)"/g)) pending.push(match[1]);
      // Pages name static files through static_url (api/templating.py), which hashes them.
      for (const match of html.matchAll(/(?:src|href)="\{\{ static_url\('(\/(?:static|sw)\/[^'?#]+)'\) \}\}"/g)) used.add(match[1]);
      assert.doesNotMatch(html, /(?:src|href)="\/(?:static|sw)\//, `${name} names a static file without static_url`);
    }
    const nhsInit = fs.readFileSync(path.join(ROOT, 'web', 'static', 'js', 'nhsuk-init.js'), 'utf8');
    for (const match of nhsInit.matchAll(/from "(\/static\/[^"]+)"/g)) used.add(match[1]);
    assert.ok(seen.has('_field_errors.html'), 'includes and imports are followed');
    assert.ok(used.size > 10);
    for (const url of used) assert.ok(Caches.PRECACHE_URLS.includes(url), `${url} is loaded by an offline page but not precached`);
  });

  it('leaves out the manifest\'s icons: no page renders them, the browser fetches them to install', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'web', 'static', 'manifest.webmanifest'), 'utf8'));
    assert.ok(manifest.icons.length >= 2);
    for (const icon of manifest.icons) assert.ok(!Caches.PRECACHE_URLS.includes(icon.src), icon.src);
  });
});

describe('the bundles (BUNDLES, built by scripts/build_min_js.mjs)', () => {
  it('are precached, and hold their parts, each once, in the listed order', () => {
    for (const [bundle, parts] of Object.entries(Caches.BUNDLES)) {
      assert.ok(Caches.PRECACHE_URLS.includes(bundle), bundle);
      const text = fs.readFileSync(builtBundle(bundle), 'utf8');
      const marks = [...text.matchAll(/\/\*frontline-part:([^*]+)\*\/\n/g)].map((m) => m[1]);
      assert.deepEqual(marks, parts, `${bundle} is stale: run node scripts/build_min_js.mjs`);
      for (const part of parts) {
        const body = Caches.partOf(text, part);
        assert.ok(body.includes(servedScript(part).trim().replace(/;$/, '')), `${bundle}: ${part} is stale`);
        assert.ok(!Caches.PRECACHE_URLS.includes(part), `${part} is precached twice (alone and in ${bundle})`);
      }
    }
    const parts = Object.values(Caches.BUNDLES).flat();
    assert.equal(new Set(parts).size, parts.length, 'a script is in one bundle only');
  });

  it('are what templates load: no template names a bundled script on its own (it would run twice)', () => {
    const parts = new Set(Object.values(Caches.BUNDLES).flat());
    const templates = [];
    const walk = (folder) => {
      for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
        const file = path.join(folder, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (entry.name.endsWith('.html')) templates.push(file);
      }
    };
    walk(path.join(ROOT, 'web', 'templates'));
    assert.ok(templates.length > 20);
    const loads = {};
    for (const file of templates) {
      const html = fs.readFileSync(file, 'utf8').replace(/\{#[\s\S]*?#\}/g, '');
      for (const match of html.matchAll(/static_url\('([^']+)'\)/g)) {
        assert.ok(!parts.has(match[1]), `${path.relative(ROOT, file)} loads ${match[1]}, which is in a bundle`);
        (loads[match[1]] = loads[match[1]] || []).push(path.relative(ROOT, file));
      }
    }
    assert.deepEqual(loads['/sw/outbox-core.bundle.js'], ['web/templates/base.html']);
    assert.deepEqual(loads['/static/js/page.bundle.js'], ['web/templates/base.html']);
  });

  it('are imported by the worker: the outbox core is the file the pages load', () => {
    const worker = fs.readFileSync(path.join(ROOT, 'service_worker', 'sw.js'), 'utf8');
    const imports = [...worker.match(/importScripts\(([^)]*)\)/)[1].matchAll(/'([^']+)'/g)].map((m) => m[1]);
    assert.deepEqual(imports, ['/sw/outbox-core.bundle.js', '/sw/caches.js', '/sw/push.js']);
  });
});

describe('as the server sends it: the precache list with content-hashed URLs (api/static_assets.py)', () => {
  // What the server does to caches.js: each /static/ and /sw/ URL in it becomes its hashed URL.
  const hashed = (url, digest = '0123abcdef') =>
    /^\/(static|sw)\//.test(url) ? url.replace(/(\.[A-Za-z0-9]+)$/, `.${digest}$1`) : url;
  function served() {
    let source = fs.readFileSync(path.join(ROOT, 'service_worker', 'caches.js'), 'utf8');
    // Every quoted /static/ or /sw/ URL: the precache list, the bundles and their parts.
    source = source.replace(/'(\/(?:static|sw)\/[^'\s]+)'/g, (_, url) => `'${hashed(url)}'`);
    const module = { exports: {} };
    new Function('module', 'require', source)(module, (name) => require(path.join(ROOT, 'service_worker', name)));
    return module.exports;
  }
  const Served = served();
  const app = hashed('/static/js/sign-in.js');

  it('holds the hashed URLs and only them', () => {
    assert.equal(Served.PRECACHE_URLS.length, Caches.PRECACHE_URLS.length);
    assert.ok(Served.PRECACHE_URLS.includes(app));
    assert.ok(!Served.PRECACHE_URLS.includes('/static/js/sign-in.js'));
  });

  it('takes a hashed file from the HTTP cache (it cannot be another version) and revalidates the rest', async () => {
    const seen = [];
    await Served.precache(new FakeCacheStorage(), async (url, init) => {
      seen.push([url, init.cache]);
      return basic('x');
    });
    for (const [url, mode] of seen) {
      assert.equal(mode, Served.HASHED_NAME.test(url) ? 'default' : 'no-cache', url);
    }
    assert.deepEqual(seen.filter(([, mode]) => mode === 'no-cache').map(([u]) => u).sort(), ['/login', '/manifest.webmanifest', '/offline']);
  });

  it('answers the hashed URL, an older page copy\'s plain URL and another version\'s hash of a shell file', () => {
    const route = (pathname) => Served.routeFor(new URL(ORIGIN + pathname), { method: 'GET', mode: 'no-cors' }, ORIGIN);
    assert.equal(route(app), 'static');
    assert.equal(route('/static/js/sign-in.js'), 'static');
    assert.equal(Served.shellKey('/static/js/sign-in.js'), app);
    assert.equal(route(hashed('/static/js/sign-in.js', 'fedcba9876')), 'static');
    assert.equal(Served.shellKey(hashed('/static/js/sign-in.js', 'fedcba9876')), app);
    assert.equal(route(hashed('/static/css/measures.css')), null);
    assert.equal(route('/offline'), null);
  });

  it('gives another version\'s hash that very file when it can be had, else this version\'s', async () => {
    const storage = new FakeCacheStorage();
    await (await storage.open(Version.SHELL_CACHE)).put(app, basic('this version'));
    const other = hashed('/static/js/sign-in.js', 'fedcba9876');
    const ask = async (fetchImpl) => {
      const request = { url: ORIGIN + other, method: 'GET', mode: 'no-cors' };
      const url = new URL(request.url);
      const answer = await Served.respond({
        request, url, route: Served.routeFor(url, request, ORIGIN), caches: storage, fetch: fetchImpl, waitUntil: () => {},
      });
      return answer.text();
    };
    assert.equal(await ask(async () => basic('the other version')), 'the other version');
    assert.equal(await ask(async () => { throw new TypeError('offline'); }), 'this version');
    assert.equal(await ask(async () => basic('', { status: 404 })), 'this version');
    // Never stored: the shell keeps this version's file under this version's URL.
    assert.equal(await (await (await storage.open(Version.SHELL_CACHE)).match(app)).text(), 'this version');
    assert.equal(await (await storage.open(Version.SHELL_CACHE)).match(other), undefined);
  });

  it('gives an older page copy the precached file for its plain URL, with no request', async () => {
    const storage = new FakeCacheStorage();
    await (await storage.open(Version.SHELL_CACHE)).put(app, basic('the sign-in script', { headers: { 'content-type': 'text/javascript' } }));
    const request = { url: ORIGIN + '/static/js/sign-in.js', method: 'GET', mode: 'no-cors' };
    const url = new URL(request.url);
    const answer = await Served.respond({
      request, url, route: Served.routeFor(url, request, ORIGIN), caches: storage,
      fetch: async () => assert.fail('no request'), waitUntil: () => {},
    });
    assert.equal(await answer.text(), 'the sign-in script');
  });

  // Bundles (caches.js BUNDLES): a page copy stored by an older release names the parts one by one.
  const formBundle = hashed('/static/js/form.bundle.js');
  const coreBundle = hashed('/sw/outbox-core.bundle.js');
  async function shellWith(entries) {
    const storage = new FakeCacheStorage();
    const cache = await storage.open(Version.SHELL_CACHE);
    for (const [url, body] of entries) await cache.put(url, basic(body, { headers: { 'content-type': 'text/javascript' } }));
    return storage;
  }
  async function answer(storage, pathname, fetchImpl) {
    const request = { url: ORIGIN + pathname, method: 'GET', mode: 'no-cors' };
    const url = new URL(request.url);
    const response = await Served.respond({
      request, url, route: Served.routeFor(url, request, ORIGIN), caches: storage, fetch: fetchImpl, waitUntil: () => {},
    });
    return response;
  }
  const offline = async () => { throw new TypeError('offline'); };

  it('routes a bundled script\'s plain URL and any hash of it to the shell, not the network', () => {
    const route = (pathname) => Served.routeFor(new URL(ORIGIN + pathname), { method: 'GET', mode: 'no-cors' }, ORIGIN);
    for (const [bundle, parts] of Object.entries(Caches.BUNDLES)) {
      for (const part of parts) {
        assert.equal(route(part), 'static', part);
        assert.equal(Served.shellKey(part), hashed(bundle), part);
        assert.equal(Served.shellKey(hashed(part, 'fedcba9876')), hashed(bundle), part);
      }
      assert.equal(Served.shellKey(bundle), hashed(bundle));
    }
    assert.equal(route('/static/js/desk.js'), null); // a manager's script: never in the shell
  });

  it('answers an older page copy\'s plain URL of a bundled script with that part of the bundle, with no request', async () => {
    const storage = await shellWith([
      [formBundle, fs.readFileSync(builtBundle('/static/js/form.bundle.js'), 'utf8')],
      [coreBundle, fs.readFileSync(builtBundle('/sw/outbox-core.bundle.js'), 'utf8')],
    ]);
    const noRequest = async () => assert.fail('no request');
    const recordForms = await answer(storage, '/static/js/record-forms.js', noRequest);
    assert.equal(recordForms.status, 200);
    assert.equal(recordForms.headers.get('content-type'), 'text/javascript');
    const text = await recordForms.text();
    // Page parts are wrapped so that one failing part does not stop the next (build_min_js.mjs).
    assert.equal(text, `try{${servedScript('/static/js/record-forms.js').trim()}}catch(e){setTimeout(function(){throw e})}\n`);
    // The worker's bundle is not wrapped: the part is the minified file itself.
    for (const part of Caches.BUNDLES['/sw/outbox-core.bundle.js']) {
      const body = await (await answer(storage, part, noRequest)).text();
      assert.equal(body.trim(), servedScript(part).trim().replace(/;?$/, ';'), part);
    }
    // The bundle itself is untouched.
    assert.equal(await (await answer(storage, formBundle, noRequest)).text(), fs.readFileSync(builtBundle('/static/js/form.bundle.js'), 'utf8'));
  });

  it('gives another release\'s hash of a bundled script that very file when it can be had, else this version\'s part', async () => {
    const storage = await shellWith([[formBundle, fs.readFileSync(builtBundle('/static/js/form.bundle.js'), 'utf8')]]);
    const other = hashed('/static/js/pid-guard.js', 'fedcba9876');
    assert.equal(await (await answer(storage, other, async () => basic('the other release\'s guard'))).text(), 'the other release\'s guard');
    const ours = await (await answer(storage, other, offline)).text();
    assert.ok(ours.startsWith('try{') && ours.includes('FrontlinePidGuard'), ours.slice(0, 80));
    assert.ok(!ours.includes(Caches.PART_MARK) && !ours.includes('FrontlineFormPayload='), 'only that part');
    assert.equal(await (await answer(storage, other, async () => basic('', { status: 404 }))).text(), ours);
  });

  it('falls back to the network, as for any shell file, when the bundle is not in the shell', async () => {
    const storage = await shellWith([]);
    assert.equal(await (await answer(storage, '/static/js/record-forms.js', async () => basic('from the server'))).text(), 'from the server');
    await assert.rejects(answer(storage, '/static/js/record-forms.js', offline));
  });

  it('cuts out exactly one part, the last one included, and nothing for a script the bundle lacks', () => {
    const mark = (url) => Caches.PART_MARK + url + Caches.PART_END;
    const bundle = '/* header */\n' + mark('/a.js') + 'one();\n' + mark('/b.js') + 'two();\n';
    assert.equal(Caches.partOf(bundle, '/a.js'), 'one();\n');
    assert.equal(Caches.partOf(bundle, '/b.js'), 'two();\n');
    assert.equal(Caches.partOf(bundle, '/c.js'), null);
  });
});

describe('the signed-in user\'s copies, stored right after sign-in (O7)', () => {
  it('stores every app page and the cached API data in one go, stamped and keyed by path', async () => {
    const storage = new FakeCacheStorage();
    const asked = [];
    const result = await Caches.storeUserCopies({
      caches: storage,
      origin: ORIGIN,
      now: () => Date.parse('2026-11-24T09:30:00Z'),
      fetch: async (url, init) => {
        asked.push([url, init]);
        return basic(`<html>${url}</html>`);
      },
    });
    assert.deepEqual(asked.map(([u]) => u).sort(), [...Caches.USER_COPY_URLS].sort());
    assert.ok(asked.every(([, init]) => init.credentials === 'same-origin' && init.cache === 'no-store'));
    assert.deepEqual(result.failed, []);
    const pages = await storage.open(Version.PAGES_CACHE);
    for (const page of ['/', '/ideas/new', '/handovers/new', '/outbox', '/mine', '/logout']) {
      const hit = await pages.match(ORIGIN + page);
      assert.ok(hit, page);
      assert.equal(hit.headers.get(Caches.STORED_AT_HEADER), '2026-11-24T09:30:00.000Z');
    }
    const data = await storage.open(Version.DATA_CACHE);
    assert.ok(await data.match(ORIGIN + '/api/v1/reference'));
    assert.ok(await data.match(ORIGIN + '/api/v1/me/submissions'));
    // Served offline afterwards as a marked copy, without the page ever having been visited.
    const { answer } = respond(storage, navigation('/outbox'), async () => {
      throw new TypeError('offline');
    });
    const html = await (await answer).text();
    assert.match(html, /data-offline-copy="2026-11-24T09:30:00.000Z"/);
  });

  it('stores nothing that was redirected, refused or failed, and keeps the older copy', async () => {
    const storage = new FakeCacheStorage();
    await (await storage.open(Version.PAGES_CACHE)).put(ORIGIN + '/mine', basic('<html>older</html>'));
    const result = await Caches.storeUserCopies({
      caches: storage,
      origin: ORIGIN,
      fetch: async (url) => {
        if (url === '/mine') return basic('<html>login</html>', { redirected: true });
        if (url === '/outbox') throw new TypeError('offline');
        if (url.startsWith('/api/')) return basic('{}', { status: 401 });
        return basic('<html>ok</html>', { status: 500 });
      },
    });
    assert.deepEqual(result.stored, []);
    assert.equal(result.failed.length, Caches.USER_COPY_URLS.length);
    const older = await (await storage.open(Version.PAGES_CACHE)).match(ORIGIN + '/mine');
    assert.equal(await older.text(), '<html>older</html>');
    assert.equal(await (await storage.open(Version.DATA_CACHE)).match(ORIGIN + '/api/v1/reference'), undefined);
  });

  it('writes nothing once a sign-out cleared the caches meanwhile', async () => {
    const storage = new FakeCacheStorage();
    let current = true;
    const result = await Caches.storeUserCopies({
      caches: storage,
      origin: ORIGIN,
      stillCurrent: () => current,
      fetch: async (url) => {
        current = false; // the user signed out while the answers were on their way
        return basic(`<html>${url}</html>`);
      },
    });
    assert.deepEqual(result.stored, []);
    assert.equal(await (await storage.open(Version.PAGES_CACHE)).match(ORIGIN + '/'), undefined);
  });

  it('never stores a manager page or other API data', () => {
    for (const url of Caches.USER_COPY_URLS) {
      assert.ok(!/^\/(triage|handovers$|measures|admin|api\/v1\/(ideas|handovers))/.test(url), url);
    }
  });
});

describe('the sign-in page with no signal (O12)', () => {
  it('is answered from the network when there is signal', async () => {
    const storage = new FakeCacheStorage();
    await (await storage.open(Version.SHELL_CACHE)).put('/login', basic('<html><h1>Sign in</h1></html>'));
    const { answer } = respond(storage, navigation('/login'), async () => basic('<html>live sign-in</html>'));
    assert.equal(await (await answer).text(), '<html>live sign-in</html>');
  });

  it('is the anonymous shell copy, marked as a copy, when there is none', async () => {
    const storage = new FakeCacheStorage();
    await (await storage.open(Version.SHELL_CACHE)).put('/login', basic('<html><h1>Sign in</h1></html>'));
    const { answer } = respond(storage, navigation('/login'), async () => {
      throw new TypeError('offline');
    });
    const html = await (await answer).text();
    assert.match(html, /^<html data-offline-copy=""><h1>Sign in<\/h1>/);
  });

  it('is never served from the shell to a script that fetches it', () => {
    const url = new URL(ORIGIN + '/login');
    assert.equal(Caches.routeFor(url, { method: 'GET', mode: 'cors' }, ORIGIN), null);
  });
});

describe('a filtered or later page of /mine', () => {
  it('is answered from the network but never becomes the copy shown offline', async () => {
    const storage = new FakeCacheStorage();
    const mine = { url: ORIGIN + '/mine?kind=idea&page=2', method: 'GET', mode: 'navigate' };
    const { answer, settled } = respond(storage, mine, async () => basic('<html>ideas, page 2</html>'));
    assert.equal(await (await answer).text(), '<html>ideas, page 2</html>');
    await settled();
    assert.equal(await (await storage.open(Version.PAGES_CACHE)).match(ORIGIN + '/mine'), undefined);
    const plain = respond(storage, navigation('/mine'), async () => basic('<html>all</html>'));
    await (await plain.answer).text();
    await plain.settled();
    assert.ok(await (await storage.open(Version.PAGES_CACHE)).match(ORIGIN + '/mine'));
  });
});
