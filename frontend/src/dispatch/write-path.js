// How a view's write reaches the outbox (Actions, actions.js, decides what to write; this decides
// how). Three ways, chosen per write:
// - grouped (Replica#enqueue, replica/outbox-writer.js): a write that need not leave at once
//   (offline, a sync in flight, another tab leads) shares a transaction with the writes of the same
//   task; the sync is told when it commits;
// - at once through the send worker (sync/sender.js), which writes it and sends the request that
//   carries it, the engine taking that request as its first round;
// - alone, in a transaction of its own (Replica#write, Replica#writeToSend): a send that leaves at once
//   without a worker, and a read cursor that replaces (supersedes) a pending one.
// Either way the store shows the write as pending as soon as it is stamped (`afterWrite`,
// local-writes.js).

import { MAX_PUSH, LIMIT, RECENT } from '../sync/round.js';

/**
 * What a write changed besides its mutations: meta entries it set, pending mids it replaced,
 * whether it may wait for the next sync, and whether `failed` changed (re-read it).
 * `outgoing`: the request that sends it, read with the write (Replica#writeToSend), or null.
 * `sent`: the send worker has already sent it (and the engine was told when it started).
 * `committed`: a grouped write's commit (Replica#enqueue): the sync is told once it resolves (with the
 *   mutations as stored), and the mutations show as failed if it rejects.
 * @typedef {{metaEntries?: Record<string, unknown>, superseded?: number[], lazy?: boolean, reread?: boolean,
 *   outgoing?: {pending: any[], cursors: Record<string, number>} | null, sent?: boolean,
 *   committed?: Promise<any[]> | null}} AfterWrite
 */

export class WritePath {
  #beforeSend;
  #replica;
  #afterWrite;
  #now;
  #onStorageError;
  #writing;
  #sendNow;
  #sender;
  #started;

  /**
   * The options are Actions' (actions.js), which passes them through.
   * @param {object} o
   * @param {import('../replica/replica.js').Replica} o.replica
   * @param {(mutations: any[], what?: AfterWrite) => Promise<void>} o.afterWrite
   * @param {{value: number} | null} [o.writing]
   * @param {(error: Error) => void} [o.onStorageError]
   * @param {() => number} [o.now]
   * @param {() => void} [o.beforeSend]
   * @param {() => boolean} [o.sendNow]
   * @param {() => (import('../sync/sender.js').SendWorker | null)} [o.sender]
   * @param {(first: Promise<import('../sync/round.js').First>) => void} [o.started]
   */
  constructor({ replica, afterWrite, writing = null, onStorageError = () => {}, now = Date.now, beforeSend = () => {},
    sendNow = () => false, sender = () => null, started = () => {} }) {
    this.#sendNow = sendNow;
    this.#sender = sender;
    this.#started = started;
    this.#beforeSend = beforeSend;
    this.#onStorageError = onStorageError;
    this.#writing = writing;
    this.#replica = replica;
    this.#afterWrite = afterWrite;
    this.#now = now;
  }

  /**
   * Record `changes` (and `metaEntries`) in the outbox one of the three ways; resolves with the
   * mutations once the store shows them.
   * @param {{collection: string, id: string, fields: Record<string, any>}[]} changes
   * @param {Record<string, unknown>} [metaEntries]
   * @param {{lazy?: boolean, supersede?: number[]}} [options] `lazy`: rides with the next sync
   *   (read cursors); `supersede`: pending mids this write replaces (Replica#write)
   */
  async write(changes, metaEntries = {}, { lazy = false, supersede = [] } = {}) {
    // A send that reads its request waits for no grouped write: one still uncommitted would be
    // missing from the request and could be stamped after it (Rule 2 in replica/outbox-writer.js).
    const now = !lazy && this.#sendNow() && !this.#replica.enqueued;
    // (A replica without `enqueue`, as in tests with a stand-in, writes the earlier way.)
    if (this.grouped && !now && !supersede.length && typeof this.#replica.enqueue === 'function') return this.#enqueue(changes, metaEntries, lazy);
    const other = this.#other(changes, metaEntries, { lazy, supersede, now });
    this.#others = other.catch(() => {});
    return other;
  }

  /** The last write that did not go grouped, settled or not (a grouped write waits for it: order). */
  #others = Promise.resolve();

  /**
   * A write in a transaction of its own: one that leaves at once, or folds the one it replaces.
   * @param {{collection: string, id: string, fields: Record<string, any>}[]} changes
   * @param {Record<string, unknown>} metaEntries
   * @param {{lazy: boolean, supersede: number[], now: boolean}} how
   */
  async #other(changes, metaEntries, { lazy, supersede, now }) {
    const sender = this.#sender();
    if (now && !sender?.ready) this.#beforeSend();
    if (this.#writing) this.#writing.value += 1;
    try {
      let mutations = null;
      let outgoing = null;
      let sent = false;
      try {
        // With a send worker (the leader tab), every write goes through it: its transaction never
        // waits for this page's frames. A send that will leave at once is also sent from there, and
        // the engine takes that request as its first round. If the worker could not write it,
        // nothing was written: it is written here. Without a worker, a send that leaves at once
        // reads its request in the write's transaction (the engine is idle: nothing else will read
        // the outbox before it goes).
        // Whichever way it goes, the grouped writes' cached stamp state is now behind.
        this.#replica.forgetStamp?.();
        if (sender?.ready && now) {
          const job = sender.send(changes, this.#now(), metaEntries, supersede, MAX_PUSH, { limit: LIMIT, recent: RECENT });
          this.#started(job.first);
          mutations = await job.wrote.then(({ mutations: m }) => m, () => null);
          sent = mutations !== null;
        } else if (sender?.ready) {
          mutations = await sender.write(changes, this.#now(), metaEntries, supersede).then(({ mutations: m }) => m, () => null);
        }
        if (!mutations && now) {
          ({ mutations, outgoing } = await this.#replica.writeToSend(changes, this.#now(), metaEntries, supersede, MAX_PUSH));
        } else if (!mutations) mutations = await this.#replica.write(changes, this.#now(), metaEntries, supersede);
      } catch (error) {
        // Storage full or broken: the app shows a banner; the caller keeps the user's input.
        if (error?.name === 'StorageError') this.#onStorageError(error);
        throw error;
      }
      await this.#afterWrite(mutations, { metaEntries, superseded: supersede, lazy, outgoing, sent });
      return mutations;
    } finally {
      if (this.#writing) this.#writing.value -= 1;
    }
  }

  /**
   * A write that need not leave at once (offline, a sync in flight, another tab leads): grouped
   * (Replica#enqueue). It resolves once the mutations are stamped, their puts made and the store
   * shows them as pending; the sync is told when they are committed (local-writes.js, LocalWrites#after).
   * @param {{collection: string, id: string, fields: Record<string, any>}[]} changes
   * @param {Record<string, unknown>} metaEntries
   * @param {boolean} lazy
   */
  async #enqueue(changes, metaEntries, lazy) {
    if (this.#writing) this.#writing.value += 1;
    try {
      // A write made just before that went another way (the send worker's) is stamped first.
      await this.#others;
      const { stamped, committed } = this.#replica.enqueue(changes, this.#now(), metaEntries);
      let mutations;
      try {
        mutations = await stamped;
      } catch (error) {
        committed.catch(() => {}); // the same failure: reported once, here
        if (error?.name === 'StorageError') this.#onStorageError(error);
        throw error;
      }
      await this.#afterWrite(mutations, { metaEntries, lazy, committed });
      return mutations;
    } finally {
      if (this.#writing) this.#writing.value -= 1;
    }
  }

  /** Grouped writes (Replica#enqueue) for what need not leave at once; false: one transaction
   * awaited per write (the earlier path, kept for an A/B run of the benchmark). */
  grouped = true;
}
