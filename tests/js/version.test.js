// A changed app shell must come with a new service worker version: otherwise phones keep serving
// the old files from their cache (cache-first) and never install the new worker. See
// docs/offline.md, "Releasing a new version".
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const Caches = require('../../service_worker/caches.js');
const Version = require('../../service_worker/version.js');

const ROOT = path.join(__dirname, '..', '..');

/** A script's minified copy (scripts/build_min_js.mjs), which is what the server sends. */
function served(file) {
  const relative = path.relative(ROOT, file);
  let copy = null;
  if (relative.startsWith(path.join('service_worker', ''))) {
    copy = path.join(ROOT, 'web', 'static', 'min', 'sw', path.basename(file));
  } else if (relative.startsWith(path.join('web', 'static', 'js', ''))) {
    copy = path.join(ROOT, 'web', 'static', 'min', 'js', path.basename(file));
  }
  return copy && fs.existsSync(copy) ? copy : file;
}

/** The static files of the shell, as they are precached (as the server sends them). */
function shellFiles() {
  const files = [];
  for (const url of Caches.PRECACHE_URLS) {
    if (url === '/sw/version.js') continue; // holds the digest itself
    // The offline page is rendered from templates that others change often; a stale copy of it
    // is harmless, and the next version bump refreshes it.
    if (url === '/offline' || url === '/login') continue;
    if (url === '/manifest.webmanifest') {
      files.push([url, path.join(ROOT, 'web', 'static', 'manifest.webmanifest')]);
    } else if (url.startsWith('/sw/')) {
      files.push([url, path.join(ROOT, 'service_worker', url.slice(4))]);
    } else {
      files.push([url, path.join(ROOT, 'web', url)]);
    }
  }
  return files;
}

/**
 * A shell file's bytes for the digest. A bundle that holds version.js (caches.js BUNDLES: the
 * outbox core) holds the digest itself: it is left out (as version.js is), the rest counts.
 */
function digested(url, file) {
  const bytes = fs.readFileSync(served(file));
  if (!(Caches.BUNDLES[url] || []).includes('/sw/version.js')) return bytes;
  const text = bytes.toString('utf8');
  assert.equal(text.split(`"${Version.SHELL_DIGEST}"`).length, 2, `${url} holds version.js's digest once (run node scripts/build_min_js.mjs)`);
  return Buffer.from(text.replace(`"${Version.SHELL_DIGEST}"`, '"(the digest)"'), 'utf8');
}

function shellDigest() {
  const hash = crypto.createHash('sha256');
  for (const [name, file] of shellFiles()) {
    hash.update(name + '\n');
    hash.update(digested(name, file));
    hash.update('\n');
  }
  return hash.digest('hex').slice(0, 16);
}

describe('the service worker version', () => {
  it('changes whenever a file of the app shell changes', () => {
    const digest = shellDigest();
    assert.equal(
      Version.SHELL_DIGEST,
      digest,
      `The app shell changed. In service_worker/version.js set SHELL_DIGEST = '${digest}' and ` +
        `bump VERSION (e.g. '${new Date().toISOString().slice(0, 10).replace(/-/g, '.')}-1'), ` +
        'then run `node scripts/build_min_js.mjs` (the digest covers the minified copies: run ' +
        'it first after changing a script, and again after setting the digest).'
    );
  });

  it('names the shell cache after the version and the digest', () => {
    assert.equal(Version.SHELL_CACHE, `frontline-shell-${Version.VERSION}-${Version.SHELL_DIGEST}`);
    assert.match(Version.VERSION, /^\d{4}\.\d{2}\.\d{2}-\d+$/);
    for (const name of [Version.SHELL_CACHE, Version.PAGES_CACHE, Version.DATA_CACHE]) {
      assert.ok(name.startsWith(Version.CACHE_PREFIX), name);
    }
  });
});
