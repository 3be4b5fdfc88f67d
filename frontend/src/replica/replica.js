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

import { apply, laterClock, snapshotChanges } from '../sync/merge.js';
import { openReplicaDB, storageError } from './db.js';
import { withHeld } from './held.js';
import { clockFor, deleteMids, fail, newToken, restamp, retry, writeToSend } from './outbox.js';
import { OutboxWriter } from './outbox-writer.js';
import { readMany } from './read-many.js';

const ALL = ['records', 'outbox', 'failed', 'meta', 'held'];

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

/** @type {(collection: string, id: string) => string} */
export const keyOf = (collection, id) => `${collection}/${id}`;

/**
 * `messages/M1` -> ['messages', 'M1'] (ids may hold slashes; collections do not).
 * @param {string} key
 * @returns {[string, string]}
 */
export function splitKey(key) {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

/**
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

/**
 * May a reply's part for `scope` be applied? Yes when its request pulled the scope from the start,
 * or when the device still holds the scope at least as far as the request's cursor said.
 * The same rule as sync_protocol/replica.py `holds_since`; both pass vectors/replica.json.
 */
export function holdsSince(held, sent, scope) {
  return !Object.hasOwn(sent, scope) || (Object.hasOwn(held, scope) && held[scope] >= sent[scope]);
}

function stillHeld(response, held, sent) {
  const keep = (scope) => holdsSince(held, sent, scope);
  return {
    ...response,
    changes: (response.changes ?? []).filter((c) => keep(c.scope)),
    records: (response.records ?? []).filter((r) => keep(r.scope)),
    cursors: Object.fromEntries(Object.entries(response.cursors ?? {}).filter(([scope]) => keep(scope))),
  };
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
   * clean replica (another person's records and outbox must not leak into their view).
   * Returns true when the replica was wiped.
   */
  async setSession(session) {
    return run(async () => {
      const tx = this.#db.transaction(ALL, 'readwrite');
      const meta = tx.objectStore('meta');
      const user = await meta.get('user');
      const wiped = Boolean(user && user !== session.user.id);
      if (wiped) for (const name of ALL) tx.objectStore(name).clear();
      meta.put(session.user.id, 'user');
      meta.put(session.device, 'device');
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
   * @returns {Promise<{mutations: Mutation[], outgoing: {pending: Mutation[], cursors: Record<string, number>} | null}>}
   */
  async writeToSend(changes, wallMs, metaEntries = {}, supersede = [], limit = 500) {
    this.#writer.forget();
    return run(() => writeToSend(this.#db, changes, wallMs, metaEntries, supersede, limit));
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
   * Keep failed entries (a grouped write that did not commit, app.js) in `failed`.
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
   * Apply one /api/sync reply (PROTOCOL.md, rules 1-7) in one transaction. `sent` is the cursors
   * its request carried: a scope's part is applied only while this device still holds the scope
   * at least that far (`holdsSince`), so a late reply never refills a dropped scope or hides a hole.
   * Returns what changed: `{keys, dropped, acked, rejected}`.
   * @param {SyncReply} response
   * @param {number} wallMs
   * @returns {Promise<Applied>}
   */
  async applyResponse(response, wallMs, sent = null) {
    return run(async () => {
      const tx = this.#db.transaction(ALL, 'readwrite');
      const meta = tx.objectStore('meta');
      if (sent) response = stillHeld(response, (await meta.get('cursors')) ?? {}, sent);
      const outbox = tx.objectStore('outbox');
      const offset = response.server_time - wallMs;
      meta.put(offset, 'offset');

      deleteMids(outbox, response.acks ?? []);
      const rejections = response.rejections ?? [];
      const refused = await Promise.all(rejections.map((r) => outbox.get(r.mid)));
      for (const [i, rejection] of rejections.entries()) {
        const mutation = refused[i];
        if (!mutation) continue;
        tx.objectStore('failed').put({
          ...mutation,
          code: rejection.code,
          reason: rejection.reason,
          failedAt: wallMs,
        });
        outbox.delete(rejection.mid);
      }

      const merged = await this.#mergeWith(tx, response.changes ?? [], wallMs + offset);
      const snapshots = await this.#mergeRecords(tx, response.records ?? [], wallMs + offset);
      const keys = [...merged.keys, ...snapshots.keys];
      const records = new Map([...merged.records, ...snapshots.records]);

      const cursors = { ...((await meta.get('cursors')) ?? {}) };
      for (const [scope, seq] of Object.entries(response.cursors ?? {})) {
        cursors[scope] = Math.max(seq, cursors[scope] ?? 0);
      }
      let dropped = [];
      if (response.scopes?.length) {
        const visible = new Set(response.scopes);
        dropped = await this.#dropScopesExcept(tx, visible);
        for (const scope of Object.keys(cursors)) if (!visible.has(scope)) delete cursors[scope];
        meta.put([...visible], 'scopes');
      }
      meta.put(cursors, 'cursors');
      await tx.done;
      return {
        keys,
        records: [...records],
        dropped,
        acked: response.acks ?? [],
        rejected: (response.rejections ?? []).map((r) => r.mid),
      };
    });
  }

  /**
   * Apply a live `changes` frame if it continues our cursor for its scope.
   * Returns `{applied: true, keys}` or `{applied: false}` (a gap: the caller runs a sync).
   * @param {LiveChanges} frame
   * @param {number} wallMs
   * @returns {Promise<{applied: boolean, keys?: string[], records?: [string, Snapshot][]}>}
   */
  async applyLive(frame, wallMs) {
    return run(async () => {
      // Records and meta only: a local write (outbox, meta) waits for it no longer than it must.
      const tx = this.#db.transaction(['records', 'meta'], 'readwrite');
      const meta = tx.objectStore('meta');
      // Every meta entry this needs and every record the frame touches, at once: one round trip
      // (the records are read even when the frame turns out not to continue our cursor).
      const records = tx.objectStore('records');
      const unique = [...new Set(frame.changes.map((c) => keyOf(c.collection, c.id)))];
      const [[held, offset, device, last, seen], found] = await Promise.all([
        Promise.all(['cursors', 'offset', 'device', 'hlc', 'hlcSeen'].map((key) => meta.get(key))),
        Promise.all(unique.map((key) => records.get(splitKey(key)))),
      ]);
      const cursors = { ...(held ?? {}) };
      if ((cursors[frame.scope] ?? 0) !== frame.prev) {
        await tx.done;
        return { applied: false };
      }
      const read = new Map(unique.map((key, i) => [key, found[i] ?? null]));
      const merged = await this.#mergeWith(tx, frame.changes, wallMs + (offset ?? 0), { device, last, seen, found: read });
      const top = frame.changes.reduce((most, change) => Math.max(most, change.seq), frame.prev);
      cursors[frame.scope] = top;
      meta.put(cursors, 'cursors');
      // Every put is queued: commit now, with them, rather than after their results have come
      // back to this thread (auto-commit would cost the live path one more IndexedDB round trip).
      tx.commit?.();
      await tx.done;
      return { applied: true, keys: merged.keys, records: merged.records };
    });
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
      const { keys } = await this.#mergeRecords(tx, records, wallMs + offset);
      await tx.done;
      return keys;
    });
  }

  /**
   * @param {any} tx
   * @param {Snapshot[]} snapshots
   * @param {number} correctedMs
   * @returns {Promise<{keys: string[], records: [string, Snapshot][]}>}
   */
  async #mergeRecords(tx, snapshots, correctedMs) {
    const changes = [];
    for (const record of snapshots) {
      for (const { fields, hlc } of snapshotChanges(record.fields, record.clocks)) {
        changes.push({ collection: record.collection, id: record.id, scope: record.scope, fields, hlc });
      }
    }
    const merged = await this.#mergeWith(tx, changes, correctedMs);
    return { keys: [...new Set(merged.keys)], records: merged.records };
  }

  /**
   * Merge changes into `records` with the merge rule; fold their clocks into ours. The meta
   * entries it needs may come already read (`known`). Returns the keys touched and the records
   * as stored, so the caller's store can take them without reading them back.
   * @param {any} tx
   * @param {{collection: string, id: string, scope: string, fields: Record<string, Value>, hlc: string}[]} changes
   * @param {number} correctedMs
   * @param {{device: string, last: string, seen: string, found?: Map<string, any>} | null} [known] `found`: the
   *   touched records, already read in this transaction (null where absent)
   * @returns {Promise<{keys: string[], records: [string, Snapshot][]}>}
   */
  async #mergeWith(tx, changes, correctedMs, known = null) {
    if (!changes.length) return { keys: [], records: [] };
    const meta = tx.objectStore('meta');
    const records = tx.objectStore('records');
    // Batched reads: every record the changes touch is requested at once, with the meta entries
    // (one await for all, not one per record); a record changed twice in the batch is read once,
    // merged in order, and written once.
    /** @type {Map<string, {collection: string, id: string, scope: string, fields: Record<string, Value>, clocks: Record<string, string>} | null>} */
    const touched = new Map();
    for (const c of changes) touched.set(keyOf(c.collection, c.id), null);
    const unique = [...touched.keys()];
    const [[device, last, seen], found] = await Promise.all([
      known ? [known.device, known.last, known.seen] : Promise.all(['device', 'hlc', 'hlcSeen'].map((k) => meta.get(k))),
      known?.found ? unique.map((key) => known.found.get(key)) : readMany(records, unique.map(splitKey)),
    ]);
    unique.forEach((key, i) => touched.set(key, found[i] ?? null));
    const clock = device ? clockFor(device, last) : null;
    let top = seen || null;
    const keys = [];
    for (const change of changes) {
      const key = keyOf(change.collection, change.id);
      const held = touched.get(key);
      const state = apply(held ? { fields: held.fields, clocks: held.clocks } : null, change.fields, change.hlc);
      touched.set(key, { collection: change.collection, id: change.id, scope: change.scope, fields: state.fields, clocks: state.clocks });
      if (change.hlc) {
        clock?.observe(change.hlc, correctedMs);
        top = laterClock(top, change.hlc);
      }
      keys.push(key);
    }
    for (const record of touched.values()) if (record) records.put(record);
    if (clock) {
      meta.put(clock.last, 'hlc');
      meta.put(newToken(), 'stamp'); // the clock moved: a cached stamp state is stale (outbox-writer.js)
    }
    meta.put(top ?? '', 'hlcSeen');
    return { keys, records: /** @type {[string, Snapshot][]} */ ([...touched]) };
  }

  /**
   * @param {any} tx
   * @param {Set<string>} visible
   * @returns {Promise<string[]>} the keys of the records dropped
   */
  async #dropScopesExcept(tx, visible) {
    const index = tx.objectStore('records').index('scope');
    const dropped = [];
    let cursor = await index.openKeyCursor(null, 'nextunique');
    const lost = [];
    while (cursor) {
      if (!visible.has(cursor.key)) lost.push(cursor.key);
      cursor = await cursor.continue();
    }
    // Held chunks go with their scope (Rule 6): a scope may be held only there.
    const held = tx.objectStore('held');
    for (const scope of new Set((await held.getAllKeys()).map(([scope]) => scope))) {
      if (visible.has(scope)) continue;
      const range = IDBKeyRange.bound([scope, -Infinity], [scope, Infinity]);
      for (const chunk of await held.getAll(range)) for (const r of chunk.records) dropped.push(keyOf(r.collection, r.id));
      held.delete(range);
      if (!lost.includes(scope)) lost.push(scope);
    }
    for (const scope of lost) {
      let row = await index.openCursor(IDBKeyRange.only(scope));
      while (row) {
        dropped.push(keyOf(row.value.collection, row.value.id));
        row.delete();
        row = await row.continue();
      }
    }
    return dropped;
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
