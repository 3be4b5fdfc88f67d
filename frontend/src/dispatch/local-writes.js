// What follows a local write once it is in IndexedDB (Actions' `afterWrite`, actions.js): the store
// shows it, the sync is told (this tab leads) or the leader tab is (another leads), the other tabs
// hear of it, and offline the service worker is asked for a background sync. A grouped write
// (Replica#enqueue) is shown when stamped and sent once committed; one that does not commit shows as
// failed. While a send's request is on its way from the leader tab, drawing waits (App#whenSent).
//
// The App owns the parts this uses and makes some of them later (the engine when this tab leads,
// the tab coordinator when the app starts), so they are read through getters.

import { Status } from '../sync/engine.js';
import * as tab from '../sync/tab-messages.js';

/** The longest a render waits for a send's request to leave (App#whenSent). */
const HOLD_MS = 50;
/** How long another tab may wait to hear of this tab's local writes (see #noteWrite). */
const NOTE_MS = 16;

export class LocalWrites {
  #store;
  #replica;
  #engine;
  #coordinator;
  #env;
  #storageError;
  #onStorageError;
  #refresh;

  /**
   * @param {object} o
   * @param {import('./store.js').Store} o.store
   * @param {() => (import('../replica/replica.js').Replica | null)} o.replica
   * @param {() => (import('../sync/engine.js').SyncEngine | null)} o.engine
   * @param {() => (import('../sync/coordinator.js').Coordinator | null)} o.coordinator
   * @param {{navigator?: any, registerBackgroundSync?: () => void}} o.env
   * @param {{value: string | null}} o.storageError the App's banner signal ('quota' clears on a write)
   * @param {(error: any) => void} o.onStorageError
   * @param {(what: {keys: string[]}) => Promise<void>} o.refresh re-read the replica into the store
   */
  constructor({ store, replica, engine, coordinator, env, storageError, onStorageError, refresh }) {
    this.#store = store;
    this.#replica = replica;
    this.#engine = engine;
    this.#coordinator = coordinator;
    this.#env = env;
    this.#storageError = storageError;
    this.#onStorageError = onStorageError;
    this.#refresh = refresh;
  }

  /**
   * A local write landed in IndexedDB: show it (the store takes the new mutations in O(1), no
   * re-read of the outbox), send it at once (or, for a read cursor, with the next sync), and tell
   * the other tabs.
   * @param {any[]} mutations
   * @param {import('./actions.js').AfterWrite} [what]
   */
  async after(mutations, { metaEntries = {}, superseded = [], lazy = false, reread = false, outgoing = null, sent = false, committed = null } = {}) {
    if (this.#storageError.value === 'quota') this.#storageError.value = null; // space again
    if (reread) await this.#refresh({ keys: [] });
    else this.#store.wrote(mutations, metaEntries, superseded);
    // A grouped write (Replica#enqueue) is shown now and sent once it is committed: the sync reads
    // the outbox, and a write is in the outbox before it is sent.
    if (committed) {
      committed.then(
        (stored) => {
          // Written again under new mids (another writer moved the stamp state): show those.
          if (stored !== mutations) this.#store.wrote(stored, {}, mutations.map((m) => m.mid));
          this.#sendWritten(stored, lazy, null, false);
          this.#noteWrite();
        },
        (error) => this.#writeFailed(mutations, error),
      );
    } else {
      this.#sendWritten(mutations, lazy, outgoing, sent);
      this.#noteWrite();
    }
    if (!mutations.length) return;
    const nav = this.#env.navigator;
    if (nav && (nav.onLine === false || this.#store.status.value === Status.OFFLINE)) {
      // Asking again within a second changes nothing (one registration per tag) but costs a
      // round trip to the service worker on every offline send.
      const now = Date.now();
      if (now - this.#askedBackgroundSync >= 1000) {
        this.#askedBackgroundSync = now;
        this.#env.registerBackgroundSync?.();
      }
    }
  }

  /** Tell the sync (this tab leads) or the leader (another tab) that mutations are in the outbox. */
  #sendWritten(mutations, lazy, outgoing, sent) {
    if (!mutations.length) return;
    const coordinator = this.#coordinator();
    if (coordinator?.leader) {
      if (lazy) this.#engine()?.later();
      else if (!sent) this.#engine()?.trigger(outgoing); // a sent one started the engine already
    } else coordinator?.post(tab.wrote(lazy));
  }

  /**
   * A grouped write did not commit (storage full or broken): its messages leave the pending list
   * and show as failed, with the reason, so they can be sent again; nothing typed vanishes. They
   * are kept in `failed` (under mids of their own: theirs were never committed, so the counter
   * reuses them); if even that cannot be written, the store keeps them for this session.
   * @param {any[]} mutations
   * @param {any} error
   */
  async #writeFailed(mutations, error) {
    this.#onStorageError(error);
    const entries = mutations.map((m) => ({ ...m, mid: unsavedMid(), code: 'storage', reason: String(error?.message ?? error), failedAt: Date.now() }));
    this.#store.removePending(mutations.map((m) => m.mid));
    this.#store.keepFailed(entries);
    try {
      await this.#replica()?.keepFailed(entries);
    } catch {
      // Still full: they stay in memory (store.keepFailed), shown as failed until a reload.
    }
  }

  #askedBackgroundSync = -Infinity;
  #noteTimer = null;

  /**
   * Tell the other tabs that this one wrote, at most once per NOTE_MS: each note makes them read
   * the outbox again, so a burst of writes (a device queueing offline) must not cost one each.
   */
  #noteWrite() {
    if (this.#noteTimer !== null || !this.#coordinator()) return;
    this.#noteTimer = setTimeout(() => {
      this.#noteTimer = null;
      this.#coordinator()?.post(tab.changed([]));
    }, NOTE_MS);
  }

  /** @type {{promise: Promise<void>, release: () => void} | null} */
  #sending = null;

  /**
   * A message is being sent from this tab, which leads: drawing waits until its request has left
   * (at most HOLD_MS), so the IndexedDB work and the request never queue behind a render.
   */
  holdDrawing() {
    if (this.#sending || !this.#coordinator()?.leader || this.#store.status.peek() === Status.OFFLINE) return;
    let release = () => {};
    /** @type {Promise<void>} */
    const promise = new Promise((resolve) => {
      release = () => resolve();
    });
    const timer = setTimeout(() => this.releaseDrawing(), HOLD_MS);
    this.#sending = {
      promise,
      release: () => {
        clearTimeout(timer);
        release();
      },
    };
  }

  /** The send's request is on its way (or HOLD_MS passed): drawing may go on. */
  releaseDrawing() {
    const sending = this.#sending;
    this.#sending = null;
    sending?.release();
  }

  /** Resolves when the send in progress has left (null when none is). */
  whenSent() {
    return this.#sending?.promise ?? null;
  }
}

let unsaved = 0;
/** A mid for a failed write that was never committed: negative, so no mutation ever has it. */
function unsavedMid() {
  unsaved += 1;
  return -(Date.now() * 1000 + (unsaved % 1000));
}
