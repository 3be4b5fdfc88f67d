// Grouped writes to the outbox (issue 17): the writes of a burst go to IndexedDB together, stamped
// from a cached stamp state that each transaction checks before it commits. See OutboxWriter's rules.

import { putStamped, readStamp, stamp } from './outbox.js';

/** @typedef {import('./outbox.js').StampState} StampState */
/** @typedef {import('./replica.js').LocalChange} LocalChange */
/** @typedef {import('./replica.js').Mutation} Mutation */

/** @typedef {{resolve: (m: any) => void, reject: (e: any) => void}} Settle */
/** @typedef {{changes: LocalChange[], wallMs: number, metaEntries: Record<string, unknown>, mutations: Mutation[],
 *   done: Settle, told: Settle}} Write */
/** One transaction's writes; `ended`: null once committed, else why not. @typedef {{writes: Write[], ended: Promise<any>}} Group */

/** A group's transaction found the stamp state moved under it (another writer): it is written again. */
class Stale extends Error {}

/**
 * Grouped writes (issue 17): a write is stamped at once from a stamp state held in memory, and
 * goes into IndexedDB with no read before its puts. While one group's transaction is committing,
 * the writes made meanwhile wait in memory and go together in the next one (group commit): one
 * transaction per write while writes are rare, one per many when they come fast. The caller learns
 * the mutations at once (`stamped`) and that they are durable later (`committed`).
 *
 * Rule 1. The cached stamp state is checked inside the transaction, with no read before the puts:
 *         the transaction's first request reads meta `stamp`, which every writer of the clock or
 *         the mid counter or the device replaces (putStamped, putClock, setSession, a wipe). If it is not
 *         the token this writer left (or the stored offset moved by more than a second), the
 *         transaction is aborted before it commits, so a mid is never used twice and a stamp never
 *         goes below a clock the device has seen; its writes are stamped again from what is stored.
 * Rule 2. Order: one group commits at a time. When one fails, its writes, then the ones waiting
 *         behind it, then any made meanwhile are read-and-written in that order. A mutation's mid
 *         may change then: `committed` gives the mutations as stored.
 * Rule 3. A group that fails for another reason (storage full or broken) rejects its writes'
 *         `committed` with the error and their mutations (`error.mutations`): the caller shows them
 *         as failed; nothing typed vanishes. The draft clears of those writes are rolled back with them.
 * Rule 4. Only plain writes come here. Writes that read the outbox (a read cursor folding the one
 *         it replaces, a send that reads its request) keep their own transaction (writeToSend).
 */
export class OutboxWriter {
  #db;
  /** @type {StampState | null} the stamp state after the last write stamped; null: read it first */
  #state = null;
  /** @type {Group | null} the group whose transaction is committing */
  #inflight = null;
  /** @type {Write[]} stamped from the cache, waiting for the group in flight to commit */
  #next = [];
  /** @type {Write[]} waiting to be read-and-written (the cache is unknown or stale), in order */
  #waiting = [];
  #draining = false;
  /** Transactions begun and writes made (the benchmark prints writes per transaction). */
  stats = { groups: 0, writes: 0, rewrites: 0 };

  /** @param {any} db the idb database */
  constructor(db) {
    this.#db = db;
  }

  /** Writes not yet committed (a send that reads its request must wait for them, Rule 2). */
  get busy() {
    return Boolean(this.#inflight || this.#next.length || this.#waiting.length || this.#draining);
  }

  /**
   * A write went another way (the send worker, writeToSend, retry, restamp): the next one reads the
   * stamp state. Not needed for correctness (Rule 1 catches it), but a write stamped from the stale
   * cache would show, until it is stamped again, under a mid that write just took.
   */
  forget() {
    this.#state = null;
    if (this.#next.length) {
      this.#waiting.unshift(...this.#next);
      this.#next = [];
      this.#drain();
    }
  }

  /**
   * @param {LocalChange[]} changes
   * @param {number} wallMs
   * @param {Record<string, unknown>} [metaEntries]
   * @returns {{stamped: Promise<Mutation[]>, committed: Promise<Mutation[]>}}
   */
  write(changes, wallMs, metaEntries = {}) {
    /** @type {any} */
    const done = {};
    const committed = new Promise((resolve, reject) => Object.assign(done, { resolve, reject }));
    /** @type {any} */
    const told = {};
    const stamped = new Promise((resolve, reject) => Object.assign(told, { resolve, reject }));
    stamped.catch(() => {});
    /** @type {Write} */
    const write = { changes, wallMs, metaEntries, mutations: [], done, told };
    this.stats.writes += 1;
    // Fast only while nothing waits to be read-and-written: a later write never overtakes one.
    if (this.#state && !this.#waiting.length && !this.#draining) {
      write.mutations = stamp(this.#state, changes, wallMs);
      told.resolve(write.mutations);
      this.#next.push(write);
      if (!this.#inflight) this.#flush();
    } else {
      this.#waiting.push(write);
      this.#drain();
    }
    return { stamped, committed };
  }

  /** Put the stamped writes waiting in memory in one transaction (Rule 1: checked inside it). */
  #flush() {
    const state = /** @type {StampState} */ (this.#state);
    const writes = this.#next;
    this.#next = [];
    const expected = state.token;
    let failed = false;
    let tx;
    try {
      tx = this.#db.transaction(['outbox', 'meta'], 'readwrite');
      const meta = tx.objectStore('meta');
      // The first request, so its answer comes before the puts below are committed.
      const check = Promise.all([meta.get('stamp'), meta.get('offset')]).then(([token, stored]) => {
        if ((token ?? null) !== expected || Math.abs((stored ?? 0) - state.offset) > 1000) {
          failed = true;
          tx.abort();
        }
      });
      check.catch(() => {});
      putStamped(tx, state, writes);
    } catch (error) {
      // No transaction (the database is closing), or a value that cannot be stored.
      try {
        tx?.abort();
      } catch {
        // it never began
      }
      this.#state = null;
      this.#waiting.unshift(...writes);
      this.#drain();
      return;
    }
    this.stats.groups += 1;
    /** @type {Group} */
    const group = { writes, ended: Promise.resolve(null) };
    group.ended = tx.done.then(
      () => {
        this.#inflight = null;
        for (const write of writes) write.done.resolve(write.mutations);
        if (this.#next.length && this.#state) this.#flush();
        return null;
      },
      (/** @type {any} */ error) => {
        this.#inflight = null;
        this.#state = null;
        const why = failed ? new Stale() : (error ?? new Error('the write was aborted'));
        // Rule 2: this group's writes (unless they failed for good: Rule 3), then those behind it.
        if (why instanceof Stale) this.#waiting.unshift(...writes, ...this.#next);
        else {
          this.#fail(writes, why);
          this.#waiting.unshift(...this.#next);
        }
        this.#next = [];
        this.#drain();
        return why;
      },
    );
    this.#inflight = group;
  }

  /** Read-and-write every waiting write, in order, after the group in flight has ended. */
  async #drain() {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#inflight || this.#waiting.length) {
        if (this.#inflight) {
          await this.#inflight.ended; // its end moves its writes to `waiting` if it failed
          continue;
        }
        const writes = this.#waiting;
        this.#waiting = [];
        const state = await this.#rewrite(writes);
        if (!state) continue;
        // The cache is good again: the writes made meanwhile are stamped from it, and go the fast way.
        this.#state = state;
        for (const write of this.#waiting) {
          write.mutations = stamp(state, write.changes, write.wallMs);
          write.told.resolve(write.mutations);
        }
        this.#next.push(...this.#waiting);
        this.#waiting = [];
        if (this.#next.length) this.#flush();
        break;
      }
    } finally {
      this.#draining = false;
    }
    if (this.#waiting.length) this.#drain(); // a flush above that could not begin
  }

  /**
   * Read the stamp state and write `writes` in one transaction.
   * @param {Write[]} writes
   * @returns {Promise<StampState | null>} the state it left, or null if it failed
   */
  async #rewrite(writes) {
    this.stats.rewrites += 1;
    let tx = null;
    try {
      tx = this.#db.transaction(['outbox', 'meta'], 'readwrite');
      tx.done.catch(() => {}); // awaited below, unless it is aborted first
      const state = await readStamp(tx.objectStore('meta'));
      for (const write of writes) write.mutations = stamp(state, write.changes, write.wallMs);
      putStamped(tx, state, writes);
      for (const write of writes) write.told.resolve(write.mutations);
      await tx.done;
      for (const write of writes) write.done.resolve(write.mutations);
      return state;
    } catch (error) {
      try {
        tx?.abort(); // none of them, if one could not be put
      } catch {
        // already ended
      }
      this.#fail(writes, error);
      return null;
    }
  }

  /** Rule 3. @param {Write[]} writes @param {any} error */
  #fail(writes, error) {
    for (const write of writes) {
      const failure = Object.assign(error instanceof Error ? error : new Error(String(error)), { mutations: write.mutations });
      write.told.reject(failure); // (no-op once told)
      write.done.reject(failure);
    }
  }
}
