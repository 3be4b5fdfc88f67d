// The sync engine: when to sync, and what the page hears about it. Runs in the leader tab only
// (coordinator.js), or for one flush in the service worker when no page is open (sw/sw.js). It syncs on start, after every local write (debounced), when the browser
// comes back online, when the page becomes visible, when the live channel says so, and after
// a failure with exponential backoff and jitter.

import { backoffDelay } from '../lib/backoff.js';
import { syncUntilDone } from './round.js';
import { LiveSocket, liveUrl } from './live.js';

export const DEBOUNCE_MS = 50;

/** Connection states the UI shows. */
export const Status = Object.freeze({ ONLINE: 'Online', OFFLINE: 'Offline', SYNCING: 'Syncing' });

/** @typedef {Awaited<ReturnType<typeof syncUntilDone>>} SyncResult */
/**
 * @typedef {object} EngineEvents
 * @property {(status: string, detail?: unknown) => void} [onStatus]
 * @property {(result: {keys: Set<string>, dropped: string[], outbox: boolean}) => void} [onApplied]
 * @property {() => void} [onSignedOut]
 * @property {() => void} [onUpdateRequired]
 * @property {(error: Error) => void} [onStorageError]
 * @property {(frame: {t: string, [key: string]: any}) => void} [onEphemeral]
 */

export class SyncEngine {
  #replica;
  #transport;
  #events;
  #now;
  #timer = null;
  #running = false;
  #again = false;
  #attempt = 0;
  #stopped = true;
  #live = null;
  #status = Status.SYNCING;
  /** The browser said the network is gone (`offline` event) and has not said it is back. */
  #networkDown = false;
  #lastError = null;
  #retryDelay;
  #debounceMs;

  /**
   * events: onStatus(status, detail), onApplied({keys, dropped, outbox}), onSignedOut(),
   * onUpdateRequired(), onStorageError(error), onEphemeral(frame) for typing/presence.
   * @param {object} o
   * @param {import('../replica/replica.js').Replica} o.replica
   * @param {{sync: (body: object) => Promise<any>}} o.transport
   * @param {EngineEvents} [o.events]
   * @param {() => number} [o.now]
   * @param {boolean} [o.live] open the live channel (off in the service worker and in tests)
   * @param {{protocol: string, host: string} | null} [o.location] where the live channel is
   * @param {(attempt: number) => number} [o.retryDelay]
   * @param {number} [o.debounceMs]
   */
  constructor({
    replica,
    transport,
    events = {},
    now = Date.now,
    live = true,
    location = globalThis.location,
    retryDelay = (attempt) => backoffDelay(attempt),
    debounceMs = DEBOUNCE_MS,
  }) {
    this.#retryDelay = retryDelay;
    this.#debounceMs = debounceMs;
    this.#replica = replica;
    this.#transport = transport;
    this.#events = events;
    this.#now = now;
    if (live && location && globalThis.WebSocket) {
      this.#live = new LiveSocket({
        url: liveUrl(location),
        onFrame: (frame) => this.#onFrame(frame),
        onState: (state, code) => {
          if (state === 'closed' && code === 4401) this.#events.onSignedOut?.();
        },
      });
    }
  }

  get status() {
    return this.#status;
  }

  get lastError() {
    return this.#lastError;
  }

  start() {
    this.#stopped = false;
    this.#live?.start();
    this.trigger(0);
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#live?.stop();
  }

  /** Ask for a sync soon; calls within the debounce window collapse into one. */
  trigger(delay = this.#debounceMs) {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#run(), delay);
  }

  /** The browser says the network is back: retry now, reconnect the live channel. */
  online() {
    this.#networkDown = false;
    this.#attempt = 0;
    this.#live?.kick();
    this.trigger(0);
  }

  offline() {
    this.#networkDown = true;
    this.#setStatus(Status.OFFLINE);
  }

  /** Send an ephemeral frame (typing) on the live channel, if it is open. */
  sendLive(frame) {
    return this.#live?.send(frame) ?? false;
  }

  /** Run one sync now and resolve when it ends (used by tests and Background Sync). */
  async syncNow() {
    clearTimeout(this.#timer);
    await this.#run();
  }

  #setStatus(status, detail) {
    this.#status = status;
    this.#events.onStatus?.(status, detail);
  }

  async #run() {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    this.#again = false;
    try {
      await this.#round();
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#running = false;
    }
    if (this.#again && !this.#stopped) this.trigger(0);
  }

  /** One sync (push the outbox, pull until done), told to the events; throws what failed. */
  async #round() {
    this.#setStatus(Status.SYNCING);
    const result = await syncUntilDone(this.#replica, this.#transport, { now: this.#now });
    this.#attempt = 0;
    this.#lastError = null;
    this.#events.onApplied?.(result);
    // A round that was in flight when the network went away still ends well (its reply had
    // arrived): it must not paint Online over the browser's Offline.
    this.#setStatus(this.#networkDown ? Status.OFFLINE : Status.ONLINE);
    return result;
  }

  /**
   * One sync outside the engine's schedule, for the service worker's Background Sync when no
   * page is open: no live channel, no retry timer. It rejects on failure, so the browser fires
   * the sync event again later.
   * @returns {Promise<{keys: Set<string>, dropped: string[], outbox: boolean, rounds: number}>}
   */
  async flush() {
    this.#running = true;
    try {
      return await this.#round();
    } catch (error) {
      this.#lastError = error;
      this.#setStatus(Status.OFFLINE, error);
      throw error;
    } finally {
      this.#running = false;
    }
  }

  #fail(error) {
    this.#lastError = error;
    if (error?.name === 'StorageError') {
      this.#events.onStorageError?.(error);
      this.#setStatus(Status.OFFLINE, error);
      return;
    }
    if (error?.status === 401) {
      this.#setStatus(Status.OFFLINE, error);
      this.#events.onSignedOut?.();
      return;
    }
    if (error?.status === 426) {
      this.#setStatus(Status.OFFLINE, error);
      this.#events.onUpdateRequired?.();
      this.stop();
      return;
    }
    this.#setStatus(Status.OFFLINE, error);
    const delay = this.#retryDelay(this.#attempt++);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#run(), delay);
  }

  async #onFrame(frame) {
    switch (frame.t) {
      case 'hello':
        this.#events.onEphemeral?.(frame);
        this.trigger(0);
        break;
      case 'changes': {
        try {
          const result = await this.#replica.applyLive(frame, this.#now());
          if (!result.applied) {
            this.trigger(0);
            break;
          }
          this.#events.onApplied?.({ keys: new Set(result.keys), dropped: [], outbox: false });
          // A membership or channel change may open a scope we have not pulled yet.
          if (frame.changes.some((c) => c.collection === 'members' || c.collection === 'channels')) {
            this.trigger();
          }
        } catch (error) {
          this.#fail(error);
        }
        break;
      }
      case 'typing':
      case 'presence':
        this.#events.onEphemeral?.(frame);
        break;
      default:
        break; // pong and frames from newer servers
    }
  }
}
