// The page's side of Web Push: turn notifications on (only ever from a click), renew a
// subscription the browser rotated or dropped, keep the app icon's badge, and close
// notifications of conversations read on another device.
//
// Rule 1. The permission prompt is asked from a click (enable()), never on load. renew() runs on
//         load, only on a device where the person turned notifications on (a flag in
//         localStorage, cleared when they turn this device off) and permission is still granted:
//         it never asks.
// Rule 2. subscribe() may hang (no push service reachable): after SUBSCRIBE_TIMEOUT_MS the state is
//         'failed' with a plain reason, and everything else goes on working.
// Rule 3. The server keeps one subscription per device: sending the current one again is how a
//         rotated or silently dropped subscription is renewed.

import { signal } from '@preact/signals';

export const SUBSCRIBE_TIMEOUT_MS = 10_000;
const WANTED = 'teamtalk.push';

/** @param {string} text base64url */
export function keyBytes(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function timeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { timeout: true })), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    );
  });
}

export class PushClient {
  /** 'unsupported' | 'denied' | 'off' | 'working' | 'on' | 'failed' */
  state = signal('off');
  /** Why it failed: 'timeout' | 'denied' | 'server' | 'unsupported' | null (locale keys push.why.*). */
  reason = signal(null);
  #actions;
  #container;
  #notification;
  #lang;
  #timeoutMs;
  #storage;

  /**
   * @param {object} o
   * @param {() => any} o.actions the app's actions (they hold the transport)
   * @param {any} [o.container] navigator.serviceWorker
   * @param {any} [o.notification] the Notification constructor
   * @param {string} [o.lang]
   * @param {number} [o.timeoutMs]
   * @param {{getItem(k: string): string|null, setItem(k: string, v: string): void, removeItem(k: string): void}} [o.storage]
   */
  constructor({ actions, container = globalThis.navigator?.serviceWorker, notification = globalThis.Notification,
    lang = 'en', timeoutMs = SUBSCRIBE_TIMEOUT_MS, storage = globalThis.localStorage }) {
    this.#storage = storage;
    this.#actions = actions;
    this.#container = container;
    this.#notification = notification;
    this.#lang = lang;
    this.#timeoutMs = timeoutMs;
    if (!container || !notification || typeof globalThis.PushManager === 'undefined') this.state.value = 'unsupported';
    else if (notification.permission === 'denied') this.state.value = 'denied';
  }

  async #registration() {
    return timeout(this.#container.ready, this.#timeoutMs);
  }

  /** On a click: ask for permission, subscribe and tell the server (Rules 1 and 2). */
  async enable() {
    if (this.state.value === 'unsupported') return this.#fail('unsupported');
    this.state.value = 'working';
    this.reason.value = null;
    try {
      const permission = await this.#notification.requestPermission();
      if (permission !== 'granted') {
        this.state.value = 'denied';
        this.reason.value = 'denied';
        return;
      }
      await this.#subscribe();
      this.#storage?.setItem(WANTED, 'on');
      this.state.value = 'on';
    } catch (error) {
      this.#fail(error?.timeout ? 'timeout' : error?.status !== undefined ? 'server' : 'unsupported');
    }
  }

  /** The person turned this device's notifications off: forget the wish and the subscription. */
  async forget() {
    this.#storage?.removeItem(WANTED);
    this.state.value = 'off';
    try {
      const registration = await this.#registration();
      await (await registration.pushManager.getSubscription())?.unsubscribe();
    } catch {
      // Nothing to unsubscribe.
    }
  }

  /** On load: renew without asking when permission is already granted (Rules 1 and 3). */
  async renew() {
    if (this.state.value === 'unsupported' || this.#notification.permission !== 'granted') return;
    if (this.#storage?.getItem(WANTED) !== 'on') return;
    try {
      await this.#subscribe();
      this.state.value = 'on';
    } catch (error) {
      this.#fail(error?.timeout ? 'timeout' : 'server');
    }
  }

  async #subscribe() {
    const registration = await this.#registration();
    const actions = this.#actions();
    let subscription = await registration.pushManager.getSubscription();
    if (!subscription) {
      const { key } = await actions.pushKey();
      subscription = await timeout(
        registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }),
        this.#timeoutMs,
      );
    }
    const json = subscription.toJSON();
    await actions.subscribePush({ endpoint: json.endpoint, keys: json.keys, lang: this.#lang });
  }

  #fail(reason) {
    this.state.value = 'failed';
    this.reason.value = reason;
  }

  /**
   * Close notifications whose conversation has nothing unread any more (read on another device).
   * @param {(channel: string) => number} unreadOf
   * @param {(message: string) => boolean} holds whether the replica has a message
   */
  async closeRead(unreadOf, holds) {
    try {
      await closeRead(await this.#registration(), unreadOf, holds);
    } catch {
      // No worker yet, or notifications unsupported: nothing to close.
    }
  }
}

/**
 * Close the notifications whose conversation has nothing unread (read on another device), by the
 * sidebar's rule (`unreadOf`); thread notifications (tag `t:...`) stay, and so does `keep`. The
 * page calls it when its counts change; the service worker after a push or a sync (sw/reads.js).
 *
 * A conversation's notification stays while the replica lacks the message it announced
 * (`holds`): nothing unread then means "not heard of yet", not "read". A page opened as a push
 * landed ran this from its first, stale counts and closed the notification before its first
 * sync brought the message in (tests/browser/test_push.py, seen once in CI).
 * @param {ServiceWorkerRegistration} registration
 * @param {(channel: string) => number} unreadOf
 * @param {(message: string) => boolean} holds whether the replica has a message
 * @param {string | null} [keep]
 */
export async function closeRead(registration, unreadOf, holds, keep = null) {
  for (const note of await registration.getNotifications()) {
    const channel = note.data?.channel;
    const tag = String(note.tag);
    if (!channel || note.tag === keep || tag.startsWith('t:')) continue;
    if (tag.startsWith('c:') && note.data?.id && !holds(note.data.id)) continue;
    if (unreadOf(channel) === 0) note.close();
  }
}

/** The installed app's icon shows the unread count (Badging API), where supported. */
export function setBadge(count, nav = globalThis.navigator) {
  if (!nav?.setAppBadge) return;
  (count > 0 ? nav.setAppBadge(count) : nav.clearAppBadge()).catch(() => {});
}
