// Held history: how backfilled messages are laid out in IndexedDB (the `held` store, db.js
// migration 2) and how they are read back with the `records` store. Pure functions, no I/O.
//
// Why chunks: one IndexedDB put per message costs ~70 µs in Chromium whatever the record's size
// (a structured clone, a request, a key and index entries), which caps a page at ~14k messages/s;
// one put per BUCKET messages costs the same per put, so a 2,500-message page is a handful of puts
// (bench/offline_depth.py measures both in the same run).
//
// Rule 1. A held chunk is `{scope, bucket, records}`, keyed [scope, bucket]. A top-level message
//         with number n lives in bucket floor(n / BUCKET) of its scope; a reply lives with its
//         thread's message, a reaction with its message; what has no numbered parent in the page
//         lives with the page's lowest message. So the same record always lands in the same chunk,
//         and fetching a range again overwrites, never duplicates.
// Rule 2. A record may be in `records` and in a chunk at once (the sync feed or the live channel
//         touched a held message: they merge into `records` without reading the chunks, so a
//         `records` entry may hold only the fields that changed since). Its confirmed state is the
//         merge of both by the merge rule (sync/merge.js), which is what `withHeld` returns and
//         what the store does with a record it already holds (dispatch/store.js, `patch`).
// Rule 3. Chunks hold confirmed records in the shape `records` holds them; the outbox is never here.

import { compareClocks } from '../sync/merge.js';

/** Top-level messages per chunk: a page of 2,500 is five or six puts, an eviction cut rewrites one. */
export const BUCKET = 500;

/** @typedef {import('./replica.js').Snapshot} Snapshot */
/** A held chunk. @typedef {{scope: string, bucket: number, records: Snapshot[]}} Chunk */

/** @param {{collection: string, id: string}} r */
const keyOf = (r) => `${r.collection}/${r.id}`;

/** @param {number} n */
export const bucketOf = (n) => Math.floor(n / BUCKET);

/**
 * Merge snapshot `b` into snapshot `a` field by field, each field by its own clock (Rule 2): a
 * field of `b` is taken unless `a` holds it with a later clock (sync/merge.js `compareClocks`); a
 * field only `a` has is kept. Two copies of one field with the same clock are the same write, both
 * already merged by the merge rule, so `b` (the newer read) is taken: a record made without clocks
 * (by hand, in tests) replaces as it always did. Returns a new record; the inputs are unchanged.
 * @param {Snapshot} a
 * @param {Snapshot} b
 * @returns {Snapshot}
 */
export function mergeSnapshots(a, b) {
  const fields = { ...a.fields };
  const clocks = { ...a.clocks };
  for (const name of Object.keys(b.fields)) {
    const clock = Object.hasOwn(b.clocks ?? {}, name) ? b.clocks[name] : undefined;
    const held = Object.hasOwn(clocks, name) ? clocks[name] : undefined;
    if (clock === undefined || held === undefined || compareClocks(clock, held) >= 0) {
      Object.defineProperty(fields, name, { value: b.fields[name], enumerable: true, writable: true, configurable: true });
      if (clock === undefined) delete clocks[name];
      else Object.defineProperty(clocks, name, { value: clock, enumerable: true, writable: true, configurable: true });
    }
  }
  return { ...a, ...b, fields, clocks };
}

/**
 * Which chunk each record of a bulk page belongs to (Rule 1).
 * @param {Snapshot[]} records one channel's page
 * @returns {Map<string, {scope: string, bucket: number, records: Snapshot[]}>} by `${scope}\n${bucket}`
 */
export function chunksOf(records) {
  /** @type {Map<string, number>} message id -> its number (top-level) or its thread's number */
  const numbers = new Map();
  let low = Infinity;
  for (const r of records) {
    const n = r.fields.n;
    if (r.collection === 'messages' && typeof n === 'number' && !r.fields.thread) {
      numbers.set(r.id, n);
      if (n < low) low = n;
    }
  }
  for (const r of records) {
    const thread = r.fields.thread;
    if (r.collection === 'messages' && typeof thread === 'string' && numbers.has(thread)) {
      numbers.set(r.id, /** @type {number} */ (numbers.get(thread)));
    }
  }
  const fallback = low === Infinity ? 0 : low;
  /** @type {Map<string, {scope: string, bucket: number, records: Snapshot[]}>} */
  const chunks = new Map();
  for (const r of records) {
    const parent = r.collection === 'messages' ? r.id : r.fields.message;
    const n = numbers.get(typeof parent === 'string' ? parent : '') ?? fallback;
    const bucket = bucketOf(n);
    const at = `${r.scope}\n${bucket}`;
    let chunk = chunks.get(at);
    if (!chunk) chunks.set(at, (chunk = { scope: r.scope, bucket, records: [] }));
    chunk.records.push(r);
  }
  return chunks;
}

/**
 * The confirmed records: every chunk's, merged with the `records` store's (Rule 2).
 * @param {Chunk[]} chunks
 * @param {Snapshot[]} records
 * @returns {Snapshot[]}
 */
export function withHeld(chunks, records) {
  if (!chunks.length) return records;
  /** @type {Map<string, Snapshot>} */
  const all = new Map();
  for (const chunk of chunks) {
    for (const r of chunk.records) {
      const key = keyOf(r);
      const other = all.get(key);
      all.set(key, other ? mergeSnapshots(other, r) : r);
    }
  }
  for (const r of records) {
    const key = keyOf(r);
    const other = all.get(key);
    all.set(key, other ? mergeSnapshots(other, r) : r);
  }
  return [...all.values()];
}
