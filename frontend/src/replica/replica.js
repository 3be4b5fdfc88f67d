// The device's replica in IndexedDB, following sync_protocol/replica.py:
//
// Rule 1. `records` holds confirmed state only (what the server accepted, merged with the
//         merge rule). Pending mutations live in `outbox` and are laid over the confirmed
//         state when read (dispatch/), so an ack or a rejection never needs rollback code.
// Rule 2. A local write and its outbox entry (with the mid counter and the clock) are one
//         IndexedDB transaction: a write is either fully recorded or not at all.
// Rule 3. Every server reply is applied in one transaction: acks, rejections, changes,
//         cursors, dropped scopes. A crash mid-way leaves the previous state.
// Rule 4. The outbox is never evicted: dropping a lost scope removes confirmed records only;
//         a pending change there is refused by the server and moves to `failed` with a reason.
// Rule 5. Clocks: HLCs are stamped from corrected time (wall + offset). `hlcSeen` keeps the
//         greatest clock received from the server, so a device whose clock ran ahead can
//         restamp from corrected time without going below anything it has observed.
// Rule 6. Backfilled history is held in chunks (`held`, replica/held.js); a record there may also
//         be in `records`, and its confirmed state is the merge of both (held.js, Rule 2).
//
// This class opens the device's database and maps its errors; the work inside its transactions
// lives by concern: applying server replies (replies.js), merging into `records` (records.js),
// dropping lost scopes (scope-drop.js), the outbox (outbox.js; grouped writes: outbox-writer.js).

import { STORES as ALL, openReplicaDB, storageError } from './db.js';
import { withHeld } from './held.js';
import { fail, newToken, restamp, retry, writeToSend } from './outbox.js';
import { OutboxWriter } from './outbox-writer.js';
import { mergeRecords, splitKey } from './records.js';
import { applyLive, applyResponse } from './replies.js';

// The record keys and the scope rule moved out with the code that uses them; they are still
// exported from here, where the store (dispatch/store.js) and older callers import them.
export { keyOf, splitKey } from './records.js';
export { holdsSince } from './scope-drop.js';

/** @typedef {import('../sync/merge.js').Value} Value */
/** A local change before it is stamped. @typedef {{collection: string, id: string, fields: Record<string, Value>}} LocalChange */
/** A pending change in the outbox. @typedef {LocalChange & {mid: number, hlc: string}} Mutation */
/** A failed mutation, with the server's (or the client's) reason. @typedef {Mutation & {code: string, reason: string, failedAt: number}} Failed */
/** A change as the server sends it. @typedef {{seq: number, scope: string, collection: string, id: string, hlc: string, author?: string, fields: Record<string, Value>}} Change */
/** A record snapshot with a clock per field. @typedef {{scope: string, collection: string, id: string, fields: Record<string, Value>, clocks: Record<string, string>}} Snapshot */
/**
 * One /api/sync reply (PROTOCOL.md).
 * @typedef {{server_time: number, acks?: number[], rejections?: {mid: number, code: string, reason: string}[],
 *   changes?: Change[], records?: Snapshot[], cursors?: Record<string, number>, scopes?: string[], more?: boolean}} SyncReply
 */
/** A live `changes` frame. @typedef {{scope: string, prev: number, changes: Change[]}} LiveChanges */
/** What a reply changed (`records`: the touched records as stored). @typedef {{keys: string[], records: [string, Snapshot][], dropped: string[], acked: number[], rejected: number[]}} Applied */

/**
 * Every IndexedDB error leaves the replica as a StorageError (db.js: quota exceeded reaches the user).
 * @template T
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
async function run(work) {
  try {
    return await work();
  } catch (error) {
    throw storageError(error);
  }
}

export class Replica {
  #db;
  #writer;

  constructor(db) {
    this.#db = db;
    this.#writer = new OutboxWriter(db);
  }

  /**
   * @param {string} [name]
   * @param {Parameters<typeof openReplicaDB>[1]} [events]
   */
  static async open(name, events) {
    return new Replica(await openReplicaDB(name, events));
  }

  close() {
    this.#db.close();
  }

  // --- meta --------------------------------------------------------------------------------

  async meta() {
    return run(async () => {
      const tx = this.#db.transaction('meta');
      const keys = await tx.store.getAllKeys();
      const values = await tx.store.getAll();
      return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
    });
  }

  /**
   * Remember who is signed in on this device. A different user than the stored one gets a
   * clean replica (another person's records and outbox must not leak into their view); so does
   * a replica with no one stored. Returns true when another person's replica was wiped.
   */
  async setSession(session) {
    return run(async () => {
      const tx = this.#db.transaction(ALL, 'readwrite');
      const meta = tx.objectStore('meta');
      const user = await meta.get('user');
      const wiped = Boolean(user && user !== session.user.id);
      // No one stored (a fresh device, or one signed out) holds nothing of anyone's: clear it too,
      // so nothing written after a sign-out's clear can reach the next person's view.
      if (user !== session.user.id) for (const name of ALL) tx.objectStore(name).clear();
      meta.put(session.user.id, 'user');
      meta.put(session.device, 'device');
      meta.put(newToken(), 'stamp'); // the device may have changed: a cached stamp state is stale
      meta.put(session, 'session');
      await tx.done;
      return wiped;
    });
  }

  async setMeta(key, value) {
    return run(() => this.#db.put('meta', value, key));
  }

  /** Forget everything (sign-out). */
  async clear() {
    return run(async () => {
      const tx = this.#db.transaction(ALL, 'readwrite');
      for (const name of ALL) tx.objectStore(name).clear();
      await tx.done;
    });
  }

  // --- reading -------------------------------------------------------------------------------

  async snapshot() {
    return run(async () => {
      const tx = this.#db.transaction(ALL);
      const [records, outbox, failed, held] = await Promise.all([
        tx.objectStore('records').getAll(),
        tx.objectStore('outbox').getAll(),
        tx.objectStore('failed').getAll(),
        tx.objectStore('held').getAll(),
      ]);
      const keys = await tx.objectStore('meta').getAllKeys();
      const values = await tx.objectStore('meta').getAll();
      return { records: withHeld(held, records), outbox, failed, meta: Object.fromEntries(keys.map((k, i) => [k, values[i]])) };
    });
  }

  /**
   * Failed and meta (small), and the outbox unless `outbox: false` (the tab that ran the sync
   * knows which mids left it, so it need not read the whole outbox again).
   * @param {{outbox?: boolean}} [options]
   */
  async snapshotPending({ outbox = true } = {}) {
    return run(async () => {
      const tx = this.#db.transaction(['outbox', 'failed', 'meta']);
      const [pending, failed, keys, values] = await Promise.all([
        outbox ? tx.objectStore('outbox').getAll() : null,
        tx.objectStore('failed').getAll(),
        tx.objectStore('meta').getAllKeys(),
        tx.objectStore('meta').getAll(),
      ]);
      return { outbox: pending, failed, meta: Object.fromEntries(keys.map((k, i) => [k, values[i]])) };
    });
  }

  /**
   * The oldest pending mutations, in mid order.
   * @param {number} [limit]
   * @returns {Promise<Mutation[]>}
   */
  async pending(limit = 500) {
    // One batched read (the outbox is keyed by mid, so key order is write order).
    return run(() => this.#db.getAll('outbox', null, limit));
  }

  /**
   * What a sync request carries, read in one transaction: the oldest pending mutations (past mid
   * `after`, when a request for the ones before is still in flight) and the cursors.
   * @param {number} [limit]
   * @param {number} [after]
   * @returns {Promise<{pending: Mutation[], cursors: Record<string, number>}>}
   */
  async outgoing(limit = 500, after = 0) {
    return run(async () => {
      const tx = this.#db.transaction(['outbox', 'meta']);
      const [pending, cursors] = await Promise.all([
        tx.objectStore('outbox').getAll(after ? IDBKeyRange.lowerBound(after, true) : null, limit),
        tx.objectStore('meta').get('cursors'),
      ]);
      return { pending, cursors: cursors ?? {} };
    });
  }

  async pendingCount() {
    return run(() => this.#db.count('outbox'));
  }

  // --- writing -------------------------------------------------------------------------------

  /**
   * Record local changes `[{collection, id, fields}]` as pending mutations, atomically, together
   * with `meta` entries (e.g. `{'draft:<channel>': null}`: the draft goes when its message is queued,
   * in the same transaction, so a reload at any moment shows either the draft or the message).
   * Returns the mutations (with their mids and clocks).
   *
   * `supersede` names pending mids this write replaces (a newer read cursor for the same record):
   * each one still in the outbox is folded under the new change of the same record (its fields
   * first, the new ones on top) and removed, so at most one such write waits per record. One that
   * is already in flight is harmless: the server applies it and acks a mid we no longer hold.
   * @param {LocalChange[]} changes
   * @param {number} wallMs
   * @param {Record<string, unknown>} [metaEntries]
   * @param {number[]} [supersede]
   * @returns {Promise<Mutation[]>}
   */
  async write(changes, wallMs, metaEntries = {}, supersede = []) {
    return (await this.writeToSend(changes, wallMs, metaEntries, supersede, 0)).mutations;
  }

  /**
   * A plain write (no `supersede`, no request read with it), grouped (replica/outbox-writer.js,
   * OutboxWriter): `stamped` gives its mutations as soon as they are stamped and their puts made
   * (at once, unless the stamp state must be read first), `committed` the mutations as stored once
   * the transaction committed. A failure rejects `committed` with a StorageError carrying
   * `mutations` (the caller shows them as failed). Writes made in one task share one transaction.
   * @param {LocalChange[]} changes
   * @param {number} wallMs
   * @param {Record<string, unknown>} [metaEntries]
   * @returns {{stamped: Promise<Mutation[]>, committed: Promise<Mutation[]>}}
   */
  enqueue(changes, wallMs, metaEntries = {}) {
    const { stamped, committed } = this.#writer.write(changes, wallMs, metaEntries);
    const mapped = (/** @type {any} */ error) => {
      throw Object.assign(storageError(error), { mutations: error?.mutations ?? [] });
    };
    return { stamped: stamped.catch(mapped), committed: committed.catch(mapped) };
  }

  /** Another context (the send worker) wrote the outbox for this tab: see OutboxWriter#forget. */
  forgetStamp() {
    this.#writer.forget();
  }

  /** Grouped writes so far: `{groups, writes, rewrites}` (transactions begun, writes, read-and-writes). */
  get writeStats() {
    return { ...this.#writer.stats };
  }

  /** Grouped writes not yet committed (a write that reads the outbox waits for them first). */
  get enqueued() {
    return this.#writer.busy;
  }

  /**
   * `write`, and with `limit` > 0 also what the sync request that sends it will carry (as
   * `outgoing` reads it), in the same transaction: a send that leaves at once needs no second one.
   * @param {LocalChange[]} changes
   * @param {number} wallMs
   * @param {Record<string, unknown>} [metaEntries]
   * @param {number[]} [supersede]
   * @param {number} [limit]
   * @param {import('./outbox.js').StampCache | null} [cache] a stamp state its caller keeps between its
   *   writes (the send worker's), so that the write reads no meta before its puts (outbox.js writeToSend)
   * @returns {Promise<{mutations: Mutation[], outgoing: {pending: Mutation[], cursors: Record<string, number>} | null}>}
   */
  async writeToSend(changes, wallMs, metaEntries = {}, supersede = [], limit = 500, cache = null) {
    this.#writer.forget();
    return run(() => writeToSend(this.#db, changes, wallMs, metaEntries, supersede, limit, cache));
  }

  /**
   * Move a mutation from the outbox to `failed` (a client-side refusal, e.g. invalid_change).
   * @param {number} mid
   * @param {string} code
   * @param {string} reason
   * @param {number} wallMs
   */
  async fail(mid, code, reason, wallMs) {
    return run(() => fail(this.#db, mid, code, reason, wallMs));
  }

  /**
   * Write a failed mutation again, as a new mutation (new mid, new clock).
   * @param {number} mid
   * @param {number} wallMs
   * @returns {Promise<Mutation | null>}
   */
  async retry(mid, wallMs) {
    this.#writer.forget();
    return run(() => retry(this.#db, mid, wallMs));
  }

  /**
   * Keep failed entries (a grouped write that did not commit, dispatch/local-writes.js) in `failed`.
   * @param {Failed[]} entries
   */
  async keepFailed(entries) {
    return run(async () => {
      const tx = this.#db.transaction('failed', 'readwrite');
      for (const entry of entries) tx.store.put(entry);
      await tx.done;
    });
  }

  /** @param {number} mid */
  async discard(mid) {
    return run(() => this.#db.delete('failed', mid));
  }

  // --- receiving -----------------------------------------------------------------------------

  /**
   * Apply one /api/sync reply in one transaction (replies.js, `applyResponse`: `sent` is the
   * cursors its request carried).
   * @param {SyncReply} response
   * @param {number} wallMs
   * @param {Record<string, number> | null} [sent]
   * @returns {Promise<Applied>}
   */
  async applyResponse(response, wallMs, sent = null) {
    return run(() => applyResponse(this.#db, response, wallMs, sent));
  }

  /**
   * Apply a live `changes` frame if it continues our cursor for its scope (replies.js, `applyLive`):
   * `{applied: false}` is a gap, and the caller runs a sync.
   * @param {LiveChanges} frame
   * @param {number} wallMs
   * @returns {Promise<{applied: boolean, keys?: string[], records?: [string, Snapshot][]}>}
   */
  async applyLive(frame, wallMs) {
    return run(() => applyLive(this.#db, frame, wallMs));
  }

  /**
   * After 409 clock_ahead: adopt the server's time and stamp every pending mutation again,
   * oldest first, from corrected time.
   * @param {number} serverTime
   * @param {number} wallMs
   */
  async restamp(serverTime, wallMs) {
    this.#writer.forget();
    return run(() => restamp(this.#db, serverTime, wallMs));
  }

  /**
   * Merge snapshot records (`{scope, collection, id, fields, clocks}`: a sync reply's
   * `records`, a history page) field by field, each field with its own clock. Returns keys.
   * @param {Snapshot[]} records
   * @param {number} wallMs
   * @returns {Promise<string[]>}
   */
  async applyRecords(records, wallMs) {
    if (!records.length) return [];
    return run(async () => {
      const tx = this.#db.transaction(['records', 'meta'], 'readwrite');
      const offset = (await tx.objectStore('meta').get('offset')) ?? 0;
      const { keys } = await mergeRecords(tx, records, wallMs + offset);
      await tx.done;
      return keys;
    });
  }


  /**
   * @param {string[]} keys `collection/id`
   * @returns {Promise<[string, (Snapshot | null)][]>}
   */
  async getRecords(keys) {
    return run(async () => {
      const tx = this.#db.transaction('records');
      return Promise.all(
        keys.map(async (key) => [key, (await tx.store.get(splitKey(key))) ?? null]),
      );
    });
  }
}
