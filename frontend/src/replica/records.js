// The `records` store: how a confirmed record is keyed, and how the server's changes and snapshots
// merge into it (replica.js, Rules 1 and 5): field by field with the merge rule (sync/merge.js),
// their clocks folded into the device's own. Functions over the caller's transaction, so a reply is
// still applied in one (Rule 3); the meta entries they move (`hlc`, `hlcSeen`, `stamp`) are the
// clock's.

import { apply, laterClock, snapshotChanges } from '../sync/merge.js';
import { unwrap } from 'idb';
import { clockFor, putClock } from './outbox.js';
import { readMany } from './read-many.js';

/** @typedef {import('../sync/merge.js').Value} Value */
/** @typedef {import('./replica.js').Snapshot} Snapshot */

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
 * Merge snapshots (`{scope, collection, id, fields, clocks}`) as changes, one per clock.
 * @param {any} tx
 * @param {Snapshot[]} snapshots
 * @param {number} correctedMs
 * @returns {Promise<{keys: string[], records: [string, Snapshot][]}>}
 */
export async function mergeRecords(tx, snapshots, correctedMs) {
  const changes = [];
  for (const record of snapshots) {
    for (const { fields, hlc } of snapshotChanges(record.fields, record.clocks)) {
      changes.push({ collection: record.collection, id: record.id, scope: record.scope, fields, hlc });
    }
  }
  const merged = await mergeWith(tx, changes, correctedMs);
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
export async function mergeWith(tx, changes, correctedMs, known = null) {
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
  // Plain IDB puts, not idb's: its promise and two listeners per request cost ~25 µs each on the
  // page's thread (a reply of 500: ~12 ms), and nothing here waits for a put, only for the commit.
  const raw = /** @type {IDBObjectStore} */ (/** @type {unknown} */ (unwrap(records)));
  for (const record of touched.values()) if (record) raw.put(record);
  if (clock) putClock(meta, clock.last);
  meta.put(top ?? '', 'hlcSeen');
  return { keys, records: /** @type {[string, Snapshot][]} */ ([...touched]) };
}
