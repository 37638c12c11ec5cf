/**
 * Draining the outbox: send the signed-in user's waiting items to POST /api/v1/sync and act on
 * each answer (SPEC §5 O2, O3, O10, O11; §6).
 *
 *   created | duplicate  → acknowledge: item deleted, receipt kept
 *   rejected             → "attention" with the field errors
 *   conflict             → "attention": the id holds different content; the user may send as new
 *   401 / 403            → stop; everything stays queued; the user is asked to sign in
 *   network error, timeout, 5xx, 429, a redirect, an HTML or other non-JSON answer, a result
 *   missing for an item  → back off (attempts + 1, full jitter, Retry-After honoured); stop
 *
 * Who is signed in comes from GET /api/v1/me before each drain (with a fresh CSRF token), and
 * only that user's items are sent. One drain at a time across tabs and the worker
 * (withOutboxLock), with at most MAX_IN_FLIGHT sync requests of its own in flight.
 * navigator.onLine is never consulted: only an answer counts.
 *
 * Everything the outside world does is injected (fetch, clock, random, timers, the store), so
 * this runs unchanged in the worker, in pages and under node --test.
 */
(function (root) {
  'use strict';

  var Backoff =
    (root && root.FrontlineBackoff) ||
    (typeof require === 'function' ? require('./backoff.js') : null);

  var LOCK_NAME = 'frontline-outbox';
  var SYNC_URL = '/api/v1/sync';
  var ME_URL = '/api/v1/me';
  var LOGOUT_URL = '/logout';
  /** The meta key of a sign-out made with no signal, still to be told to the server (O12). */
  var PENDING_SIGN_OUT = 'pending-sign-out';
  /** SPEC §6: at most 100 items per request. */
  var MAX_BATCH_ITEMS = 100;
  /** The server refuses bodies over 1 MiB (413); stay well under it. */
  var MAX_BATCH_BYTES = 512 * 1024;
  var REQUEST_TIMEOUT_MS = 20000;
  /** An item "sending" for longer than this belongs to a sender that died; see resetStaleSending. */
  var STALE_SENDING_MS = 60000;
  var LEASE_TTL_MS = 60000;
  /**
   * Sync requests a drain keeps in flight at once (issue 16, third pass): while the server
   * answers one batch, the phone writes the previous answer and the next batch is already on its
   * way, so the phone's work and the server's overlap. Two is enough to keep the server busy; the
   * rate limit (120 requests a minute per user) is far off for a phone's outbox.
   */
  var MAX_IN_FLIGHT = 2;

  var MESSAGES = Object.freeze({
    offline: 'Not sent yet: no connection to Frontline. It will be sent automatically.',
    timeout: 'Not sent yet: Frontline took too long to answer. It will be sent automatically.',
    server: 'Not sent yet: Frontline had a problem. It will be sent automatically.',
    busy: 'Not sent yet: Frontline is busy. It will be sent automatically.',
    notAnswer:
      'Not sent yet: the connection did not reach Frontline (for example a Wi-Fi sign-in page). ' +
      'It will be sent automatically.',
    noResult: 'Not sent yet: Frontline did not confirm this item. It will be sent automatically.',
    signIn: 'Waiting for you to sign in again.',
    signingOut: 'Not sent yet: a sign-out made with no signal must reach Frontline first.',
    rejected: 'Frontline could not accept this. Check the answers marked, then send it again.',
    conflict:
      'Frontline already has a different record with this reference. Send this one as a new ' +
      'record, or discard it if it is already there.',
    tooLarge: 'This is too long to send. Shorten the text, then send it again.',
  });

  /**
   * @typedef {import('./outbox.js').OutboxItem} OutboxItem
   * @typedef {{type: 'results', results: Object<string, *>}
   *   | {type: 'signed-out', status: number}
   *   | {type: 'too-large'}
   *   | {type: 'invalid', errorsByIndex: Object<number, Array<{field: string, message: string}>>}
   *   | {type: 'retry', message: string, retryAfter: (number | null)}} Verdict
   */

  /**
   * Splits items (in queue order) into consecutive batches of at most `maxItems` items and about
   * `maxBytes` of JSON. An item bigger than maxBytes on its own travels alone.
   *
   * @template T
   * @param {T[]} items
   * @param {{maxItems?: number, maxBytes?: number, size?: (item: T) => number}} [limits]
   * @returns {T[][]}
   */
  function makeBatches(items, limits) {
    var maxItems = (limits && limits.maxItems) || MAX_BATCH_ITEMS;
    var maxBytes = (limits && limits.maxBytes) || MAX_BATCH_BYTES;
    var size =
      (limits && limits.size) ||
      function (item) {
        return JSON.stringify(wireItem(/** @type {*} */ (item))).length;
      };
    var batches = [];
    var current = [];
    var bytes = 0;
    items.forEach(function (item) {
      var s = size(item);
      if (current.length && (current.length >= maxItems || bytes + s > maxBytes)) {
        batches.push(current);
        current = [];
        bytes = 0;
      }
      current.push(item);
      bytes += s;
    });
    if (current.length) batches.push(current);
    return batches;
  }

  /**
   * A drain's batches (`due` in queue order, oldest first): runs of neighbouring keys (ids),
   * which the phone claims, checks and deletes with one IndexedDB request per run instead of
   * one per item (outbox.js readMany, settleBatch; issue 16, fourth pass), and the oldest item
   * in the first batch, so that whatever is due goes in the end however often a drain stops
   * midway. The items in key order are taken from a point at most one batch before the oldest,
   * round to the lowest key and on up to that point again; where they wrap, a batch ends. The
   * point is chosen so that the batches before the wrap are full: as many batches as in queue
   * order. Items are independent on the server (SPEC §6), so their order changes nothing there.
   *
   * @param {OutboxItem[]} due
   * @param {{maxItems?: number, maxBytes?: number, size?: (item: OutboxItem) => number}} [limits]
   * @returns {OutboxItem[][]}
   */
  function sendOrder(due, limits) {
    if (due.length < 2) return makeBatches(due, limits);
    var maxItems = (limits && limits.maxItems) || MAX_BATCH_ITEMS;
    var oldest = due[0];
    var byKey = due.slice().sort(function (a, b) {
      return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    });
    var at = byKey.indexOf(oldest);
    var from = Math.max(0, byKey.length - Math.ceil((byKey.length - at) / maxItems) * maxItems);
    var batches = inRuns(byKey, from, limits);
    // A batch cut short by its size in bytes can leave the oldest out of the first: then start
    // at the oldest itself.
    if (batches[0].indexOf(oldest) < 0) batches = inRuns(byKey, at, limits);
    return batches;
  }

  /** Batches of byKey from `from` to the end, then from the start up to `from`. */
  function inRuns(byKey, from, limits) {
    return makeBatches(byKey.slice(from), limits).concat(from ? makeBatches(byKey.slice(0, from), limits) : []);
  }

  /** @param {OutboxItem} item */
  function wireItem(item) {
    return { kind: item.kind, id: item.id, data: item.data };
  }

  /**
   * fetch with a deadline (AbortController). Rejects with an error named "TimeoutError".
   *
   * @param {typeof fetch} fetchImpl
   * @param {string} url
   * @param {RequestInit} init
   * @param {{timeoutMs: number, setTimeout: Function, clearTimeout: Function}} t
   * @returns {Promise<Response>}
   */
  function fetchWithTimeout(fetchImpl, url, init, t) {
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timedOut = false;
    // Called as plain functions: window.setTimeout called as a method of `t` throws
    // "Illegal invocation" in browsers.
    var startTimer = t.setTimeout;
    var stopTimer = t.clearTimeout;
    return new Promise(function (resolve, reject) {
      var timer = startTimer(function () {
        timedOut = true;
        if (controller) controller.abort();
        var error = new Error('The request timed out');
        error.name = 'TimeoutError';
        reject(error);
      }, t.timeoutMs);
      var options = Object.assign({}, init, controller ? { signal: controller.signal } : {});
      Promise.resolve()
        .then(function () {
          return fetchImpl(url, options);
        })
        .then(
          function (response) {
            stopTimer(timer);
            if (!timedOut) resolve(response);
          },
          function (error) {
            stopTimer(timer);
            if (!timedOut) reject(error);
          }
        );
    });
  }

  /** @param {Response} response */
  function isJson(response) {
    var type = (response.headers && response.headers.get('content-type')) || '';
    return /^application\/([a-z0-9.+-]*\+)?json\b/i.test(type.trim());
  }

  /** A redirect followed or not, or an opaque answer: not from our API (O10). */
  function isRedirect(response) {
    return (
      response.type === 'opaqueredirect' ||
      response.redirected === true ||
      (response.status >= 300 && response.status < 400) ||
      response.status === 0
    );
  }

  /**
   * Who is signed in, and a fresh CSRF token.
   *
   * @param {typeof fetch} fetchImpl
   * @param {{timeoutMs: number, setTimeout: Function, clearTimeout: Function}} timing
   * @returns {Promise<{type: 'user', user: {id: string, csrfToken: string}}
   *   | {type: 'signed-out'} | {type: 'unreachable', message: string}>}
   */
  async function whoAmI(fetchImpl, timing) {
    var response;
    try {
      response = await fetchWithTimeout(
        fetchImpl,
        ME_URL,
        {
          method: 'GET',
          credentials: 'same-origin',
          redirect: 'manual',
          cache: 'no-store',
          headers: { Accept: 'application/json' },
        },
        timing
      );
    } catch (error) {
      return {
        type: 'unreachable',
        // No answer at all (no network, the server down, a timeout): what a person calls no signal.
        noSignal: true,
        message: error && error.name === 'TimeoutError' ? MESSAGES.timeout : MESSAGES.offline,
      };
    }
    if (isRedirect(response)) return { type: 'unreachable', message: MESSAGES.notAnswer };
    if (response.status === 401 || response.status === 403) return { type: 'signed-out' };
    if (response.status < 200 || response.status > 299 || !isJson(response)) {
      return { type: 'unreachable', message: response.status >= 500 ? MESSAGES.server : MESSAGES.notAnswer };
    }
    try {
      var me = await response.json();
      if (me && me.id !== undefined && me.id !== null && typeof me.csrf_token === 'string') {
        return { type: 'user', user: { id: String(me.id), csrfToken: me.csrf_token } };
      }
    } catch (error) {
      /* fall through: not an answer */
    }
    return { type: 'unreachable', message: MESSAGES.notAnswer };
  }

  /**
   * FastAPI's request-validation 422 names items by position: ["body", "items", 3, ...].
   *
   * @param {*} body
   * @returns {Object<number, Array<{field: string, message: string}>>}
   */
  function errorsByIndex(body) {
    var found = {};
    var detail = body && Array.isArray(body.detail) ? body.detail : [];
    detail.forEach(function (error) {
      var loc = Array.isArray(error && error.loc) ? error.loc : [];
      var at = loc.indexOf('items');
      if (at < 0 || typeof loc[at + 1] !== 'number') return;
      var index = loc[at + 1];
      var rest = loc.slice(at + 2).filter(function (p) {
        return typeof p === 'string' && p !== 'data';
      });
      (found[index] = found[index] || []).push({
        field: rest[0] || 'data',
        message: String((error && (error.message || error.msg)) || 'is not valid'),
      });
    });
    return found;
  }

  /**
   * What an answer to POST /api/v1/sync means (O10). Only a 2xx JSON body with a results list
   * is an answer about the items.
   *
   * @param {Response} response
   * @param {number} nowMs
   * @returns {Promise<Verdict>}
   */
  async function judgeSyncReply(response, nowMs) {
    var retryAfter = Backoff.retryAfterMs(
      response.headers ? response.headers.get('retry-after') : null,
      nowMs
    );
    if (isRedirect(response)) return { type: 'retry', message: MESSAGES.notAnswer, retryAfter: null };
    var status = response.status;
    if (status === 401 || status === 403) return { type: 'signed-out', status: status };
    if (status === 429) return { type: 'retry', message: MESSAGES.busy, retryAfter: retryAfter };
    if (status >= 500) return { type: 'retry', message: MESSAGES.server, retryAfter: retryAfter };
    if (!isJson(response)) return { type: 'retry', message: MESSAGES.notAnswer, retryAfter: retryAfter };
    var body;
    try {
      body = await response.json();
    } catch (error) {
      return { type: 'retry', message: MESSAGES.notAnswer, retryAfter: null };
    }
    if (status === 413) return { type: 'too-large' };
    if (status === 422) {
      var byIndex = errorsByIndex(body);
      if (Object.keys(byIndex).length) return { type: 'invalid', errorsByIndex: byIndex };
      return { type: 'retry', message: MESSAGES.server, retryAfter: retryAfter };
    }
    if (status < 200 || status > 299 || !body || !Array.isArray(body.results)) {
      return { type: 'retry', message: MESSAGES.server, retryAfter: retryAfter };
    }
    var results = {};
    body.results.forEach(function (result) {
      if (result && typeof result.id === 'string') results[result.id] = result;
    });
    return { type: 'results', results: results };
  }

  /**
   * Holds the outbox lock while `fn` runs. Web Locks where the browser has them (tabs and the
   * worker share them); otherwise a lease in IndexedDB that expires if its holder dies and is
   * renewed through the `renew` callback handed to `fn`. `fn` also learns whether the lock is
   * exclusive for sure (Web Locks: the browser frees it when its holder dies, so any item still
   * "sending" is an orphan) or only a lease (a holder may outlive it).
   *
   * Without `wait`, returns {status: "busy"} at once if another sender holds the lock (it will
   * send what is due). With `wait` ("Send now"), waits for it.
   *
   * @template T
   * @param {(renew: () => Promise<boolean>, lock: {exclusive: boolean}) => Promise<T>} fn
   * @param {{locks?: LockManager | null, store: *, wait?: boolean, owner?: string,
   *   sleep?: (ms: number) => Promise<void>, leaseTtlMs?: number, maxWaitMs?: number}} options
   * @returns {Promise<T | {status: 'busy'}>}
   */
  async function withOutboxLock(fn, options) {
    var noRenew = function () {
      return Promise.resolve(true);
    };
    if (options.locks && typeof options.locks.request === 'function') {
      var lockOptions = options.wait ? { mode: 'exclusive' } : { mode: 'exclusive', ifAvailable: true };
      return options.locks.request(LOCK_NAME, lockOptions, function (lock) {
        if (!lock) return { status: 'busy' };
        return fn(noRenew, { exclusive: true });
      });
    }
    var store = options.store;
    var owner = options.owner || Math.random().toString(36).slice(2) + Date.now().toString(36);
    var ttl = options.leaseTtlMs || LEASE_TTL_MS;
    var sleep =
      options.sleep ||
      function (ms) {
        return new Promise(function (resolve) {
          setTimeout(resolve, ms);
        });
      };
    var waited = 0;
    var maxWait = options.maxWaitMs || 30000;
    while (!(await store.acquireLease(owner, ttl))) {
      if (!options.wait || waited >= maxWait) return { status: 'busy' };
      await sleep(250);
      waited += 250;
    }
    try {
      return await fn(
        function () {
          return store.acquireLease(owner, ttl);
        },
        { exclusive: false }
      );
    } finally {
      await store.releaseLease(owner);
    }
  }

  /**
   * Sends what is due. Call it inside withOutboxLock.
   *
   * @param {{
   *   store: *, fetch: typeof fetch, now?: () => number, random?: () => number,
   *   force?: boolean, onlyUser?: (string | null), signalBack?: boolean,
   *   onProgress?: (p: {userId: string, done: number, total: number, sending: number,
   *     acknowledged: number}) => void,
   *   renew?: () => Promise<boolean>, lock?: {exclusive: boolean}, timeoutMs?: number,
   *   setTimeout?: Function, clearTimeout?: Function,
   *   limits?: {maxItems?: number, maxBytes?: number}, maxInFlight?: number
   * }} o
   *   force: ignore backoff ("Send now"). onlyUser: skip the drain unless this user has something
   *   due (a page knows its user; the worker passes null and lets /api/v1/me decide). lock: from
   *   withOutboxLock; under an exclusive lock, items left "sending" by a closed tab are sent again
   *   at once, under a lease only once STALE_SENDING_MS has passed. maxInFlight: sync requests
   *   in flight at once (MAX_IN_FLIGHT; 1 sends one at a time). signalBack: the browser has just
   *   said the network is back; with onlyUser, the outbox is read and the first batch claimed
   *   while /api/v1/me is asked, and put back unsent unless its answer names onlyUser.
   * @returns {Promise<{status: 'idle' | 'done' | 'retry' | 'signed-out' | 'lost-lease',
   *   userId: (string | null), acknowledged: number, attention: number, retrying: number,
   *   message?: string}>}
   */
  /**
   * A sign-out made with no signal (O12): the phone forgot the user at once; the server session
   * ends here, on the first chance, before anything else is sent for anyone. The POST carries the
   * CSRF token of the session that was signed out, so it can only end that session: if someone
   * has signed in since, their token differs, the server refuses it (403) and their session stays.
   *
   * Our server answers a sign-out with a redirect to /login (an opaque redirect here) and a token
   * of another session with 403: both settle it. Anything else (no network, a timeout, a 5xx, a
   * Wi-Fi sign-in page answering 200) is tried again later.
   *
   * @param {*} store
   * @param {typeof fetch} fetchImpl
   * @param {{timeoutMs?: number, setTimeout?: Function, clearTimeout?: Function}} [timing]
   * @returns {Promise<'none' | 'ended' | 'unreachable'>}
   */
  async function endPendingSignOut(store, fetchImpl, timing) {
    var pending = await store.getMeta(PENDING_SIGN_OUT);
    if (!pending) return 'none';
    var t = {
      timeoutMs: (timing && timing.timeoutMs) || REQUEST_TIMEOUT_MS,
      setTimeout: (timing && timing.setTimeout) || setTimeout,
      clearTimeout: (timing && timing.clearTimeout) || clearTimeout,
    };
    var token = String(pending.csrfToken || '');
    var response;
    try {
      response = await fetchWithTimeout(
        fetchImpl,
        LOGOUT_URL,
        {
          method: 'POST',
          credentials: 'same-origin',
          redirect: 'manual',
          cache: 'no-store',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            'X-CSRF-Token': token,
          },
          body: 'csrf_token=' + encodeURIComponent(token),
        },
        t
      );
    } catch (error) {
      return 'unreachable';
    }
    if (!isRedirect(response) && response.status !== 403) return 'unreachable';
    await store.deleteMeta(PENDING_SIGN_OUT);
    return 'ended';
  }

  async function drain(o) {
    var now = o.now || Date.now;
    var random = o.random || Math.random;
    var force = Boolean(o.force);
    var timing = {
      timeoutMs: o.timeoutMs || REQUEST_TIMEOUT_MS,
      setTimeout: o.setTimeout || setTimeout,
      clearTimeout: o.clearTimeout || clearTimeout,
    };
    var progress = o.onProgress || function () {};
    var renew = o.renew || function () {
      return Promise.resolve(true);
    };
    var store = o.store;
    var staleMs = o.lock && o.lock.exclusive ? 0 : STALE_SENDING_MS;
    var summary = { status: 'idle', userId: null, acknowledged: 0, attention: 0, retrying: 0 };

    // O12: a sign-out made with no signal reaches the server before anything else is sent.
    var signOut = await endPendingSignOut(store, o.fetch, timing);
    summary.signOut = signOut;
    if (signOut === 'unreachable') {
      summary.status = 'retry';
      summary.noSignal = true;
      summary.message = MESSAGES.signingOut;
      return summary;
    }

    // Nothing due for anyone (or for this page's user), nothing a dead sender left behind: no
    // need to ask the network anything.
    var hint = o.onlyUser === undefined ? null : o.onlyUser;
    if (!(await store.hasWork(hint, now(), force, staleMs))) return summary;

    // Each item's JSON is made once: to size the batches, then to build the request bodies. Its
    // data never changes once queued (O11), so the text made here is what the claimed item holds,
    // unless the item was discarded meanwhile and a new one queued under the same id (another
    // tab submitting the same draft): its createdAt differs then, and the claimed copy is sent.
    var wire = {};
    var limits = Object.assign({}, o.limits, {
      size: function (item) {
        var text = JSON.stringify(wireItem(item));
        wire[item.id] = { createdAt: item.createdAt, text: text };
        return text.length;
      },
    });
    var batches = [];
    var next = 0;
    var renewed = false;

    /** One transaction reads what is due for `userId` and claims the first batch (issue 16). */
    async function start(userId) {
      renewed = await renew();
      return store.startDrain(userId, now(), force, staleMs, function (items) {
        batches = sendOrder(items, limits);
        next = 1;
        return renewed ? batches[0] : [];
      });
    }

    /** The first batch as start() claimed it (what is "sending" in it). */
    function claimedFirst() {
      return (batches[0] || []).filter(function (item) {
        return item.state === 'sending';
      });
    }

    // The signal has just come back (the page's `online` event) and the page knows its user:
    // read the outbox and claim the first batch while GET /api/v1/me is on its way, instead of
    // after its answer (a round trip on a phone's network; issue 16, sixth pass). Nothing leaves
    // the phone before /me names that same user: on any other answer (someone else, no one, no
    // answer) the claimed batch goes back to waiting, unsent and with no attempt counted, before
    // anything else happens. Only on `signalBack`: a try with no signal (the timer, a page load)
    // does not pay for a read and a claim it would undo.
    var early = null;
    if (o.signalBack && hint !== null) {
      early = start(hint).then(
        function (items) {
          return { items: items };
        },
        function (error) {
          // The claim's transaction failed as a whole: nothing is claimed.
          return { error: error || new Error('The outbox could not be read') };
        }
      );
    }
    var me = await whoAmI(o.fetch, timing);
    var started = early ? await early : null;
    var forHint = me.type === 'user' && started && String(me.user.id) === String(hint);
    if (started && !forHint && !started.error) {
      // Not this page's user after all (or no answer): put back what was claimed, at once.
      var putBack = claimedFirst().map(function (item) {
        return item.id;
      });
      batches = [];
      next = 0;
      if (putBack.length) await store.release(putBack, null);
    }
    if (me.type === 'signed-out') {
      summary.status = 'signed-out';
      summary.message = MESSAGES.signIn;
      return summary;
    }
    if (me.type !== 'user') {
      summary.status = 'retry';
      summary.noSignal = Boolean(me.noSignal);
      summary.message = me.message;
      return summary;
    }
    var user = me.user;
    summary.userId = user.id;
    if (forHint && started.error) throw started.error;
    var due = forHint ? started.items : await start(user.id);
    var total = due.length;
    if (!total) return summary;
    summary.status = 'done';
    if (!renewed) {
      summary.status = 'lost-lease';
      return summary;
    }

    /** The ids of the next batch to claim, or null when none is left. */
    function nextIds() {
      if (next >= batches.length) return null;
      return batches[next++].map(function (item) {
        return item.id;
      });
    }

    /**
     * Claims the next batch that still has items to send (others may have been discarded or
     * claimed meanwhile), after `claimed` (what the answer's transaction claimed) came back empty.
     * Resolves to {items}, {lostLease: true}, or null when none is left.
     */
    async function claimMore(claimed) {
      if (claimed && claimed.length) return { items: claimed };
      var ids;
      while ((ids = nextIds())) {
        if (!(await renew())) return { lostLease: true };
        var items = await store.markSending(ids, user.id);
        if (items.length) return { items: items };
      }
      return null;
    }

    /** One request for a claimed batch; resolves to the verdict, never rejects. */
    async function send(batch) {
      var body =
        '{"items":[' +
        batch
          .map(function (item) {
            var made = wire[item.id];
            return made && made.createdAt === item.createdAt ? made.text : JSON.stringify(wireItem(item));
          })
          .join(',') +
        ']}';
      try {
        var response = await fetchWithTimeout(
          o.fetch,
          SYNC_URL,
          {
            method: 'POST',
            credentials: 'same-origin',
            redirect: 'manual',
            cache: 'no-store',
            headers: {
              'Content-Type': 'application/json',
              Accept: 'application/json',
              'X-CSRF-Token': user.csrfToken,
            },
            body: body,
          },
          timing
        );
        return await judgeSyncReply(response, now());
      } catch (error) {
        return {
          type: 'retry',
          noSignal: true,
          message: error && error.name === 'TimeoutError' ? MESSAGES.timeout : MESSAGES.offline,
          retryAfter: null,
        };
      }
    }

    function count(outcome) {
      if (!outcome) return;
      summary.acknowledged += outcome.acknowledged;
      summary.attention += outcome.attention;
      summary.retrying += outcome.retrying;
      if ((outcome.retrying || outcome.released) && summary.status === 'done') {
        // Some items got no verdict of their own; they go again on the next drain.
        summary.status = 'retry';
        summary.message = MESSAGES.noResult;
      }
    }

    /** Whether an answer stops the drain: nothing more is claimed or sent after it. */
    function stops(verdict, batch) {
      return (
        verdict.type === 'signed-out' ||
        verdict.type === 'retry' ||
        (verdict.type === 'too-large' && batch.length > 1)
      );
    }

    // Up to MAX_IN_FLIGHT requests in flight (issue 16, third pass), claimed and sent in queue
    // order, and their answers written in that same order: the server works on batch n+1 while
    // the phone writes the answer to batch n (acknowledged items deleted with their receipts) and
    // claims batch n+2, in ONE read-write transaction (settleBatch). SPEC §6 makes the items of a
    // sync request independent, so batch n+1 needs nothing from batch n's answer.
    //
    // What stays as it was with one request at a time:
    // - an item leaves the outbox only on the server's own answer about the copy that was sent
    //   (settleBatch; a late answer never deletes a version queued again under the id);
    // - no id is ever in flight twice: each is claimed ("sending") once, atomically;
    // - an answer that stops the drain (no answer, 5xx, 429, 401/403, a 413 for a batch) changes
    //   exactly its own batch's items (backed off, or released for a sign-in); nothing more is
    //   claimed once any answer that stops has arrived, even one not yet written; the other
    //   request's answer is still waited for and written, whatever it is;
    // - the lock (or lease) is held until every request sent has been answered (or timed out)
    //   and its answer written: a waiting "Send now" never takes a batch still on its way for
    //   abandoned. If writing fails, the requests still in flight are waited for and their
    //   answers written where the outbox can still be written; then the error is thrown.
    var maxInFlight = Math.max(1, Math.floor(o.maxInFlight || MAX_IN_FLIGHT));
    var done = 0;
    /** @type {Array<{batch: OutboxItem[], answer: (Verdict | null), verdict: Promise<Verdict>}>} */
    var flights = [];
    var stopped = []; // the answers that stopped the drain, in queue order
    var lostLease = false;

    function launch(batch) {
      var flight = { batch: batch, answer: null, verdict: null };
      flight.verdict = send(batch).then(function (verdict) {
        flight.answer = verdict;
        return verdict;
      });
      flights.push(flight);
    }

    /** An answer that stops the drain has arrived (written or not): claim and send nothing more. */
    function halted() {
      return (
        stopped.length > 0 ||
        flights.some(function (flight) {
          return flight.answer !== null && stops(flight.answer, flight.batch);
        })
      );
    }

    function inFlight() {
      return flights.reduce(function (sum, flight) {
        return sum + flight.batch.length;
      }, 0);
    }

    function report() {
      progress({ userId: user.id, done: done, total: total, sending: inFlight(), acknowledged: summary.acknowledged });
    }

    /**
     * Sends a claimed batch, unless an answer that stops the drain came meanwhile: then it is put
     * back to waiting unsent, with no attempt counted. (If putting it back fails, it stays
     * "sending" unsent: the next drain takes it for a dead sender's and sends it.)
     */
    async function sendOrPutBack(following) {
      if (!following) return;
      if (following.lostLease) {
        lostLease = true;
        return;
      }
      if (halted()) {
        await store.release(
          following.items.map(function (item) {
            return item.id;
          }),
          null
        );
        return;
      }
      launch(following.items);
    }

    try {
      var first = (batches[0] || []).filter(function (item) {
        return item.state === 'sending';
      });
      await sendOrPutBack(first.length ? { items: first } : await claimMore(null));
      if (flights.length) report();
      // Fill the window: batch 2 is claimed (and sent) while batch 1 is in flight.
      while (flights.length && flights.length < maxInFlight && !lostLease && !halted()) {
        var more = await claimMore(null);
        if (!more) break;
        await sendOrPutBack(more);
        report();
      }
      while (flights.length) {
        var head = flights[0];
        var verdict = await head.verdict;
        flights.shift();
        done += head.batch.length;
        if (stops(verdict, head.batch)) {
          stopped.push(verdict);
          count((await applyVerdict(store, head.batch, verdict, now, random)).counts);
          report();
          continue;
        }
        // A definite answer: written, and the next batch claimed in the same transaction, unless
        // the drain is stopping (an answer that stops it has arrived) or the lease is gone.
        var ids = lostLease || halted() ? null : nextIds();
        if (ids && !(await renew())) {
          lostLease = true;
          ids = null;
        }
        var written = await applyVerdict(store, head.batch, verdict, now, random, ids || [], user.id);
        count(written.counts);
        await sendOrPutBack(ids ? await claimMore(written.claimed) : null);
        report();
      }
    } catch (error) {
      // Writing failed (a full disk, say). Every request still in flight is waited for and its
      // answer written if the outbox can still be written; if not, its batch stays "sending" and
      // the next drain sends it again (answered `duplicate`). Nothing was claimed by the step
      // that failed: its claim is in the transaction that failed.
      while (flights.length) {
        var left = flights.shift();
        var late = await left.verdict;
        await applyVerdict(store, left.batch, late, now, random).catch(function () {});
      }
      throw error || new Error('The outbox could not be written');
    }

    if (stopped.length) {
      // The first answer that stopped the drain says why, unless one asks the user to sign in.
      var why =
        stopped.filter(function (verdict) {
          return verdict.type === 'signed-out';
        })[0] || stopped[0];
      if (why.type === 'signed-out') {
        summary.status = 'signed-out';
        summary.message = MESSAGES.signIn;
      } else {
        // The server, or the way to it, is failing: the later batches are left untouched.
        summary.status = 'retry';
        summary.noSignal = Boolean(why.noSignal);
        summary.message = why.type === 'retry' ? why.message : MESSAGES.server;
      }
    } else if (lostLease) {
      summary.status = 'lost-lease';
    }
    return summary;
  }

  /**
   * @param {*} store
   * @param {OutboxItem[]} batch the items claimed for this request
   * @param {Verdict} verdict
   * @param {() => number} now
   * @param {() => number} random
   * @param {string[]} [claimIds] the next batch, claimed once the answer is written (in the same
   *   transaction as the acknowledgements when the answer is a results list)
   * @param {string} [claimUser] the drain's user: only their items are claimed
   * @returns {Promise<{counts: Object<string, number>, claimed: OutboxItem[]}>}
   */
  async function applyVerdict(store, batch, verdict, now, random, claimIds, claimUser) {
    var counts = { acknowledged: 0, attention: 0, retrying: 0, released: 0 };
    var claim = claimIds || [];
    var written = async function () {
      return { counts: counts, claimed: claim.length ? await store.markSending(claim, claimUser) : [] };
    };
    var ids = batch.map(function (item) {
      return item.id;
    });
    var later = function (message, retryAfter) {
      return function (id) {
        counts.retrying += 1;
        return store.backOff(
          id,
          function (attempts) {
            return Backoff.nextAttemptAt({
              attempts: attempts,
              nowMs: now(),
              random: random,
              retryAfter: retryAfter,
            });
          },
          message
        );
      };
    };

    if (verdict.type === 'signed-out') {
      await store.release(ids, MESSAGES.signIn);
      return written();
    }
    if (verdict.type === 'retry') {
      // Every item of the batch backs off, in one transaction.
      counts.retrying += ids.length;
      await store.backOffMany(
        ids,
        function (attempts) {
          return Backoff.nextAttemptAt({
            attempts: attempts,
            nowMs: now(),
            random: random,
            retryAfter: verdict.retryAfter,
          });
        },
        verdict.message
      );
      return written();
    }
    if (verdict.type === 'too-large') {
      if (ids.length === 1) {
        counts.attention += 1;
        await store.markAttention(ids[0], 'too-large', [], MESSAGES.tooLarge);
      } else {
        for (var t = 0; t < ids.length; t++) await later(MESSAGES.server, null)(ids[t]);
      }
      return written();
    }
    if (verdict.type === 'invalid') {
      for (var v = 0; v < ids.length; v++) {
        var problems = verdict.errorsByIndex[v];
        if (problems) {
          counts.attention += 1;
          await store.markAttention(ids[v], 'rejected', problems, MESSAGES.rejected);
        } else {
          // Not judged: the request as a whole was refused. Back to waiting, due at once.
          counts.released += 1;
          await store.release([ids[v]], null);
        }
      }
      return written();
    }
    var acknowledged = [];
    for (var r = 0; r < ids.length; r++) {
      var result = verdict.results[ids[r]];
      var outcome = result && result.outcome;
      if (outcome === 'created' || outcome === 'duplicate') {
        counts.acknowledged += 1;
        acknowledged.push({
          id: ids[r],
          outcome: outcome,
          kind: batch[r].kind,
          userId: batch[r].userId,
          // Which copy was sent: only that one may be deleted on this answer (settleBatch).
          createdAt: batch[r].createdAt,
        });
      } else if (outcome === 'rejected') {
        counts.attention += 1;
        var errors = Array.isArray(result.errors)
          ? result.errors.map(function (e) {
              return { field: String(e.field), message: String(e.message) };
            })
          : [];
        await store.markAttention(ids[r], 'rejected', errors, MESSAGES.rejected);
      } else if (outcome === 'conflict') {
        counts.attention += 1;
        await store.markAttention(ids[r], 'conflict', [], MESSAGES.conflict);
      } else {
        await later(MESSAGES.noResult, null)(ids[r]);
      }
    }
    var settled = await store.settleBatch(acknowledged, claim, claimUser);
    return { counts: counts, claimed: settled.claimed };
  }

  var api = {
    LOCK_NAME: LOCK_NAME,
    SYNC_URL: SYNC_URL,
    ME_URL: ME_URL,
    LOGOUT_URL: LOGOUT_URL,
    PENDING_SIGN_OUT: PENDING_SIGN_OUT,
    endPendingSignOut: endPendingSignOut,
    MAX_BATCH_ITEMS: MAX_BATCH_ITEMS,
    MAX_BATCH_BYTES: MAX_BATCH_BYTES,
    REQUEST_TIMEOUT_MS: REQUEST_TIMEOUT_MS,
    MAX_IN_FLIGHT: MAX_IN_FLIGHT,
    STALE_SENDING_MS: STALE_SENDING_MS,
    MESSAGES: MESSAGES,
    makeBatches: makeBatches,
    sendOrder: sendOrder,
    whoAmI: whoAmI,
    judgeSyncReply: judgeSyncReply,
    withOutboxLock: withOutboxLock,
    drain: drain,
  };

  if (root) {
    root.FrontlineSync = api;
  }
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = api;
  }
})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : undefined);
