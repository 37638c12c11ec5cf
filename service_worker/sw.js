/**
 * Frontline's service worker: events only. The logic lives in the modules it imports (the same
 * files the pages load from /sw/ and node tests require):
 *   version.js  cache names and the release label
 *   caches.js   what is cached and how requests are answered
 *   outbox.js   the IndexedDB outbox
 *   sync.js     draining the outbox to POST /api/v1/sync
 *   backoff.js  when to try again
 *   push.js     web push: show a notification, open its page on a tap (docs/push.md)
 *
 * version.js, outbox.js, sync.js and backoff.js (with idb) come as one file,
 * /sw/outbox-core.bundle.js (caches.js BUNDLES), the same file the pages load.
 *
 * A classic worker with importScripts (older phones lack module workers). A new version installs,
 * then waits: the page shows "Update available — reload" and sends SKIP_WAITING when the user
 * chooses (SPEC §5: no automatic skipWaiting). Queued items live in IndexedDB, which updates never
 * touch. See docs/offline.md.
 */
/* global importScripts, FrontlineCaches, FrontlineOutbox, FrontlineSync, FrontlinePush, idb */
'use strict';

// version.js, idb, backoff.js, outbox.js and sync.js as one file (caches.js BUNDLES, built by
// scripts/build_min_js.mjs): the very file every page loads, so a first visit downloads it once.
importScripts('/sw/outbox-core.bundle.js', '/sw/caches.js', '/sw/push.js');

var SYNC_TAG = 'frontline-outbox';
var CHANNEL_NAME = 'frontline-outbox';
/** Bumped at every sign-out, so copies still being fetched for the old user are not stored. */
var userGeneration = 0;
/** When the user's copies were last stored, so every page load does not fetch them all again. */
var copiesStoredAt = 0;
var COPIES_FRESH_MS = 60 * 1000;

/** The store of the user's copies under way, if any: a second ask joins it (see below). */
var storing = null;

/**
 * Stores the signed-in user's page copies and API data (O7): after sign-in (forced by the page),
 * on online visits (at most once a minute) and when a new version takes over.
 *
 * A phone's first visit asks twice at once (the page after sign-in, the new worker on activating):
 * the second ask joins the store under way instead of downloading every page again (issue 16). If
 * that store missed some (it began before the sign-in, say), the joined ask runs once more.
 *
 * @param {boolean} force
 */
function storeUserCopies(force) {
  if (storing) {
    var joined = storing;
    return joined.then(function (result) {
      if (!force || !result.failed.length) return result;
      return storing && storing !== joined ? storing : startStore();
    });
  }
  if (!force && Date.now() - copiesStoredAt < COPIES_FRESH_MS) {
    return Promise.resolve({ stored: [], failed: [], skipped: true });
  }
  return startStore();
}

function startStore() {
  var generation = userGeneration;
  var run = FrontlineCaches.storeUserCopies({
    caches: self.caches,
    fetch: self.fetch.bind(self),
    origin: self.location.origin,
    stillCurrent: function () {
      return generation === userGeneration;
    },
  }).then(function (result) {
    if (result.stored.length) copiesStoredAt = Date.now();
    return result;
  });
  storing = run;
  run.then(
    function () {
      if (storing === run) storing = null;
    },
    function () {
      if (storing === run) storing = null;
    }
  );
  return run;
}

/**
 * A sign-out made with no signal is told to the server before any navigation goes out (O12).
 * Resolves to what happened: 'none', 'ended' or 'unreachable'.
 */
function endPendingSignOut() {
  return Promise.resolve()
    .then(function () {
      return FrontlineOutbox.openOutbox({ idb: idb, indexedDB: self.indexedDB });
    })
    .then(function (store) {
      return FrontlineSync.endPendingSignOut(store, self.fetch.bind(self), { timeoutMs: 5000 }).finally(
        function () {
          store.close();
        }
      );
    })
    .catch(function () {
      return 'none';
    });
}

self.addEventListener('install', function (event) {
  if (typeof event.addRoutes === 'function') {
    // A browser that cannot take a route still installs the worker: its fetch handler answers
    // these requests as before (by letting them through).
    event.waitUntil(
      event.addRoutes(FrontlineCaches.NETWORK_ROUTES.slice()).catch(function () {})
    );
  }
  event.waitUntil(FrontlineCaches.precache(self.caches, self.fetch.bind(self)));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(
    FrontlineCaches.deleteOldCaches(self.caches)
      .then(function () {
        return self.clients.claim();
      })
      .then(function () {
        // A new version refreshes the copies too. Signed out, every fetch is answered with the
        // sign-in page or a 401, and nothing is stored.
        return storeUserCopies(true).catch(function () {});
      })
  );
});

self.addEventListener('fetch', function (event) {
  var request = event.request;
  var url = new URL(request.url);
  var route = FrontlineCaches.routeFor(url, request, self.location.origin);
  if (!route) return;
  function answer() {
    return FrontlineCaches.respond({
      request: request,
      url: url,
      route: route,
      caches: self.caches,
      fetch: self.fetch.bind(self),
      waitUntil: event.waitUntil.bind(event),
    });
  }
  if (request.mode === 'navigate') {
    // O12: a sign-out made with no signal reaches the server before this navigation does; while
    // it cannot, the phone shows the sign-in page rather than the signed-out user's pages.
    event.respondWith(
      endPendingSignOut().then(function (outcome) {
        if (outcome !== 'unreachable' || route === 'sign-in') return answer();
        return FrontlineCaches.respond({
          request: request,
          url: new URL(FrontlineCaches.SIGN_IN_URL, self.location.origin),
          route: 'sign-in',
          caches: self.caches,
          fetch: function () {
            return Promise.reject(new Error('signed out with no signal'));
          },
          waitUntil: event.waitUntil.bind(event),
        });
      })
    );
    return;
  }
  var response = answer();
  if (response) event.respondWith(response);
});

/** @returns {BroadcastChannel | null} */
function channel() {
  return typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL_NAME) : null;
}

/**
 * One drain from the worker, under the shared lock, telling open pages how it goes.
 *
 * @param {boolean} force
 */
function drainFromWorker(force) {
  var updates = channel();
  return FrontlineOutbox.openOutbox({ idb: idb, indexedDB: self.indexedDB })
    .then(function (store) {
      return FrontlineSync.withOutboxLock(
        function (renew, lock) {
          return FrontlineSync.drain({
            store: store,
            fetch: self.fetch.bind(self),
            force: force,
            onlyUser: null,
            renew: renew,
            lock: lock,
            onProgress: function (progress) {
              if (updates) updates.postMessage({ type: 'progress', progress: progress });
            },
          });
        },
        { locks: self.navigator && self.navigator.locks, store: store, wait: force }
      )
        .then(function (result) {
          // Items still waiting (backing off, or the lock was busy) keep the sync registration
          // alive: the browser fires the event again later, with its own backoff.
          return store.dueItems(null, Infinity, true).then(function (waiting) {
            return Object.assign({}, result, { stillWaiting: waiting.length });
          });
        })
        .finally(function () {
          store.close();
        });
    })
    .then(function (result) {
      if (updates) {
        updates.postMessage({ type: 'drained', result: result });
        updates.close();
      }
      return result;
    });
}

self.addEventListener('sync', function (event) {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil(
    drainFromWorker(false).then(function (result) {
      // Rejecting asks the browser to fire the sync event again later. Not while signed out:
      // the next page load after signing in sends.
      if (result && result.status !== 'signed-out' && result.stillWaiting > 0) {
        throw new Error('Outbox not fully sent; retry later');
      }
    })
  );
});

self.addEventListener('message', function (event) {
  var data = event.data || {};
  if (data.type === 'SKIP_WAITING') {
    self.skipWaiting();
  } else if (data.type === 'CLAIM') {
    event.waitUntil(self.clients.claim());
  } else if (data.type === 'DRAIN') {
    event.waitUntil(drainFromWorker(Boolean(data.force)));
  } else if (data.type === 'STORE_USER_COPIES') {
    event.waitUntil(
      storeUserCopies(Boolean(data.force)).then(function (result) {
        if (event.ports && event.ports[0]) event.ports[0].postMessage({ type: 'STORED', result: result });
      })
    );
  } else if (data.type === 'CLEAR_USER_CACHES') {
    userGeneration += 1;
    copiesStoredAt = 0;
    storing = null; // the next user's copies never join a store made for this one
    event.waitUntil(
      FrontlineCaches.clearUserCaches(self.caches).then(function () {
        if (event.ports && event.ports[0]) event.ports[0].postMessage({ type: 'CLEARED' });
      })
    );
  }
});

self.addEventListener('push', FrontlinePush.onPush);
self.addEventListener('notificationclick', FrontlinePush.onNotificationClick);
