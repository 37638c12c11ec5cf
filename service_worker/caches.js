/**
 * What the service worker keeps in Cache Storage, and how it answers requests (SPEC §5 O7, O8).
 *
 *   shell  (FrontlineVersion.SHELL_CACHE, per version) — CSS, scripts, icons, vendor files and
 *          the anonymous /offline page, precached at install; served cache-first. Static files
 *          outside the shell are not cached at all (so never stale). The server sends this file
 *          with PRECACHE_URLS rewritten to content-hashed URLs (/static/js/app.<hash>.js,
 *          api/static_assets.py), the ones its pages use; a page copy from an older release that
 *          asks for the plain URL gets the same file from here.
 *   pages  (PAGES_CACHE) — the last good copy of /, /ideas/new, /handovers/new, /outbox, /mine and
 *          /logout; network-first with a short timeout, so a basement opens the app at once.
 *          Stored for the signed-in user right after sign-in and on every online visit
 *          (storeUserCopies), not only once each page has been visited (O7).
 *   data   (DATA_CACHE) — /api/v1/reference and /api/v1/me/submissions; network-first.
 *
 * Nothing else is cached: no other API data, no manager page, no POST (O8). Pages and data are
 * the signed-in user's and are deleted at sign-out (clearUserCaches).
 *
 * A page served from the cache carries data-offline-copy="<when stored>" on <html>, so its
 * scripts can say "You are offline — this is the copy from …".
 */
(function (root) {
  'use strict';

  var Version =
    (root && root.FrontlineVersion) ||
    (typeof require === 'function' ? require('./version.js') : null);

  /** Pages that open with no network (O7). Exactly these paths; the query string is ignored. */
  var APP_PAGES = Object.freeze(['/', '/ideas/new', '/handovers/new', '/outbox', '/mine', '/logout']);
  /** The only API data kept on the phone (O8). */
  var CACHED_API = Object.freeze(['/api/v1/reference', '/api/v1/me/submissions']);
  var OFFLINE_URL = '/offline';
  /** App pages whose query string changes what they show (filters, pages): only the bare path is kept. */
  var QUERY_SHAPES_PAGE = Object.freeze(['/mine']);
  /**
   * The sign-in page, precached without cookies (it names no one): what a sign-out made with no
   * signal shows (O12). Its CSRF token is stale; sign-in.js fetches a fresh one before posting.
   */
  var SIGN_IN_URL = '/login';
  /** Fetched without cookies at install: anonymous pages. */
  var ANONYMOUS_URLS = Object.freeze([OFFLINE_URL, SIGN_IN_URL]);
  /** How long a navigation waits for the network before showing the stored copy. */
  var PAGE_TIMEOUT_MS = 3000;
  var STORED_AT_HEADER = 'X-Frontline-Stored-At';

  /**
   * The app shell, precached at install: what the pages that open offline (APP_PAGES and
   * /offline) load. tests/js/caches.test.js checks their templates against it. Not the .map file,
   * and not htmx: only managers' pages use it, and those do not open offline. Not the manifest's
   * icons (~12.5 KB): no page renders them; the browser fetches them itself when the app is
   * installed (online, by definition) and keeps its own copy for the home screen. Not
   * nhsuk-components.min.js: nhsuk-init.js is served with it built in (scripts/build_min_js.mjs).
   */
  var PRECACHE_URLS = Object.freeze([
    OFFLINE_URL,
    SIGN_IN_URL,
    '/manifest.webmanifest',
    '/static/css/app.css',
    '/static/js/js-enabled.js',
    '/static/js/nhsuk-init.js',
    '/sw/outbox-core.bundle.js',
    '/static/js/page.bundle.js',
    '/static/js/form.bundle.js',
    '/static/js/outbox-page.js',
    '/static/js/install-hint.js',
    '/static/js/mine-offline.js',
    '/static/js/sign-in.js',
    '/static/css/nhsuk.min.css',
    '/static/vendor/nhsuk-frontend/assets/images/favicon.ico',
    '/static/vendor/nhsuk-frontend/assets/images/favicon.svg',
    '/static/vendor/nhsuk-frontend/assets/images/nhsuk-icon-180.png',
    '/static/vendor/nhsuk-frontend/assets/images/nhsuk-icon-mask.svg',
    '/static/vendor/nhsuk-frontend/assets/images/nhsuk-icon-arrow-down.svg',
    '/static/vendor/nhsuk-frontend/assets/images/nhsuk-icon-arrow-up-down.svg',
    '/static/vendor/nhsuk-frontend/assets/images/nhsuk-icon-arrow-up.svg',
    '/static/vendor/nhsuk-frontend/assets/images/nhsuk-icon-cross.svg',
  ]);

  /**
   * Scripts served as one file each (issue 16: a capture form made ~17 script requests before its
   * first paint, and Lighthouse's simulated LCP waited on them). scripts/build_min_js.mjs writes
   * each bundle from the minified parts, in this order (the order the pages ran them as separate
   * deferred scripts); never edit a bundle by hand. Each part starts on a line of its own after
   * a comment naming it (PART_MARK), so this worker can still answer a page copy stored by an
   * older release, which names the parts one by one, with the very part (partOf, respond).
   *
   *   outbox-core  the outbox, loaded by every page and imported by this worker (sw.js): one
   *                download serves both (the worker's import comes from the HTTP cache)
   *   page         every page's own scripts (base.html)
   *   form         the capture forms' scripts (and form-payload.js for /outbox)
   */
  var BUNDLES = {
    '/sw/outbox-core.bundle.js': ['/sw/version.js', '/static/vendor/idb/idb.umd.js', '/sw/backoff.js', '/sw/outbox.js', '/sw/sync.js'],
    '/static/js/page.bundle.js': [
      '/static/js/app.js',
      '/static/js/nhs-components.js',
      '/static/js/outbox-client.js',
      '/static/js/worker-updates.js',
      '/static/js/sign-out.js',
      '/static/js/push-optin.js',
    ],
    '/static/js/form.bundle.js': ['/static/js/pid-guard.js', '/static/js/form-payload.js', '/static/js/handover-form.js', '/static/js/record-forms.js'],
  };
  /** The comment before each part of a bundle: PART_MARK + the part's plain URL + PART_END. */
  var PART_MARK = '/*frontline-part:';
  var PART_END = '*/\n';

  /**
   * A file name that carries its content's hash (api/static_assets.py HASHED_NAME): app.0a1b2c3d4e.js.
   * Such a URL always names the same bytes, so the HTTP cache's copy is as good as the network's.
   */
  var HASHED_NAME = /\.[0-9a-f]{10}(\.[A-Za-z0-9]+)$/;

  /** app.0a1b2c3d4e.js → app.js. */
  function plainUrl(path) {
    return path.replace(HASHED_NAME, '$1');
  }

  /** The precached URL of each file by its plain URL. */
  var PLAIN_URLS = {};
  PRECACHE_URLS.forEach(function (url) {
    PLAIN_URLS[plainUrl(url)] = url;
  });

  /**
   * The precached bundle of each part by the part's plain URL. As the server sends this file,
   * the URLs in BUNDLES are hashed too (the bundle's, and each part's current file's): compared
   * by their plain URLs.
   */
  var BUNDLE_OF = {};
  Object.keys(BUNDLES).forEach(function (bundle) {
    var precached = PLAIN_URLS[plainUrl(bundle)];
    BUNDLES[bundle].forEach(function (part) {
      if (precached) BUNDLE_OF[plainUrl(part)] = precached;
    });
  });

  /**
   * The bundle's part `part` (a plain URL), or null when the bundle does not hold it.
   *
   * @param {string} bundle the bundle's text
   * @param {string} part
   * @returns {string | null}
   */
  function partOf(bundle, part) {
    var mark = PART_MARK + part + PART_END;
    var start = bundle.indexOf(mark);
    if (start < 0) return null;
    start += mark.length;
    var end = bundle.indexOf('\n' + PART_MARK, start);
    return bundle.slice(start, end < 0 ? bundle.length : end + 1);
  }

  /**
   * The precached URL of the file `path` names: itself; for a plain path (a page copy stored
   * before content-hashed URLs) or another version's hash (a page copy stored by another release)
   * the precached URL of the same file; null for a file outside the shell.
   *
   * @param {string} path
   * @returns {string | null}
   */
  function shellKey(path) {
    if (PRECACHE_URLS.indexOf(path) >= 0) return path;
    var plain = plainUrl(path);
    if (Object.prototype.hasOwnProperty.call(PLAIN_URLS, plain)) return PLAIN_URLS[plain];
    return Object.prototype.hasOwnProperty.call(BUNDLE_OF, plain) ? BUNDLE_OF[plain] : null;
  }

  /**
   * This version's file for `path` from the shell cache: the precached file, or for a script
   * that is now part of a bundle (a page copy from an older release names it) that part, cut
   * from the bundle; undefined when the shell does not have it.
   *
   * @param {Cache} cache
   * @param {string} path
   * @returns {Promise<Response | undefined>}
   */
  function shellCopy(cache, path) {
    var key = shellKey(path);
    if (key === null) return Promise.resolve(undefined);
    var plain = plainUrl(path);
    if (key === path || !Object.prototype.hasOwnProperty.call(BUNDLE_OF, plain)) return cache.match(key);
    return cache.match(key).then(function (hit) {
      if (!hit) return undefined;
      return hit.text().then(function (text) {
        var part = partOf(text, plain);
        if (part === null) return undefined;
        var headers = new Headers(hit.headers);
        headers.delete('Content-Length');
        headers.delete('ETag');
        return new Response(part, { status: 200, headers: headers });
      });
    });
  }

  /**
   * How to answer a request, or null to leave it to the browser.
   *
   * @param {URL} url
   * @param {{method: string, mode?: string}} request
   * @param {string} origin this site's origin
   * @returns {'app-page' | 'sign-in' | 'page' | 'api-cached' | 'static' | null}
   */
  function routeFor(url, request, origin) {
    if (request.method !== 'GET' || url.origin !== origin) return null;
    var path = url.pathname;
    if (request.mode === 'navigate') {
      if (path === SIGN_IN_URL) return 'sign-in';
      return APP_PAGES.indexOf(path) >= 0 ? 'app-page' : 'page';
    }
    if (CACHED_API.indexOf(path) >= 0) return 'api-cached';
    // Only the shell is served from the cache: it is versioned, so it is never stale. Any other
    // file (a manager page's stylesheet, say) goes to the network as if there were no worker.
    var key = shellKey(path);
    if (key !== null && ANONYMOUS_URLS.indexOf(key) < 0) return 'static';
    return null;
  }

  /**
   * Requests the worker never answers (routeFor gives null for each), declared to the browser when
   * the worker installs, so that it sends them straight to the network without first waking the
   * worker to dispatch a fetch event nobody answers (the Service Worker static routing API,
   * InstallEvent.addRoutes; Chromium 123 and later, ignored elsewhere; issue 16): every request that
   * is not a GET (a drain's sync batches, forms, sign-in and sign-out), and GET /api/v1/me, a
   * drain's first question. tests/js/caches.test.js holds each against routeFor.
   */
  var NETWORK_ROUTES = Object.freeze(
    ['POST', 'PUT', 'PATCH', 'DELETE']
      .map(function (method) {
        return { condition: { requestMethod: method }, source: 'network' };
      })
      .concat([{ condition: { requestMethod: 'GET', urlPattern: { pathname: '/api/v1/me' } }, source: 'network' }])
  );

  /** The key a page copy is stored under: the path alone, so "?fix=…" finds the form. */
  function pageKey(url) {
    return url.origin + url.pathname;
  }

  /**
   * Only a plain, complete answer from our own server is worth keeping: not a redirect (a sign-in
   * page), not an error, not another origin's opaque answer.
   *
   * @param {Response} response
   */
  function isStorable(response) {
    return Boolean(
      response && response.status === 200 && response.type === 'basic' && !response.redirected
    );
  }

  /** @param {string} value */
  function escapeAttribute(value) {
    return String(value)
      .replace(/&/g, '&amp;')
      .replace(/"/g, '&quot;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;');
  }

  /**
   * Marks a stored page as a copy: data-offline-copy on its <html> element.
   *
   * @param {string} html
   * @param {string} storedAt ISO time the copy was stored ('' when unknown)
   * @returns {string}
   */
  function markCachedCopy(html, storedAt) {
    return html.replace(/<html\b/i, '<html data-offline-copy="' + escapeAttribute(storedAt) + '"');
  }

  /**
   * A copy of `response` with the time it was stored, for the cache.
   *
   * @param {Response} response
   * @param {string} storedAt
   * @returns {Promise<Response>}
   */
  function stampedCopy(response, storedAt) {
    var headers = new Headers(response.headers);
    headers.set(STORED_AT_HEADER, storedAt);
    return response.blob().then(function (body) {
      return new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: headers,
      });
    });
  }

  /**
   * The stored page, marked as a copy.
   *
   * @param {Response} stored
   * @returns {Promise<Response>}
   */
  function markedResponse(stored) {
    var storedAt = stored.headers.get(STORED_AT_HEADER) || '';
    return stored.text().then(function (html) {
      return new Response(markCachedCopy(html, storedAt), {
        status: 200,
        headers: stored.headers,
      });
    });
  }

  /**
   * Network first: the network's answer when it comes within `timeoutMs`; else the stored copy
   * if there is one (the network answer still refreshes the store when it arrives); else wait for
   * the network. A network failure or a 5xx gives the stored copy, else `fallback`.
   *
   * @param {{
   *   fetchResponse: () => Promise<Response>,
   *   cached: () => Promise<Response | undefined>,
   *   store: (response: Response) => Promise<*>,
   *   fallback: (networkResponse: (Response | null)) => Promise<Response>,
   *   waitUntil: (p: Promise<*>) => void,
   *   timeoutMs: number,
   *   setTimeout?: Function, clearTimeout?: Function
   * }} o
   * @returns {Promise<Response>}
   */
  function networkFirst(o) {
    var setTimer = o.setTimeout || setTimeout;
    var clearTimer = o.clearTimeout || clearTimeout;
    var network = o.fetchResponse();
    // Registered first, so the copy is taken before the page's answer body is read.
    var storing = network.then(
      function (response) {
        return isStorable(response) ? o.store(response.clone()) : null;
      },
      function () {
        return null;
      }
    );
    o.waitUntil(
      storing.catch(function () {
        return null;
      })
    );
    return new Promise(function (resolve) {
      var settled = false;
      function finish(response) {
        if (!settled) {
          settled = true;
          resolve(response);
        }
      }
      function cachedOr(alternative) {
        return o.cached().then(
          function (hit) {
            return hit || alternative();
          },
          function () {
            return alternative();
          }
        );
      }
      var timer = setTimer(function () {
        o.cached().then(
          function (hit) {
            if (hit) finish(hit);
          },
          function () {}
        );
      }, o.timeoutMs);
      network.then(
        function (response) {
          clearTimer(timer);
          if (response.status >= 500) {
            cachedOr(function () {
              return Promise.resolve(response);
            }).then(finish);
          } else {
            finish(response);
          }
        },
        function () {
          clearTimer(timer);
          cachedOr(function () {
            return o.fallback(null);
          }).then(finish);
        }
      );
    });
  }

  /**
   * The anonymous offline page from the shell, or a plain-text stand-in.
   *
   * @param {CacheStorage} cachesImpl
   * @returns {Promise<Response>}
   */
  function offlinePage(cachesImpl) {
    return cachesImpl
      .open(Version.SHELL_CACHE)
      .then(function (cache) {
        return cache.match(OFFLINE_URL);
      })
      .then(function (hit) {
        return (
          hit ||
          new Response('You are offline. This page is not saved on this phone.', {
            status: 503,
            headers: { 'Content-Type': 'text/plain; charset=utf-8' },
          })
        );
      });
  }

  /**
   * The anonymous sign-in page from the shell, marked as a copy; else the offline page.
   *
   * @param {CacheStorage} cachesImpl
   * @returns {Promise<Response>}
   */
  function signInCopy(cachesImpl) {
    return cachesImpl
      .open(Version.SHELL_CACHE)
      .then(function (cache) {
        return cache.match(SIGN_IN_URL);
      })
      .then(function (hit) {
        return hit ? markedResponse(hit) : offlinePage(cachesImpl);
      });
  }

  /**
   * Answers one request according to routeFor. Returns null to let the browser handle it.
   *
   * @param {{request: Request, url: URL, route: string, caches: CacheStorage,
   *   fetch: typeof fetch, waitUntil: (p: Promise<*>) => void, now?: () => number,
   *   timeoutMs?: number}} o
   * @returns {Promise<Response> | null}
   */
  function respond(o) {
    var cachesImpl = o.caches;
    var now = o.now || Date.now;
    var timeoutMs = o.timeoutMs === undefined ? PAGE_TIMEOUT_MS : o.timeoutMs;
    if (o.route === 'app-page') {
      var key = pageKey(o.url);
      return networkFirst({
        fetchResponse: function () {
          return o.fetch(o.request);
        },
        cached: function () {
          return cachesImpl
            .open(Version.PAGES_CACHE)
            .then(function (cache) {
              return cache.match(key);
            })
            .then(function (hit) {
              return hit ? markedResponse(hit) : undefined;
            });
        },
        store: function (response) {
          // /mine?kind=…&page=2 is not /mine: a filtered or later page must not become the copy
          // the phone shows offline. (A form's ?fix=… renders the same form, so it may.)
          if (o.url.search && QUERY_SHAPES_PAGE.indexOf(o.url.pathname) >= 0) return Promise.resolve();
          return stampedCopy(response, new Date(now()).toISOString()).then(function (copy) {
            return cachesImpl.open(Version.PAGES_CACHE).then(function (cache) {
              return cache.put(key, copy);
            });
          });
        },
        fallback: function () {
          return offlinePage(cachesImpl);
        },
        waitUntil: o.waitUntil,
        timeoutMs: timeoutMs,
      });
    }
    if (o.route === 'page') {
      return o.fetch(o.request).catch(function () {
        return offlinePage(cachesImpl);
      });
    }
    if (o.route === 'sign-in') {
      return o.fetch(o.request).catch(function () {
        return signInCopy(cachesImpl);
      });
    }
    if (o.route === 'api-cached') {
      var dataKey = o.url.href;
      return networkFirst({
        fetchResponse: function () {
          return o.fetch(o.request);
        },
        cached: function () {
          return cachesImpl.open(Version.DATA_CACHE).then(function (cache) {
            return cache.match(dataKey);
          });
        },
        store: function (response) {
          return stampedCopy(response, new Date(now()).toISOString()).then(function (copy) {
            return cachesImpl.open(Version.DATA_CACHE).then(function (cache) {
              return cache.put(dataKey, copy);
            });
          });
        },
        fallback: function () {
          return Promise.resolve(
            new Response(JSON.stringify({ detail: 'You are offline and this is not saved on this phone.' }), {
              status: 503,
              headers: { 'Content-Type': 'application/json' },
            })
          );
        },
        waitUntil: o.waitUntil,
        timeoutMs: timeoutMs,
      });
    }
    if (o.route === 'static') {
      var path = o.url.pathname;
      var shellUrl = shellKey(path) || path;
      return cachesImpl.open(Version.SHELL_CACHE).then(function (cache) {
        if (shellUrl !== path && HASHED_NAME.test(path)) {
          // Another version's file, named by a page copy from another release: that very file
          // from the HTTP cache or the server if it can be had; else this version's file of the
          // same name (as before hashed URLs, when a page copy always got the current shell).
          var ours = function () {
            return shellCopy(cache, path);
          };
          return o.fetch(o.request).then(
            function (response) {
              return response.ok
                ? response
                : ours().then(function (hit) {
                    return hit || response;
                  });
            },
            function (error) {
              return ours().then(function (hit) {
                if (hit) return hit;
                throw error;
              });
            }
          );
        }
        return shellCopy(cache, path).then(function (hit) {
          if (hit) return hit;
          return o.fetch(o.request).then(function (response) {
            if (isStorable(response)) o.waitUntil(cache.put(o.request, response.clone()));
            return response;
          });
        });
      });
    }
    return null;
  }

  /**
   * Fills this version's shell cache. A content-hashed URL is asked for with the HTTP cache's
   * default: the server sends those immutable, so a file the page that registered the worker has
   * just loaded comes from the HTTP cache with no request at all (issue 16), and it cannot be an
   * old file, since its URL names its bytes. Any other URL (the manifest; the plain URLs when
   * this file is read as written, in node) is asked for with cache: 'no-cache': from the HTTP
   * cache only after the server confirms (304) the copy there is current. The offline and sign-in
   * pages are fetched without cookies: they must name no one (they are no-store, so they always
   * come from the network).
   *
   * @param {CacheStorage} cachesImpl
   * @param {typeof fetch} fetchImpl
   */
  function precache(cachesImpl, fetchImpl) {
    return cachesImpl.open(Version.SHELL_CACHE).then(function (cache) {
      return Promise.all(
        PRECACHE_URLS.map(function (url) {
          var init = {
            cache: HASHED_NAME.test(url) ? 'default' : 'no-cache',
            credentials: ANONYMOUS_URLS.indexOf(url) >= 0 ? 'omit' : 'same-origin',
          };
          return fetchImpl(url, init).then(function (response) {
            if (!isStorable(response)) throw new Error('Precache failed for ' + url + ': ' + response.status);
            return cache.put(url, response);
          });
        })
      );
    });
  }

  /** Every copy kept for the signed-in user: the app pages and the API data (O7). */
  var USER_COPY_URLS = Object.freeze(APP_PAGES.concat(CACHED_API));

  /**
   * Stores the signed-in user's copies of every app page and their API data at once, so the app
   * opens with no network from the first sign-in, not only once each page has been visited (O7).
   * Each is fetched with the session cookie; only a plain 200 is kept (a redirect to the sign-in
   * page, a 401 or an error stores nothing and leaves an older copy alone). `stillCurrent` is asked
   * before each write, so a sign-out that cleared the caches meanwhile is not undone.
   *
   * @param {{caches: CacheStorage, fetch: typeof fetch, origin: string, now?: () => number,
   *   stillCurrent?: () => boolean}} o
   * @returns {Promise<{stored: string[], failed: string[]}>}
   */
  function storeUserCopies(o) {
    var now = o.now || Date.now;
    var stillCurrent = o.stillCurrent || function () {
      return true;
    };
    var stored = [];
    var failed = [];
    return Promise.all(
      USER_COPY_URLS.map(function (path) {
        var cacheName = APP_PAGES.indexOf(path) >= 0 ? Version.PAGES_CACHE : Version.DATA_CACHE;
        return o
          .fetch(path, { credentials: 'same-origin', cache: 'no-store', redirect: 'follow' })
          .then(function (response) {
            if (!isStorable(response) || !stillCurrent()) {
              failed.push(path);
              return null;
            }
            return stampedCopy(response, new Date(now()).toISOString()).then(function (copy) {
              if (!stillCurrent()) {
                failed.push(path);
                return null;
              }
              return cachesImpl(o, cacheName).then(function (cache) {
                stored.push(path);
                return cache.put(o.origin + path, copy);
              });
            });
          })
          .catch(function () {
            failed.push(path);
          });
      })
    ).then(function () {
      return { stored: stored, failed: failed };
    });
  }

  /** @param {{caches: CacheStorage}} o @param {string} name */
  function cachesImpl(o, name) {
    return o.caches.open(name);
  }

  /**
   * Deletes our caches that this version does not use (older shells). Other sites' or tools'
   * caches (names not starting with our prefix) are left alone.
   *
   * @param {CacheStorage} cachesImpl
   * @returns {Promise<string[]>} the deleted names
   */
  function deleteOldCaches(cachesImpl) {
    var keep = [Version.SHELL_CACHE, Version.PAGES_CACHE, Version.DATA_CACHE];
    return cachesImpl.keys().then(function (names) {
      var old = names.filter(function (name) {
        return name.indexOf(Version.CACHE_PREFIX) === 0 && keep.indexOf(name) < 0;
      });
      return Promise.all(
        old.map(function (name) {
          return cachesImpl.delete(name);
        })
      ).then(function () {
        return old;
      });
    });
  }

  /**
   * Sign-out: the user's page copies and API data go (O8). The shell holds nothing personal.
   *
   * @param {CacheStorage} cachesImpl
   */
  function clearUserCaches(cachesImpl) {
    return Promise.all([cachesImpl.delete(Version.PAGES_CACHE), cachesImpl.delete(Version.DATA_CACHE)]);
  }

  var api = {
    APP_PAGES: APP_PAGES,
    CACHED_API: CACHED_API,
    OFFLINE_URL: OFFLINE_URL,
    SIGN_IN_URL: SIGN_IN_URL,
    USER_COPY_URLS: USER_COPY_URLS,
    storeUserCopies: storeUserCopies,
    PAGE_TIMEOUT_MS: PAGE_TIMEOUT_MS,
    PRECACHE_URLS: PRECACHE_URLS,
    HASHED_NAME: HASHED_NAME,
    BUNDLES: BUNDLES,
    PART_MARK: PART_MARK,
    PART_END: PART_END,
    partOf: partOf,
    shellKey: shellKey,
    STORED_AT_HEADER: STORED_AT_HEADER,
    routeFor: routeFor,
    NETWORK_ROUTES: NETWORK_ROUTES,
    pageKey: pageKey,
    isStorable: isStorable,
    markCachedCopy: markCachedCopy,
    networkFirst: networkFirst,
    respond: respond,
    precache: precache,
    deleteOldCaches: deleteOldCaches,
    clearUserCaches: clearUserCaches,
  };

  if (root) {
    root.FrontlineCaches = api;
  }
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = api;
  }
})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : undefined);
