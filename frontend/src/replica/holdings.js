// What the device holds beyond the sync feed: bulk history pages applied in one transaction each,
// the backfill's resume points, and eviction (frontend/README.md, "Keep offline").
//
// Rule 1. A bulk page is applied in ONE readwrite transaction, its resume point with it: a crash
//         or a reload mid-backfill leaves either the whole page and its new resume point or
//         neither, so the backfill resumes without a duplicate or a hole.
// Rule 2. Reads are batched: the records a page may already hold are read with one getAll over
//         the key range the page spans (ids are ULIDs, so a page of one channel spans a narrow
//         range), or, when that range holds far more than the page, with all gets issued at once.
//         Never one awaited get per record.
// Rule 3. Merging goes through the one merge module (sync/merge.js: snapshotChanges + apply), as a
//         sync reply's snapshot records do, and the device's clock observes the page's latest clock.
// Rule 4. Bulk transactions use `durability: 'relaxed'`: a page lost to a power cut is fetched
//         again from its resume point (which is lost with it), so it need not wait for the disk.
//         The outbox and local writes keep the default (replica.js, Rule 2).
// Rule 5. Eviction deletes confirmed records only (never the outbox: replica.js, Rule 4), in one
//         transaction with the resume points it moves.
// Rule 6. A page is merged and put CHUNK records per task: each chunk is issued from the success
//         callback of the previous chunk's last put, so the transaction stays open (a request is
//         always pending) while the browser can paint and handle input between chunks.
//
// This module opens its own connection to the replica's database (db.js): the rules of sync
// replies stay in replica.js, and IndexedDB orders readwrite transactions of both connections.

import { Clock } from '../sync/hlc.js';
import { apply, laterClock, snapshotChanges } from '../sync/merge.js';
import { unwrap } from 'idb';
import { openReplicaDB, storageError, DB_NAME } from './db.js';

/** @typedef {import('./replica.js').Snapshot} Snapshot */
/** Where a channel's backfill stands. @typedef {{low: number | null, oldestAt: number | null, last: number}} Resume */

const RANGE_SLACK = 4;
/** Records merged and put per task: a page never holds the main thread for long (Rule 6). */
const CHUNK = 250;
export const resumeKey = (channel) => `offline:${channel}`;

/** @param {Snapshot[]} records the page's records, grouped by collection, ids sorted */
function byCollection(records) {
  /** @type {Map<string, string[]>} */
  const groups = new Map();
  for (const r of records) {
    let ids = groups.get(r.collection);
    if (!ids) groups.set(r.collection, (ids = []));
    ids.push(r.id);
  }
  for (const ids of groups.values()) ids.sort();
  return groups;
}

/**
 * The records of `collection` with these ids that the store holds, by id: one getAll over their
 * key range when it holds few others, else every get at once (Rule 2).
 * @param {any} store @param {string} collection @param {string[]} ids sorted
 * @returns {Promise<Map<string, Snapshot>>}
 */
async function heldAmong(store, collection, ids) {
  const range = IDBKeyRange.bound([collection, ids[0]], [collection, ids[ids.length - 1]]);
  const inRange = await store.count(range);
  const held = new Map();
  if (inRange === 0) return held;
  if (inRange <= RANGE_SLACK * ids.length) {
    const wanted = new Set(ids);
    for (const record of await store.getAll(range)) if (wanted.has(record.id)) held.set(record.id, record);
  } else {
    const found = await Promise.all(ids.map((id) => store.get([collection, id])));
    for (const record of found) if (record) held.set(record.id, record);
  }
  return held;
}

export class Holdings {
  #db;

  constructor(db) {
    this.#db = db;
  }

  /** @param {string} [name] */
  static async open(name = DB_NAME) {
    return new Holdings(await openReplicaDB(name));
  }

  close() {
    this.#db.close();
  }

  /**
   * Apply one bulk page (Rules 1-4) and store `resume` for `channel` with it. Returns the records
   * as stored, `[key, record]`, so the caller's store takes them without reading them back.
   * @param {Snapshot[]} records
   * @param {number} wallMs
   * @param {string} channel
   * @param {Resume} resume
   * @returns {Promise<[string, Snapshot][]>}
   */
  async applyPage(records, wallMs, channel, resume) {
    try {
      const tx = this.#db.transaction(['records', 'meta'], 'readwrite', { durability: 'relaxed' });
      const store = tx.objectStore('records');
      const meta = tx.objectStore('meta');
      const groups = byCollection(records);
      const [[device, last, seen, offset], ...held] = await Promise.all([
        Promise.all(['device', 'hlc', 'hlcSeen', 'offset'].map((k) => meta.get(k))),
        ...[...groups].map(([collection, ids]) => heldAmong(store, collection, ids)),
      ]);
      const heldBy = new Map([...groups.keys()].map((collection, i) => [collection, held[i]]));
      let top = seen || null;
      /** @type {[string, Snapshot][]} */
      const stored = [];
      // The raw stores: idb would make a promise per put, and nothing here awaits one.
      const raw = /** @type {IDBObjectStore} */ (/** @type {unknown} */ (unwrap(store)));
      const rawMeta = /** @type {IDBObjectStore} */ (/** @type {unknown} */ (unwrap(meta)));
      /** Merge and put the next CHUNK records; the rest wait for the chunk's last put (Rule 6). */
      const chunks = new Promise((resolve) => {
        let at = 0;
        const step = () => {
          const end = Math.min(records.length, at + CHUNK);
          let request = null;
          for (; at < end; at++) {
            const record = records[at];
            const before = heldBy.get(record.collection)?.get(record.id);
            /** @type {import('../sync/merge.js').RecordState | null} */
            let state = before ? { fields: before.fields, clocks: before.clocks } : null;
            for (const change of snapshotChanges(record.fields, record.clocks)) {
              state = apply(state, change.fields, change.hlc);
              top = laterClock(top, change.hlc);
            }
            if (!state) continue;
            const merged = { collection: record.collection, id: record.id, scope: record.scope, ...state };
            stored.push([`${record.collection}/${record.id}`, merged]);
            request = raw.put(merged);
          }
          if (at < records.length) {
            if (request) request.onsuccess = step;
            else step();
            return;
          }
          if (device && top) {
            const clock = last ? new Clock(device, last) : new Clock(device);
            clock.observe(top, wallMs + (offset ?? 0));
            rawMeta.put(clock.last, 'hlc');
          }
          rawMeta.put(top ?? '', 'hlcSeen');
          rawMeta.put(resume, resumeKey(channel));
          resolve(undefined);
        };
        step();
      });
      // A failed put aborts the transaction: tx.done rejects, and so does this.
      await Promise.all([chunks, tx.done]);
      return stored;
    } catch (error) {
      throw storageError(error);
    }
  }

  /**
   * Every channel's resume point.
   * @returns {Promise<Map<string, Resume>>}
   */
  async resumePoints() {
    try {
      const tx = this.#db.transaction('meta');
      const range = IDBKeyRange.bound('offline:', 'offline:\uffff');
      const [keys, values] = await Promise.all([tx.store.getAllKeys(range), tx.store.getAll(range)]);
      return new Map(keys.map((key, i) => [String(key).slice('offline:'.length), values[i]]));
    } catch (error) {
      throw storageError(error);
    }
  }

  /**
   * Forget a channel's resume point (its keep went back to "recent", or it was dropped).
   * @param {string} channel
   */
  async forget(channel) {
    try {
      await this.#db.delete('meta', resumeKey(channel));
    } catch (error) {
      throw storageError(error);
    }
  }

  /**
   * Delete confirmed records (Rule 5) and move resume points up past what went.
   * @param {string[]} keys `collection/id`
   * @param {Map<string, number>} lows per channel: the lowest n still held
   */
  async evict(keys, lows) {
    try {
      const tx = this.#db.transaction(['records', 'meta'], 'readwrite');
      const store = tx.objectStore('records');
      const meta = tx.objectStore('meta');
      for (const key of keys) {
        const slash = key.indexOf('/');
        store.delete([key.slice(0, slash), key.slice(slash + 1)]);
      }
      const points = await Promise.all([...lows.keys()].map((channel) => meta.get(resumeKey(channel))));
      [...lows].forEach(([channel, low], i) => {
        const point = points[i];
        if (point) meta.put({ ...point, low: Math.max(point.low ?? low, low) }, resumeKey(channel));
      });
      await tx.done;
    } catch (error) {
      throw storageError(error);
    }
  }
}
