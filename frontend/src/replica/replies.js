// Applying what the server sends (replica.js, Rule 3): a /api/sync reply (acks, rejections, changes,
// snapshots, cursors, dropped scopes) and a live `changes` frame, each in one transaction, so a
// crash mid-way leaves the previous state. The merging itself is records.js; the scope rule and
// the drop are scope-drop.js. Replica (replica.js) calls these and maps IndexedDB errors.

import { STORES } from './db.js';
import { deleteMids } from './outbox.js';
import { readMany } from './read-many.js';
import { keyOf, mergeRecords, mergeWith, splitKey } from './records.js';
import { dropScopesExcept, holdsOthers, stillHeld } from './scope-drop.js';

/** @typedef {import('./replica.js').SyncReply} SyncReply */
/** @typedef {import('./replica.js').LiveChanges} LiveChanges */
/** @typedef {import('./replica.js').Applied} Applied */
/** @typedef {import('./replica.js').Snapshot} Snapshot */

/**
 * Apply one /api/sync reply (PROTOCOL.md, rules 1-7) in one transaction. `sent` is the cursors
 * its request carried: a scope's part is applied only while this device still holds the scope
 * at least that far (`holdsSince`), so a late reply never refills a dropped scope or hides a hole.
 * Returns what changed: `{keys, dropped, acked, rejected}`.
 * @param {any} db the replica's database (db.js)
 * @param {SyncReply} response
 * @param {number} wallMs
 * @param {Record<string, number> | null} [sent]
 * @returns {Promise<Applied>}
 */
export async function applyResponse(db, response, wallMs, sent = null) {
  const tx = db.transaction(STORES, 'readwrite');
  const meta = tx.objectStore('meta');
  const outbox = tx.objectStore('outbox');
  const rejections = response.rejections ?? [];
  const visible = response.scopes?.length ? new Set(response.scopes) : null;
  // Every read this needs, at once: one round trip to IndexedDB, then the writes and the commit.
  // (It was nine with four scopes held: the cursors twice, the merge's reads, a walk of the scope
  // index one step per scope, the held chunks' keys, then auto-commit. Coming back online the
  // replies' applies follow one another, each waiting on a busy IndexedDB, and they were the
  // critical path: 75-310 ms per reply of 500 under load.) The records of every change are read,
  // also those of a scope the reply turns out no longer to apply to.
  const unique = [...new Set((response.changes ?? []).map((c) => keyOf(c.collection, c.id)))];
  const [[held, device, last, seen], refused, found, lost] = await Promise.all([
    Promise.all(['cursors', 'device', 'hlc', 'hlcSeen'].map((key) => meta.get(key))),
    Promise.all(rejections.map((r) => outbox.get(r.mid))),
    readMany(tx.objectStore('records'), unique.map(splitKey)),
    visible ? holdsOthers(tx, visible) : false,
  ]);
  if (sent) response = stillHeld(response, held ?? {}, sent);
  const offset = response.server_time - wallMs;
  meta.put(offset, 'offset');

  deleteMids(outbox, response.acks ?? []);
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

  const read = new Map(unique.map((key, i) => [key, found[i] ?? null]));
  const merged = await mergeWith(tx, response.changes ?? [], wallMs + offset, { device, last, seen, found: read });
  const snapshots = await mergeRecords(tx, response.records ?? [], wallMs + offset);
  const keys = [...merged.keys, ...snapshots.keys];
  const records = new Map([...merged.records, ...snapshots.records]);

  const cursors = { ...(held ?? {}) };
  for (const [scope, seq] of Object.entries(response.cursors ?? {})) {
    cursors[scope] = Math.max(seq, cursors[scope] ?? 0);
  }
  let dropped = [];
  if (visible) {
    // Only when something is held outside the scopes listed: a walk of what is held, to drop it.
    if (lost) dropped = await dropScopesExcept(tx, visible);
    for (const scope of Object.keys(cursors)) if (!visible.has(scope)) delete cursors[scope];
    meta.put([...visible], 'scopes');
  }
  meta.put(cursors, 'cursors');
  tx.commit?.(); // every write is queued: commit with them, not one more round trip later
  await tx.done;
  return {
    keys,
    records: [...records],
    dropped,
    acked: response.acks ?? [],
    rejected: (response.rejections ?? []).map((r) => r.mid),
  };
}

/**
 * Apply a live `changes` frame if it continues our cursor for its scope.
 * Returns `{applied: true, keys}` or `{applied: false}` (a gap: the caller runs a sync).
 * @param {any} db
 * @param {LiveChanges} frame
 * @param {number} wallMs
 * @returns {Promise<{applied: boolean, keys?: string[], records?: [string, Snapshot][]}>}
 */
export async function applyLive(db, frame, wallMs) {
  // Records and meta only: a local write (outbox, meta) waits for it no longer than it must.
  // Relaxed durability, said rather than left to the browser's default (which is relaxed in
  // Chromium 156: measured on disk, default 1.9 ms = relaxed 1.9, strict 2.4): a frame lost to a
  // power cut is pulled again, since its cursor is written in this same transaction. Never for
  // the outbox, which holds what a person typed.
  const tx = db.transaction(['records', 'meta'], 'readwrite', { durability: 'relaxed' });
  const meta = tx.objectStore('meta');
  // Every meta entry this needs and every record the frame touches, at once: one round trip
  // (the records are read even when the frame turns out not to continue our cursor).
  const records = tx.objectStore('records');
  const unique = [...new Set(frame.changes.map((c) => keyOf(c.collection, c.id)))];
  const [[held, offset, device, last, seen], found] = await Promise.all([
    Promise.all(['cursors', 'offset', 'device', 'hlc', 'hlcSeen'].map((key) => meta.get(key))),
    readMany(records, unique.map(splitKey)), // a frame of one message: one get, as before
  ]);
  const cursors = { ...(held ?? {}) };
  if ((cursors[frame.scope] ?? 0) !== frame.prev) {
    await tx.done;
    return { applied: false };
  }
  const read = new Map(unique.map((key, i) => [key, found[i] ?? null]));
  const merged = await mergeWith(tx, frame.changes, wallMs + (offset ?? 0), { device, last, seen, found: read });
  const top = frame.changes.reduce((most, change) => Math.max(most, change.seq), frame.prev);
  cursors[frame.scope] = top;
  meta.put(cursors, 'cursors');
  // Every put is queued: commit now, with them, rather than after their results have come
  // back to this thread (auto-commit would cost the live path one more IndexedDB round trip).
  tx.commit?.();
  await tx.done;
  return { applied: true, keys: merged.keys, records: merged.records };
}
