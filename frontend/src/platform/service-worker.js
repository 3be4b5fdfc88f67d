// The page's side of the service worker: register it, notice a new version waiting, and
// swap to it only when the user says so (SKIP_WAITING -> controllerchange -> reload).
// Also: ask for Background Sync when a write happens offline, and hear the worker's
// "flush the outbox" message.

import { signal } from '@preact/signals';
import { skipWaiting } from '../sync/tab-messages.js';

const UPDATE_CHECK_MS = 30 * 60_000;

export class ServiceWorkerClient {
  /** The new worker waiting to take over, or null. */
  waiting = signal(null);
  #container;
  #registration = null;
  #userAsked = false;
  #onFlush;
  #onUpload;

  constructor({ container = globalThis.navigator?.serviceWorker, onFlush = () => {}, onUpload = () => {} } = {}) {
    this.#container = container;
    this.#onFlush = onFlush;
    this.#onUpload = onUpload;
  }

  async register() {
    const container = this.#container;
    if (!container) return;
    container.addEventListener('controllerchange', () => {
      if (this.#userAsked) location.reload();
    });
    container.addEventListener('message', (event) => {
      if (event.data?.type === 'FLUSH') this.#onFlush(); // tab-messages.js: Flush
      if (event.data?.type === 'UPLOAD') this.#onUpload(); // tab-messages.js: Upload
      // A notification was clicked (sw/push.js, Rule 2): go to its message.
      if (event.data?.type === 'OPEN') location.hash = new URL(event.data.url).hash;
    });
    try {
      const registration = await container.register('/sw.js', { scope: '/' });
      this.#registration = registration;
      this.#watch(registration);
      setInterval(() => registration.update().catch(() => {}), UPDATE_CHECK_MS);
    } catch (error) {
      console.warn('service worker', error);
    }
  }

  #watch(registration) {
    if (registration.waiting && this.#container.controller) this.waiting.value = registration.waiting;
    registration.addEventListener('updatefound', () => {
      const worker = registration.installing;
      worker?.addEventListener('statechange', () => {
        // A first install has no controller yet: nothing to swap, no banner.
        if (worker.state === 'installed' && this.#container.controller) this.waiting.value = worker;
      });
    });
  }

  /** The user chose to reload into the new version. */
  activate() {
    const worker = this.waiting.value;
    if (!worker) return location.reload();
    this.#userAsked = true;
    worker.postMessage(skipWaiting());
  }

  /** Ask the browser to wake us when the network is back: to push the outbox, or (tag
   * `uploads`, files/queue.js) to run the upload queue. */
  async registerBackgroundSync(tag = 'outbox') {
    try {
      const registration = this.#registration ?? (await this.#container?.ready);
      await registration?.sync?.register(tag);
    } catch {
      // Not supported or not permitted: the online event and the next visit still sync.
    }
  }
}
