// Web push in the browser: what a push payload becomes on the phone (service_worker/push.js), where
// a tap leads, and the opt-in page's pure helpers (web/static/js/push-optin.js).
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const ROOT = path.join(__dirname, '..', '..');
const SW_PUSH = path.join(ROOT, 'service_worker', 'push.js');
const push = require(SW_PUSH);
const optin = require(path.join(ROOT, 'web', 'static', 'js', 'push-optin.js'));

const ORIGIN = 'https://frontline.example.nhs.uk';
const IDEA = '0b7d1f2e-4c1a-4d55-9a7e-1f0d2c3b4a59';

/** A PushMessageData the way the browser hands it over. */
function pushData(value) {
  return {
    json() {
      return JSON.parse(typeof value === 'string' ? value : JSON.stringify(value));
    },
  };
}

describe('a push payload becomes a notification', () => {
  it('shows the title, body and tag the server sent, with the app icon and the link', () => {
    const shown = push.notificationFor(
      pushData({
        title: 'Update on your idea',
        body: 'Your idea has a new status: Accepted',
        url: `/mine#idea-${IDEA}`,
        tag: `idea-${IDEA}`,
      }),
      ORIGIN,
    );
    assert.equal(shown.title, 'Update on your idea');
    assert.deepEqual(shown.options, {
      body: 'Your idea has a new status: Accepted',
      tag: `idea-${IDEA}`,
      renotify: true,
      icon: '/static/icons/icon-192.png',
      badge: '/static/icons/icon-192.png',
      lang: 'en-GB',
      data: { url: `${ORIGIN}/mine#idea-${IDEA}` },
    });
  });

  it('still shows a notification when the push cannot be read (userVisibleOnly promises one)', () => {
    for (const data of [null, undefined, pushData('not json'), pushData('[1, 2]'), pushData('"text"')]) {
      const shown = push.notificationFor(data, ORIGIN);
      assert.equal(shown.title, 'Frontline');
      assert.equal(shown.options.body, 'You have an update in Frontline');
      assert.equal(shown.options.data.url, `${ORIGIN}/mine`);
    }
  });

  it('fills in what is missing or blank and cuts what is too long', () => {
    const shown = push.notificationFor(
      { title: '   ', body: 'b'.repeat(500), tag: 7, url: '/mine' },
      ORIGIN,
    );
    assert.equal(shown.title, 'Frontline');
    assert.equal(shown.options.body.length, 160);
    assert.equal(shown.options.tag, 'frontline');
  });

  it('never links away from this site', () => {
    for (const url of [
      'https://phish.example/login',
      '//phish.example/login',
      '/\\phish.example',
      'javascript:alert(1)',
      '/\t/phish.example',
      '',
      42,
    ]) {
      assert.equal(push.safeUrl(url, ORIGIN), `${ORIGIN}/mine`, String(url));
    }
    assert.equal(push.safeUrl('/handovers/abc', ORIGIN), `${ORIGIN}/handovers/abc`);
    assert.equal(push.safeUrl(`${ORIGIN}/mine#x`, ORIGIN), `${ORIGIN}/mine#x`);
  });
});

/** The worker's Clients with these windows; records what happened. */
function fakeClients(urls, { navigable = true } = {}) {
  const log = [];
  const windows = urls.map((url) => ({
    url,
    focus() {
      log.push(['focus', this.url]);
      return Promise.resolve(this);
    },
    navigate(to) {
      if (!navigable) return Promise.reject(new TypeError('not controlled'));
      log.push(['navigate', this.url, to]);
      this.url = to;
      return Promise.resolve(this);
    },
  }));
  return {
    log,
    matchAll(options) {
      // Compared field by field: the worker test passes an object from another realm.
      assert.equal(options.type, 'window');
      assert.equal(options.includeUncontrolled, true);
      return Promise.resolve(windows);
    },
    openWindow(url) {
      log.push(['open', url]);
      return Promise.resolve(null);
    },
  };
}

describe('tapping a notification', () => {
  const target = `${ORIGIN}/mine#idea-${IDEA}`;

  it('focuses a window already showing that page', async () => {
    const clients = fakeClients([`${ORIGIN}/`, target]);
    await push.focusOrOpen(clients, target);
    assert.deepEqual(clients.log, [['focus', target]]);
  });

  it('moves a window on the same page to the record, then focuses it', async () => {
    const clients = fakeClients([`${ORIGIN}/mine`]);
    await push.focusOrOpen(clients, target);
    assert.deepEqual(clients.log, [
      ['navigate', `${ORIGIN}/mine`, target],
      ['focus', target],
    ]);
  });

  it('focuses the window as it is when it cannot be navigated', async () => {
    const clients = fakeClients([`${ORIGIN}/mine`], { navigable: false });
    await push.focusOrOpen(clients, target);
    assert.deepEqual(clients.log, [['focus', `${ORIGIN}/mine`]]);
  });

  it('opens a new window when none shows that page', async () => {
    const clients = fakeClients([`${ORIGIN}/`, `${ORIGIN}/outbox`, 'not a url']);
    await push.focusOrOpen(clients, target);
    assert.deepEqual(clients.log, [['open', target]]);
  });
});

describe('the worker event handlers', () => {
  /** push.js loaded as the worker loads it, with a fake `self`. */
  function worker() {
    const shown = [];
    const clients = fakeClients([]);
    const self = {
      URL,
      location: { origin: ORIGIN },
      registration: {
        showNotification(title, options) {
          shown.push({ title, options });
          return Promise.resolve();
        },
      },
      clients,
    };
    vm.runInNewContext(fs.readFileSync(SW_PUSH, 'utf8'), self);
    return { FrontlinePush: self.FrontlinePush, shown, clients };
  }

  it('push: shows the notification inside waitUntil', async () => {
    const { FrontlinePush, shown } = worker();
    const waited = [];
    FrontlinePush.onPush({
      data: pushData({ title: 'T', body: 'B', url: '/mine', tag: 't' }),
      waitUntil: (promise) => waited.push(promise),
    });
    await Promise.all(waited);
    assert.equal(waited.length, 1);
    assert.equal(shown.length, 1);
    assert.equal(shown[0].title, 'T');
    assert.equal(shown[0].options.data.url, `${ORIGIN}/mine`);
  });

  it('notificationclick: closes it and opens its page inside waitUntil', async () => {
    const { FrontlinePush, clients } = worker();
    const waited = [];
    let closed = false;
    FrontlinePush.onNotificationClick({
      notification: {
        data: { url: `${ORIGIN}/handovers/abc` },
        close() {
          closed = true;
        },
      },
      waitUntil: (promise) => waited.push(promise),
    });
    await Promise.all(waited);
    assert.equal(closed, true);
    assert.deepEqual(clients.log, [['open', `${ORIGIN}/handovers/abc`]]);
  });
});

describe('the opt-in page helpers', () => {
  const KEY =
    'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM';

  it('turns the base64url public key into the 65 bytes PushManager wants', () => {
    const bytes = optin.base64UrlToBytes(KEY);
    assert.equal(bytes.length, 65);
    assert.equal(bytes[0], 4);
    assert.deepEqual(optin.base64UrlToBytes('-_8'), new Uint8Array([251, 255]));
  });

  it('knows a subscription made under another key', () => {
    const bytes = optin.base64UrlToBytes(KEY);
    assert.equal(optin.sameKey(bytes.buffer, KEY), true);
    const padded = new Uint8Array(70);
    padded.set(bytes, 5);
    assert.equal(optin.sameKey(new Uint8Array(padded.buffer, 5, 65), KEY), true);
    const other = bytes.slice();
    other[10] ^= 1;
    assert.equal(optin.sameKey(other.buffer, KEY), false);
    assert.equal(optin.sameKey(null, KEY), true);
  });

  it('offers push where the Push API exists, and the Home Screen hint on an iPhone in Safari', () => {
    const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15';
    const ipad = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15';
    const matchMedia = (standalone) => () => ({ matches: standalone });
    assert.equal(
      optin.pushSupport({ PushManager: 1, Notification: 1, navigator: { serviceWorker: {} } }),
      'supported',
    );
    assert.equal(optin.pushSupport({ navigator: { userAgent: iphone } }), 'ios-home-screen');
    assert.equal(
      optin.pushSupport({ navigator: { userAgent: ipad, maxTouchPoints: 5 } }),
      'ios-home-screen',
    );
    assert.equal(
      optin.pushSupport({ navigator: { userAgent: iphone }, matchMedia: matchMedia(true) }),
      'unsupported',
    );
    assert.equal(optin.pushSupport({ navigator: { userAgent: ipad, maxTouchPoints: 0 } }), 'unsupported');
  });

  it("drops a subscription someone else turned on, and rechecks its own once a day", () => {
    const now = Date.UTC(2026, 10, 24);
    assert.equal(optin.decide(null, '3', now), 'drop');
    assert.equal(optin.decide({ user: '4', checkedAt: now }, '3', now), 'drop');
    assert.equal(optin.decide({ user: '3', checkedAt: now - 1000 }, '3', now), 'keep');
    assert.equal(optin.decide({ user: '3', checkedAt: now - 25 * 3600 * 1000 }, '3', now), 'recheck');
  });
});
