// What the device holds beyond the sync feed: bulk history pages applied in one transaction each,
// the backfill's resume points, and eviction (frontend/README.md, "Keep offline").
//
// Rule 1. A bulk page is applied in ONE readwrite transaction, its resume point with it: a crash
//         or a reload mid-backfill leaves either the whole page and its new resume point or
//         neither, so the backfill resumes without a duplicate or a hole.
// Rule 2. A page is stored as held chunks (held.js): a few puts per page, not one per message.
//         The chunks it lands in are read with one getAll per scope over their bucket range, so
//         a page fetched again merges into what is held instead of adding a copy.
// Rule 3. Merging goes through the one merge module (sync/merge.js: snapshotChanges + apply), as a
//         sync reply's snapshot records do, and the device's clock observes the page's latest clock.
//         A record the `records` store also holds is merged with it when read (held.js, Rule 2).
// Rule 4. Bulk transactions use `durability: 'relaxed'`: a page lost to a power cut is fetched
//         again from its resume point (which is lost with it), so it need not wait for the disk.
//         The outbox and local writes keep the default (replica.js, Rule 2).
// Rule 5. Eviction deletes confirmed records only (never the outbox: replica.js, Rule 4), from
//         `records` and from the chunks, in one transaction with the resume points it moves.
//
// This module opens its own connection to the replica's database (db.js): the rules of sync
// replies stay in replica.js, and IndexedDB orders readwrite transactions of both connections.

import { Clock } from '../sync/hlc.js';
import { apply, laterClock, snapshotChanges } from '../sync/merge.js';
import { openReplicaDB, storageError, DB_NAME } from './db.js';
import { bucketOf, chunksOf } from './held.js';
import { putClock } from './outbox.js';

/** @typedef {import('./replica.js').Snapshot} Snapshot */
/** @typedef {import('./held.js').Chunk} Chunk */
/** Where a channel's backfill stands. @typedef {{low: number | null, oldestAt: number | null, last: number}} Resume */

export const resumeKey = (channel) => `offline:${channel}`;
/** A channel's records live in its scope (the registry's IN_CHANNEL rule). */
const channelScope = (channel) => `c:${channel}`;
/** @param {{collection: string, id: string}} r */
const keyOf = (r) => `${r.collection}/${r.id}`;

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
   * as stored, `[key, record]`, so the caller's store takes them without reading them back, and
   * the chunks written, `[scope, bucket]`, for other tabs to read.
   * @param {Snapshot[]} records
   * @param {number} wallMs
   * @param {string} channel
   * @param {Resume} resume
   * @returns {Promise<{stored: [string, Snapshot][], chunks: [string, number][]}>}
   */
  async applyPage(records, wallMs, channel, resume) {
    try {
      const tx = this.#db.transaction(['held', 'meta'], 'readwrite', { durability: 'relaxed' });
      const held = tx.objectStore('held');
      const meta = tx.objectStore('meta');
      const chunks = chunksOf(records);
      /** @type {Map<string, [number, number]>} per scope, the lowest and highest bucket touched */
      const spans = new Map();
      for (const { scope, bucket } of chunks.values()) {
        const span = spans.get(scope);
        spans.set(scope, span ? [Math.min(span[0], bucket), Math.max(span[1], bucket)] : [bucket, bucket]);
      }
      const [[device, last, seen, offset], ...found] = await Promise.all([
        Promise.all(['device', 'hlc', 'hlcSeen', 'offset'].map((k) => meta.get(k))),
        ...[...spans].map(([scope, [low, high]]) => held.getAll(IDBKeyRange.bound([scope, low], [scope, high]))),
      ]);
      /** @type {Map<string, Chunk>} */
      const before = new Map(found.flat().map((c) => [`${c.scope}\n${c.bucket}`, c]));
      let top = seen || null;
      /** @type {[string, Snapshot][]} */
      const stored = [];
      for (const [at, chunk] of chunks) {
        const inChunk = new Map((before.get(at)?.records ?? []).map((r) => [keyOf(r), r]));
        for (const record of chunk.records) {
          const key = keyOf(record);
          const prior = inChunk.get(key);
          /** @type {import('../sync/merge.js').RecordState | null} */
          let state = prior ? { fields: prior.fields, clocks: prior.clocks } : null;
          for (const change of snapshotChanges(record.fields, record.clocks)) {
            state = apply(state, change.fields, change.hlc);
            top = laterClock(top, change.hlc);
          }
          if (!state) continue;
          const merged = { collection: record.collection, id: record.id, scope: record.scope, ...state };
          inChunk.set(key, merged);
          stored.push([key, merged]);
        }
        held.put({ scope: chunk.scope, bucket: chunk.bucket, records: [...inChunk.values()] });
      }
      if (device && top) {
        const clock = last ? new Clock(device, last) : new Clock(device);
        clock.observe(top, wallMs + (offset ?? 0));
        putClock(meta, clock.last);
      }
      meta.put(top ?? '', 'hlcSeen');
      meta.put(resume, resumeKey(channel));
      // A failed put aborts the transaction: tx.done rejects, and so does this.
      await tx.done;
      return { stored, chunks: [...chunks.values()].map((c) => /** @type {[string, number]} */ ([c.scope, c.bucket])) };
    } catch (error) {
      throw storageError(error);
    }
  }

  /**
   * The records held in some chunks of a scope (another tab applied them: tab-messages.js `held`).
   * @param {string} scope
   * @param {number[]} buckets
   * @returns {Promise<[string, Snapshot][]>}
   */
  async heldRecords(scope, buckets) {
    try {
      const tx = this.#db.transaction('held');
      const chunks = await Promise.all(buckets.map((bucket) => tx.store.get([scope, bucket])));
      return chunks.flatMap((chunk) => (chunk ? chunk.records.map((r) => [keyOf(r), r]) : []));
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
      const tx = this.#db.transaction(['records', 'held', 'meta'], 'readwrite');
      const store = tx.objectStore('records');
      const held = tx.objectStore('held');
      const meta = tx.objectStore('meta');
      for (const key of keys) {
        const slash = key.indexOf('/');
        store.delete([key.slice(0, slash), key.slice(slash + 1)]);
      }
      const gone = new Set(keys);
      // Everything below a cut lives in the chunks up to the cut's bucket (held.js, Rule 1).
      const cuts = [...lows].map(([channel, low]) => [channelScope(channel), bucketOf(low)]);
      const [points, ...below] = await Promise.all([
        Promise.all([...lows.keys()].map((channel) => meta.get(resumeKey(channel)))),
        ...cuts.map(([scope, bucket]) => held.getAll(IDBKeyRange.bound([scope, -Infinity], [scope, bucket]))),
      ]);
      for (const chunk of below.flat()) {
        const kept = chunk.records.filter((r) => !gone.has(keyOf(r)));
        if (kept.length === chunk.records.length) continue;
        if (kept.length) held.put({ ...chunk, records: kept });
        else held.delete([chunk.scope, chunk.bucket]);
      }
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
