// The page's side of Web Push (src/platform/push.js) and the worker's handlers (sw/push.js),
// with the browser's objects replaced by small stand-ins that behave like them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PushClient, keyBytes, setBadge } from '../src/platform/push.js';
import { showPush, openAt, payloadOf, resubscribe } from '../sw/push.js';

globalThis.PushManager ??= class {};

function memory() {
  const items = new Map();
  return { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => items.set(k, v), removeItem: (k) => items.delete(k) };
}

function world({ permission = 'default', answer = 'granted', subscribe } = {}) {
  const posted = [];
  const notes = [];
  const json = { endpoint: 'https://fcm.googleapis.com/fcm/send/x', keys: { p256dh: 'p', auth: 'a' } };
  let current = null;
  const registration = {
    pushManager: {
      getSubscription: async () => current,
      subscribe: subscribe ?? (async () => (current = { toJSON: () => json, unsubscribe: async () => (current = null) })),
    },
    getNotifications: async () => notes,
  };
  const notification = { permission, requestPermission: async () => (notification.permission = answer) };
  const actions = { pushKey: async () => ({ key: 'BAAA' }), subscribePush: async (s) => posted.push(s) };
  return { registration, notification, actions, posted, notes, drop: () => (current = null) };
}

function client(w, storage = memory(), timeoutMs = 50) {
  return new PushClient({ actions: () => w.actions, container: { ready: Promise.resolve(w.registration) },
    notification: w.notification, lang: 'zh-CN', timeoutMs, storage });
}

test('keys are decoded from base64url', () => {
  assert.deepEqual([...keyBytes('-_8')], [251, 255]);
});

test('enable asks, subscribes and registers; renew never asks and only where it was turned on', async () => {
  const w = world();
  const storage = memory();
  const fresh = client(w, storage);
  await fresh.renew(); // not granted yet, never turned on: nothing
  assert.equal(w.posted.length, 0);
  await fresh.enable();
  assert.equal(fresh.state.value, 'on');
  assert.deepEqual(w.posted, [{ endpoint: 'https://fcm.googleapis.com/fcm/send/x', keys: { p256dh: 'p', auth: 'a' }, lang: 'zh-CN' }]);
  w.drop(); // the browser dropped the subscription (as iOS does): the next open renews it
  w.notification.requestPermission = async () => assert.fail('renew must not ask');
  await client(w, storage).renew();
  assert.equal(w.posted.length, 2);
  await client(w, storage).forget();
  await client(w, storage).renew();
  assert.equal(w.posted.length, 2); // turned off here: stays off
});

test('a subscribe() that never answers fails plainly after the timeout; denial is said too', async () => {
  const hanging = world({ subscribe: () => new Promise(() => {}) });
  const push = client(hanging);
  await push.enable();
  assert.equal(push.state.value, 'failed');
  assert.equal(push.reason.value, 'timeout');
  const refused = client(world({ answer: 'denied' }));
  await refused.enable();
  assert.equal(refused.state.value, 'denied');
});

test('notifications of conversations read elsewhere are closed; the badge is set or cleared', async () => {
  const w = world();
  const closed = [];
  w.notes.push({ tag: 'c:a', data: { channel: 'a', id: 'm1' }, close: () => closed.push('a') },
    { tag: 'c:b', data: { channel: 'b', id: 'm2' }, close: () => closed.push('b') });
  const held = new Set(['m2']);
  const holds = (message) => held.has(message);
  await client(w).closeRead((channel) => (channel === 'a' ? 0 : 2), holds);
  assert.deepEqual(closed, [], "a's message is not in the replica yet: nothing unread is not read");
  held.add('m1');
  await client(w).closeRead((channel) => (channel === 'a' ? 0 : 2), holds);
  assert.deepEqual(closed, ['a']);
  const calls = [];
  const nav = { setAppBadge: async (n) => calls.push(n), clearAppBadge: async () => calls.push(0) };
  setBadge(3, nav);
  setBadge(0, nav);
  assert.deepEqual(calls, [3, 0]);
});

test('the worker shows one notification per conversation tag and opens the message on a click', async () => {
  const shown = [];
  await showPush({ showNotification: async (title, options) => shown.push({ title, ...options }) },
    { title: '2 new messages in #site-a', body: 'Ada: hi', tag: 'c:x', url: '/#/c/x/n/2', id: 'm', channel: 'x', count: 2 });
  assert.equal(shown[0].tag, 'c:x');
  assert.equal(shown[0].renotify, false);
  assert.deepEqual(shown[0].data, { url: '/#/c/x/n/2', id: 'm', channel: 'x', count: 2 });
  assert.deepEqual(payloadOf({ data: { json: () => { throw new Error('not json'); }, text: () => 'plain' } }), { body: 'plain' });

  const messages = [];
  const page = { url: 'https://tt.example/#/', focus: async () => {}, postMessage: (m) => messages.push(m) };
  await openAt({ matchAll: async () => [page], openWindow: async () => assert.fail('a page is open') },
    'https://tt.example', '/#/c/x/n/2');
  assert.deepEqual(messages, [{ type: 'OPEN', url: 'https://tt.example/#/c/x/n/2' }]);
  const opened = [];
  await openAt({ matchAll: async () => [], openWindow: async (url) => opened.push(url) }, 'https://tt.example', '/#/c/x');
  assert.deepEqual(opened, ['https://tt.example/#/c/x']);
});

test('a rotated subscription is registered again with the old options, without asking', async () => {
  const requests = [];
  const saved = globalThis.fetch;
  globalThis.fetch = async (url, init) => requests.push({ url, ...init });
  try {
    const options = { userVisibleOnly: true, applicationServerKey: 'k' };
    const json = { endpoint: 'https://fcm.googleapis.com/fcm/send/new', keys: { p256dh: 'p', auth: 'a' } };
    const used = [];
    const registration = { pushManager: { subscribe: async (o) => (used.push(o), { toJSON: () => json }) } };
    await resubscribe(registration, { oldSubscription: { options } }, async () => 'tok');
    assert.deepEqual(used, [options]);
    assert.equal(requests[0].url, '/api/push/subscriptions');
    assert.equal(requests[0].headers['x-csrftoken'], 'tok');
    assert.deepEqual(JSON.parse(requests[0].body), json);
  } finally {
    globalThis.fetch = saved;
  }
});
