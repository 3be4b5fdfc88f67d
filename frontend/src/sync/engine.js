// The sync engine: when to sync, and what the page hears about it. Runs in the leader tab only
// (coordinator.js), or for one flush in the service worker when no page is open (sw/sw.js). It syncs on
// start, at once after every local write, when the browser comes back online, when the page becomes
// visible, when the live channel says so, and after a failure with exponential backoff and jitter.
//
// No fixed wait before a send leaves the device: a trigger with no request in flight starts one now.
// Coalescing happens only while a request is in flight: triggers meanwhile set one flag, and the
// next request takes everything queued by then. Read cursors and receipts are `later()` writes:
// they never start a sync while one is pending; they ride with the next one, or go after LAZY_MS.

import { backoffDelay } from '../lib/backoff.js';
import { syncUntilDone } from './round.js';
import { LiveSocket, liveUrl } from './live.js';

/** How long a read cursor may wait for a sync to ride with before it gets one of its own. */
export const LAZY_MS = 2000;

/** Connection states the UI shows. */
export const Status = Object.freeze({ ONLINE: 'Online', OFFLINE: 'Offline', SYNCING: 'Syncing' });

/** @typedef {Awaited<ReturnType<typeof syncUntilDone>>} SyncResult */
/**
 * @typedef {object} EngineEvents
 * @property {(status: string, detail?: unknown) => void} [onStatus]
 * @property {(result: import('./round.js').SyncResult) => void} [onApplied]
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
  #retired = false; // stopped after a start: tells the app nothing more (see #tell)
  #live = null;
  #status = Status.SYNCING;
  #lastError = null;
  #retryDelay;
  #lazyMs;
  /** A lazy write waits for a sync: its timer, and whether one came in during a request. */
  #lazyTimer = null;
  #lazyAgain = false;
  /** The browser's `offline` event came, and no `online` since. */
  #browserOffline = false;

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
   * @param {number} [o.lazyMs] how long a `later()` write may wait for a ride
   */
  constructor({
    replica,
    transport,
    events = {},
    now = Date.now,
    live = true,
    location = globalThis.location,
    retryDelay = (attempt) => backoffDelay(attempt),
    lazyMs = LAZY_MS,
  }) {
    this.#retryDelay = retryDelay;
    this.#lazyMs = lazyMs;
    this.#replica = replica;
    this.#transport = transport;
    this.#events = events;
    this.#now = now;
    if (live && location && globalThis.WebSocket) {
      this.#live = new LiveSocket({
        url: liveUrl(location),
        onFrame: (frame) => this.#onFrame(frame),
        onState: (state, code) => {
          if (state === 'closed' && code === 4401) this.#tell('onSignedOut');
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
    this.#retired = false;
    this.#live?.start();
    this.trigger();
  }

  stop() {
    this.#stopped = true;
    this.#retired = true;
    this.#clearTimers();
    this.#live?.stop();
  }

  #clearTimers() {
    clearTimeout(this.#timer);
    clearTimeout(this.#lazyTimer);
    this.#timer = null;
    this.#lazyTimer = null;
  }

  /**
   * Nothing in flight, nothing scheduled, not offline: a `trigger()` now sends at once (so the
   * writer may read the request with its write, see Replica#writeToSend).
   */
  get idle() {
    return !this.#stopped && !this.#running && !this.#browserOffline && this.#timer === null;
  }

  /**
   * Sync now. While a request is in flight, calls collapse into one more request after it.
   * `first`: the request's outbox and cursors, already read with the write that triggers it, or
   * (a promise of) the request the send worker has already made (sync/sender.js). Call this
   * synchronously when such a send starts, so that nothing else starts a request meanwhile.
   * @param {import('./round.js').First | Promise<import('./round.js').First> | null} [first]
   */
  trigger(first = null) {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    // The browser says there is no network: a write waits for `online()` (or the retry timer,
    // which keeps probing), instead of a doomed request per write.
    if (this.#browserOffline && this.#timer !== null) return;
    this.#clearTimers();
    void this.#run(first);
  }

  /**
   * A write that need not leave at once (read cursors, receipts): it rides with the next sync,
   * and only if none comes within LAZY_MS does it get one of its own. Never a request while one
   * is in flight, nor while a retry is scheduled (the retry takes it).
   */
  later() {
    if (this.#stopped) return;
    if (this.#running) {
      this.#lazyAgain = true;
      return;
    }
    if (this.#timer !== null || this.#lazyTimer !== null) return;
    this.#lazyTimer = setTimeout(() => {
      this.#lazyTimer = null;
      void this.#run();
    }, this.#lazyMs);
  }

  /** The browser says the network is back: retry now, reconnect the live channel. */
  online() {
    this.#browserOffline = false;
    this.#attempt = 0;
    this.#live?.kick();
    this.trigger();
  }

  offline() {
    this.#browserOffline = true;
    this.#setStatus(Status.OFFLINE);
  }

  /** Send an ephemeral frame (typing) on the live channel, if it is open. */
  sendLive(frame) {
    return this.#live?.send(frame) ?? false;
  }

  /** Run one sync now and resolve when it ends (used by tests and Background Sync). */
  async syncNow() {
    this.#clearTimers();
    await this.#run();
  }

  #setStatus(status, detail) {
    this.#status = status;
    this.#tell('onStatus', status, detail);
  }

  /**
   * Tell the app one event, unless this engine was stopped: a request, an apply or a live frame
   * still in flight then ends unheard. The app makes a new engine for the next session (signed in
   * again, maybe as someone else), and a stopped one's news would land in that session's store.
   * (An engine never started, as the service worker's `flush()` uses it, is not stopped.)
   * @param {keyof EngineEvents} name
   * @param {...any} args
   */
  #tell(name, ...args) {
    if (this.#retired) return;
    /** @type {any} */ (this.#events)[name]?.(...args);
  }

  /** @param {import('./round.js').First | Promise<import('./round.js').First> | null} [first] */
  async #run(first = null) {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    this.#again = false;
    this.#lazyAgain = false;
    clearTimeout(this.#lazyTimer); // this request takes every lazy write made so far
    this.#lazyTimer = null;
    let failed = false;
    try {
      await this.#round(first);
    } catch (error) {
      failed = true;
      this.#fail(error);
    } finally {
      this.#running = false;
    }
    if (this.#stopped || failed) return; // a failure's retry takes whatever is queued
    if (this.#again) this.trigger();
    else if (this.#lazyAgain && (await this.#replica.pendingCount()) > 0) this.later();
  }

  /** A backlog's requests each leave when the reply before arrives (round.js `follow`); false: the
   * earlier way, one ahead of the apply (for an A/B run of the benchmark). */
  pipelined = true;

  /** Tell the events of a backlog's replies one by one (false: once, at the end; an A/B of the benchmark). */
  perRound = true;

  /** One sync (push the outbox, pull until done), told to the events; throws what failed. */
  /** @param {import('./round.js').First | Promise<import('./round.js').First> | null} [first] */
  async #round(first = null) {
    this.#setStatus(Status.SYNCING);
    // A backlog's replies reach the store one by one, while the next batch is at the server.
    const onRound = this.perRound ? (/** @type {import('./round.js').SyncResult} */ part) => this.#tell('onApplied', part) : null;
    const result = await syncUntilDone(this.#replica, this.#transport, { now: this.#now, first, pipelined: this.pipelined, onRound, stopped: () => this.#retired });
    this.#attempt = 0;
    this.#lastError = null;
    this.#tell('onApplied', result);
    // A round that was in flight when the network went away still ends well (its reply had
    // arrived): it must not paint Online over the browser's Offline.
    this.#setStatus(this.#browserOffline ? Status.OFFLINE : Status.ONLINE);
    return result;
  }

  /**
   * One sync outside the engine's schedule, for the service worker's Background Sync when no
   * page is open: no live channel, no retry timer. It rejects on failure, so the browser fires
   * the sync event again later.
   * @returns {Promise<import('./round.js').SyncResult>}
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
      this.#tell('onStorageError', error);
      this.#setStatus(Status.OFFLINE, error);
      return;
    }
    if (error?.status === 401) {
      this.#setStatus(Status.OFFLINE, error);
      this.#tell('onSignedOut');
      return;
    }
    if (error?.status === 426) {
      this.#setStatus(Status.OFFLINE, error);
      this.#tell('onUpdateRequired');
      this.stop();
      return;
    }
    this.#setStatus(Status.OFFLINE, error);
    const delay = this.#retryDelay(this.#attempt++);
    this.#clearTimers();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#run();
    }, delay);
  }

  async #onFrame(frame) {
    switch (frame.t) {
      case 'hello':
        this.#tell('onEphemeral', frame);
        this.trigger();
        break;
      case 'changes': {
        if (this.#retired) break; // a frame heard as the socket closed: see round.js `stopped`
        try {
          const result = await this.#replica.applyLive(frame, this.#now());
          if (!result.applied) {
            this.trigger();
            break;
          }
          this.#tell('onApplied', {
            keys: new Set(result.keys),
            records: new Map(result.records),
            dropped: [],
            outbox: false,
            rounds: 0,
            acked: [],
            rejected: [],
            live: true,
          });
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
        this.#tell('onEphemeral', frame);
        break;
      default:
        break; // pong and frames from newer servers
    }
  }
}
