/**
 * Web push in the service worker (SPEC §6): show the notification the server sent, and open the
 * page it points to when it is tapped.
 *
 * The payload is the JSON that api/push/messages.py words: {title, body, url, tag}. It says what
 * changed and where to look, never what anyone wrote. `url` must be a path on this site; anything
 * else opens /mine. A push that cannot be read still shows a notification, because a subscription
 * made with userVisibleOnly promises one for every push.
 *
 * sw.js wires it:
 *   importScripts('/sw/push.js');
 *   self.addEventListener('push', FrontlinePush.onPush);
 *   self.addEventListener('notificationclick', FrontlinePush.onNotificationClick);
 *
 * Pure functions apart from the two handlers; loads in the worker and in node.
 */
(function (root) {
  'use strict';

  var ICON = '/static/icons/icon-192.png';
  var FALLBACK_URL = '/mine';
  var FALLBACK = Object.freeze({
    title: 'Frontline',
    body: 'You have an update in Frontline',
    url: FALLBACK_URL,
    tag: 'frontline',
  });
  var LIMITS = { title: 60, body: 160, tag: 64 };

  /**
   * The JSON a push carried, or null. Accepts PushMessageData (json()/text()), a string or an
   * object, so node tests can pass plain values.
   *
   * @param {*} data
   * @returns {Record<string, unknown> | null}
   */
  function readPayload(data) {
    if (data === null || data === undefined) return null;
    var value = data;
    try {
      if (typeof data.json === 'function') value = data.json();
      else if (typeof data === 'string') value = JSON.parse(data);
    } catch (error) {
      return null;
    }
    return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
  }

  /**
   * Where a tap may lead: a path on this site ("/mine#idea-…") or an absolute URL on it. Another
   * origin, a protocol-relative "//host" or a javascript: URL all become FALLBACK_URL.
   *
   * @param {unknown} url
   * @param {string} origin e.g. "https://frontline.example.nhs.uk"
   * @returns {string} an absolute URL on `origin`
   */
  function safeUrl(url, origin) {
    var fallback = origin + FALLBACK_URL;
    if (typeof url !== 'string' || url === '') return fallback;
    if (url.charAt(0) === '/' && (url.charAt(1) === '/' || url.charAt(1) === '\\')) return fallback;
    var parsed;
    try {
      parsed = new URL(url, origin);
    } catch (error) {
      return fallback;
    }
    return parsed.origin === origin ? parsed.href : fallback;
  }

  /**
   * @param {unknown} value
   * @param {string} fallback
   * @param {number} limit
   * @returns {string}
   */
  function text(value, fallback, limit) {
    if (typeof value !== 'string') return fallback;
    var trimmed = value.trim();
    return trimmed ? trimmed.slice(0, limit) : fallback;
  }

  /**
   * What showNotification() gets for a push.
   *
   * @param {*} data the push's data (PushMessageData, a string, an object or null)
   * @param {string} origin the worker's origin
   * @returns {{title: string, options: NotificationOptions & {renotify?: boolean}}}
   */
  function notificationFor(data, origin) {
    var payload = readPayload(data) || {};
    return {
      title: text(payload.title, FALLBACK.title, LIMITS.title),
      options: {
        body: text(payload.body, FALLBACK.body, LIMITS.body),
        tag: text(payload.tag, FALLBACK.tag, LIMITS.tag),
        // A newer message about the same record replaces the older one, and still alerts.
        renotify: true,
        icon: ICON,
        badge: ICON,
        lang: 'en-GB',
        data: { url: safeUrl(payload.url, origin) },
      },
    };
  }

  /**
   * The open window to use for `url`: one showing exactly it, else one on the same page
   * (to be navigated to the fragment), else none.
   *
   * @param {ReadonlyArray<{url: string}>} windows
   * @param {string} url absolute
   * @returns {{client: *, navigate: boolean} | null}
   */
  function chooseWindow(windows, url) {
    var target = new URL(url);
    var samePage = null;
    for (var i = 0; i < windows.length; i++) {
      var client = windows[i];
      var open;
      try {
        open = new URL(client.url);
      } catch (error) {
        continue;
      }
      if (open.href === target.href) return { client: client, navigate: false };
      if (!samePage && open.origin === target.origin && open.pathname === target.pathname && open.search === target.search) {
        samePage = { client: client, navigate: true };
      }
    }
    return samePage;
  }

  /**
   * Focus a window already at `url` (or on its page), or open a new one.
   *
   * @param {{matchAll: Function, openWindow: Function}} clients the worker's Clients
   * @param {string} url absolute, on this origin
   * @returns {Promise<*>}
   */
  function focusOrOpen(clients, url) {
    return clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (windows) {
      var choice = chooseWindow(windows || [], url);
      if (!choice) return clients.openWindow(url);
      var client = choice.client;
      var ready =
        choice.navigate && typeof client.navigate === 'function'
          ? client.navigate(url).then(
              function (navigated) {
                return navigated || client;
              },
              function () {
                return client; // an uncontrolled window cannot be navigated; focus it as it is
              }
            )
          : Promise.resolve(client);
      return ready.then(function (win) {
        return typeof win.focus === 'function' ? win.focus() : win;
      });
    });
  }

  /** @param {*} event a PushEvent */
  function onPush(event) {
    var shown = notificationFor(event.data, root.location.origin);
    event.waitUntil(root.registration.showNotification(shown.title, shown.options));
  }

  /** @param {*} event a NotificationEvent */
  function onNotificationClick(event) {
    var notification = event.notification;
    notification.close();
    var url = safeUrl((notification.data || {}).url, root.location.origin);
    event.waitUntil(focusOrOpen(root.clients, url));
  }

  var api = Object.freeze({
    ICON: ICON,
    FALLBACK: FALLBACK,
    readPayload: readPayload,
    safeUrl: safeUrl,
    notificationFor: notificationFor,
    chooseWindow: chooseWindow,
    focusOrOpen: focusOrOpen,
    onPush: onPush,
    onNotificationClick: onNotificationClick,
  });

  if (root) {
    root.FrontlinePush = api;
  }
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = api;
  }
})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : undefined);
