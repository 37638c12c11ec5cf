/**
 * "Turn on notifications" ([data-push-optin] in web/templates/push/_optin.html).
 *
 * Turning on: ask permission (from the tap, as iOS requires), fetch the server's VAPID public key,
 * PushManager.subscribe({userVisibleOnly: true, applicationServerKey}) and POST the subscription to
 * /api/v1/push/subscriptions with the CSRF token from <meta name="csrf-token">. Turning off: DELETE
 * it and unsubscribe the browser.
 *
 * Loaded on every signed-in page (base.html), because of shared phones: a browser subscription
 * belongs to the user who turned it on (remembered in localStorage under a fixed key: the user's
 * id, no personal data). When someone else is signed in on this browser, that subscription is
 * unsubscribed on their first page, so one person's news never shows on a phone another person is
 * using; the server then hears 410 from the push service and forgets it. Sign-out calls
 * window.FrontlinePushOptin.forget() to do the same at once.
 *
 * Without JavaScript, or without the Push API, the block stays hidden. On an iPhone or iPad outside
 * the Home Screen app the Push API is missing, so the Home Screen hint shows instead.
 */
(function (root) {
  'use strict';

  var API = '/api/v1/push';
  var OWNER_KEY = 'frontline.push.owner';
  var RECHECK_MS = 24 * 60 * 60 * 1000;

  // Pure helpers (node tests load them).

  /**
   * @param {string} text base64url, padding optional
   * @returns {Uint8Array}
   */
  function base64UrlToBytes(text) {
    var base64 = String(text).replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
    base64 += '===='.slice((base64.length % 4) || 4);
    var binary = root.atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  /**
   * Whether a subscription's applicationServerKey is the server's current key. A subscription
   * made under another key would be refused by the push service (the keys were rotated).
   *
   * @param {ArrayBuffer | ArrayBufferView | null | undefined} subscriptionKey
   * @param {string} publicKey base64url
   * @returns {boolean}
   */
  function sameKey(subscriptionKey, publicKey) {
    if (!subscriptionKey) return true; // the browser does not say: assume it is current
    var a = ArrayBuffer.isView(subscriptionKey)
      ? new Uint8Array(subscriptionKey.buffer, subscriptionKey.byteOffset, subscriptionKey.byteLength)
      : new Uint8Array(subscriptionKey);
    var b = base64UrlToBytes(publicKey);
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /**
   * What this browser can do: "supported", "ios-home-screen" (an iPhone/iPad in Safari, where push
   * needs the Home Screen app) or "unsupported".
   *
   * @param {*} win a window-like object
   * @returns {"supported" | "ios-home-screen" | "unsupported"}
   */
  function pushSupport(win) {
    var nav = win.navigator || {};
    if ('PushManager' in win && 'serviceWorker' in nav && 'Notification' in win) return 'supported';
    var ua = nav.userAgent || '';
    // iPadOS 13+ reports itself as a Mac; a Mac has no touch screen.
    var isIOS = /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && nav.maxTouchPoints > 1);
    var standalone =
      nav.standalone === true ||
      (typeof win.matchMedia === 'function' && win.matchMedia('(display-mode: standalone)').matches);
    return isIOS && !standalone ? 'ios-home-screen' : 'unsupported';
  }

  /**
   * What to do with a subscription found on page load, given who turned it on.
   *
   * @param {{user: string, checkedAt: number} | null} owner from localStorage
   * @param {string} userId the signed-in user
   * @param {number} nowMs
   * @returns {"drop" | "recheck" | "keep"}
   */
  function decide(owner, userId, nowMs) {
    if (!owner || owner.user !== userId) return 'drop';
    return nowMs - (owner.checkedAt || 0) > RECHECK_MS ? 'recheck' : 'keep';
  }

  var exported = {
    base64UrlToBytes: base64UrlToBytes,
    sameKey: sameKey,
    pushSupport: pushSupport,
    decide: decide,
  };
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = exported;
  }
  if (!root || !root.document) return;

  // The page.

  var doc = root.document;
  var block = doc.querySelector('[data-push-optin]');
  var userMeta = doc.querySelector('meta[name="frontline-user"]');
  var userId = userMeta ? userMeta.getAttribute('content') : null;

  function csrfToken() {
    var meta = doc.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') || '' : '';
  }

  function readOwner() {
    try {
      return JSON.parse(root.localStorage.getItem(OWNER_KEY) || 'null');
    } catch (error) {
      return null;
    }
  }

  function writeOwner(value) {
    try {
      if (value) root.localStorage.setItem(OWNER_KEY, JSON.stringify(value));
      else root.localStorage.removeItem(OWNER_KEY);
    } catch (error) {
      /* private browsing: the subscription is simply checked again next time */
    }
  }

  /**
   * @param {Promise<*>} promise
   * @param {number} ms
   * @param {string} reason the error's message when it takes longer
   * @returns {Promise<*>}
   */
  function within(promise, ms, reason) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () {
        reject(new Error(reason));
      }, ms);
      promise.then(
        function (value) {
          clearTimeout(timer);
          resolve(value);
        },
        function (error) {
          clearTimeout(timer);
          reject(error);
        }
      );
    });
  }

  /** The service worker's registration, or an error after a while (none is registered). */
  function registration() {
    return within(root.navigator.serviceWorker.ready, 10000, 'no-service-worker');
  }

  function api(method, path, body) {
    return root.fetch(API + path, {
      method: method,
      credentials: 'same-origin',
      redirect: 'error',
      headers: body
        ? { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrfToken() }
        : { Accept: 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) throw new Error('signed-out');
      if (!response.ok) throw new Error('server');
      return response.status === 204 ? null : response.json();
    });
  }

  /** Send the subscription; returns it. Resubscribes when the server's key changed. */
  function register(reg, existing) {
    return api('GET', '/vapid-public-key').then(function (answer) {
      var key = answer.public_key;
      var stale = existing && !sameKey(existing.options && existing.options.applicationServerKey, key);
      var current = stale ? existing.unsubscribe().then(function () { return null; }) : Promise.resolve(existing);
      return current
        .then(function (subscription) {
          return (
            subscription ||
            // The browser asks its push service; with no signal that can hang for minutes.
            within(
              reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(key) }),
              20000,
              'server'
            )
          );
        })
        .then(function (subscription) {
          return api('POST', '/subscriptions', subscription.toJSON()).then(function () {
            writeOwner({ user: userId, checkedAt: Date.now() });
            return subscription;
          });
        });
    });
  }

  /** Unsubscribe this browser and tell the server (best effort: a dead endpoint is pruned anyway). */
  function drop(subscription, tellServer) {
    if (!subscription) return Promise.resolve();
    var told = tellServer
      ? api('DELETE', '/subscriptions', { endpoint: subscription.endpoint }).catch(function () {})
      : Promise.resolve();
    return told
      .then(function () {
        return subscription.unsubscribe();
      })
      .catch(function () {})
      .then(function () {
        writeOwner(null);
      });
  }

  function currentSubscription() {
    if (pushSupport(root) !== 'supported') return Promise.resolve(null);
    return registration().then(function (reg) {
      return reg.pushManager.getSubscription();
    });
  }

  /** For sign-out on a shared phone: stop this browser's notifications. Never rejects. */
  function forget() {
    return currentSubscription()
      .then(function (subscription) {
        return drop(subscription, true);
      })
      .catch(function () {});
  }
  exported.forget = forget;
  if (root.FrontlinePushOptin) return; // loaded twice: the first copy does the work
  root.FrontlinePushOptin = exported;
  if (!userId) return;

  var support = pushSupport(root);

  /**
   * On every signed-in page: a subscription someone else turned on is dropped here; this user's
   * own is shown as on, and sent again once a day (keeps the server in step after a key change).
   *
   * @returns {Promise<boolean>} whether this user's notifications are on in this browser
   */
  function checkOwner() {
    if (support !== 'supported' || root.Notification.permission !== 'granted') {
      return Promise.resolve(false);
    }
    return registration()
      .then(function (reg) {
        return reg.pushManager.getSubscription().then(function (subscription) {
          if (!subscription) return false;
          var choice = decide(readOwner(), userId, Date.now());
          if (choice === 'drop') return drop(subscription, false).then(function () { return false; });
          if (choice === 'recheck') register(reg, subscription).catch(function () {});
          return true;
        });
      })
      .catch(function () {
        return false; // no service worker yet: nothing to check
      });
  }

  var owned = checkOwner();
  if (!block) return;

  var onButton = block.querySelector('[data-push-on]');
  var offButton = block.querySelector('[data-push-off]');
  var status = block.querySelector('[data-push-status]');
  var iosHint = doc.querySelector('[data-push-ios-hint]');

  if (support === 'ios-home-screen' && iosHint) iosHint.hidden = false;
  if (support !== 'supported') return;
  block.hidden = false;

  var MESSAGES = {
    on: 'Notifications are on for this device.',
    off: 'Notifications are off for this device.',
    denied:
      'Notifications are blocked for Frontline in this browser. To turn them on, allow notifications for this site in your browser or phone settings.',
    'signed-out': 'Your session has ended. Sign in again, then turn notifications on.',
    'no-service-worker': 'Notifications could not be turned on. Reload the page and try again.',
    server: 'Notifications could not be turned on just now. Try again later.',
    offline: 'You seem to be offline. Try again when you have signal.',
  };

  /**
   * @param {"on" | "off" | "busy" | "denied"} state
   * @param {string} [message]
   * @param {boolean} [afterTap] move focus to the button that replaced the tapped one
   */
  function show(state, message, afterTap) {
    if (state !== 'busy') {
      onButton.hidden = state !== 'off';
      offButton.hidden = state !== 'on';
    }
    onButton.disabled = offButton.disabled = state === 'busy';
    status.textContent = message || MESSAGES[state] || '';
    var next = state === 'on' ? offButton : state === 'off' ? onButton : null;
    if (afterTap && next) next.focus();
  }

  function failed(error) {
    var reason = error && error.message;
    if (!MESSAGES[reason] || reason === 'on' || reason === 'off') {
      reason = root.navigator.onLine === false ? 'offline' : 'server';
    }
    if (root.Notification.permission === 'denied') reason = 'denied';
    show(reason === 'denied' ? 'denied' : 'off', MESSAGES[reason], true);
  }

  onButton.addEventListener('click', function () {
    show('busy', 'Turning notifications on…');
    Promise.resolve(root.Notification.requestPermission())
      .then(function (permission) {
        if (permission !== 'granted') throw new Error('denied');
        return registration();
      })
      .then(function (reg) {
        return reg.pushManager.getSubscription().then(function (existing) {
          return register(reg, existing);
        });
      })
      .then(function () {
        show('on', '', true);
      }, failed);
  });

  offButton.addEventListener('click', function () {
    show('busy', 'Turning notifications off…');
    currentSubscription()
      .then(function (subscription) {
        return drop(subscription, true);
      })
      .then(
        function () {
          show('off', '', true);
        },
        function () {
          show('off', '', true);
        }
      );
  });

  if (root.Notification.permission === 'denied') {
    show('denied');
    return;
  }
  show('off');
  owned.then(function (on) {
    if (on) show('on');
  });
})(typeof window !== 'undefined' ? window : typeof globalThis !== 'undefined' ? globalThis : undefined);
