// The outbox: how local changes become pending mutations (replica.js, Rules 2 and 4). A write
// stamps its changes (mid counter, HLC from corrected time) and puts them, with its meta entries,
// in one readwrite transaction over `outbox` and `meta`; `fail`, `retry` and `restamp` move or
// re-stamp mutations the same way. The functions take the idb database (or a transaction) and
// leave error mapping to Replica (storageError).

import { unwrap } from 'idb';
import { Clock } from '../sync/hlc.js';

/** @typedef {import('./replica.js').LocalChange} LocalChange */
/** @typedef {import('./replica.js').Mutation} Mutation */

/** @type {(collection: string, id: string) => string} */
const keyOf = (collection, id) => `${collection}/${id}`;

/**
 * @param {string} device
 * @param {string | null | undefined} last
 */
export function clockFor(device, last) {
  return last ? new Clock(device, last) : new Clock(device);
}

/**
 * The stamp state a write starts from: the device, its clock, the clock offset, the next mid, and
 * `stamp`, a token every writer of the clock or the mid counter replaces (see OutboxWriter in outbox-writer.js, Rule 1).
 * @typedef {{device: string, clock: Clock, offset: number, nextMid: number, token: string | null}} StampState
 */

/** A token no other write has: the mark a write of the stamp state leaves in meta `stamp`. */
export function newToken() {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/**
 * Store the device clock after it moved (it observed a newer clock, or was set back after
 * clock_ahead), with a new `stamp` token: a stamp state cached from before is stale (Rule 1 of
 * OutboxWriter), so no grouped write is stamped below a clock the device has seen.
 * @param {any} meta the `meta` store of a readwrite transaction (idb or plain)
 * @param {string} last
 */
export function putClock(meta, last) {
  meta.put(last, 'hlc');
  meta.put(newToken(), 'stamp');
}

/**
 * Read the stamp state in a readwrite transaction over `meta`.
 * @param {any} meta
 * @returns {Promise<StampState>}
 */
export async function readStamp(meta) {
  const [device, last, offset, nextMid, token] = await Promise.all(
    ['device', 'hlc', 'offset', 'nextMid', 'stamp'].map((key) => meta.get(key)),
  );
  if (!device) throw new Error('no device: sign in first');
  return { device, clock: clockFor(device, last), offset: offset ?? 0, nextMid: nextMid ?? 1, token: token ?? null };
}

/** The plain IDBTransaction under an idb one. @param {any} tx @returns {IDBTransaction} */
const rawTx = (tx) => /** @type {any} */ (unwrap(tx));

/**
 * Stamp changes from `state`, which moves on (the next mids, clock ticks from corrected time).
 * @param {StampState} state
 * @param {LocalChange[]} changes
 * @param {number} wallMs
 * @returns {Mutation[]}
 */
export function stamp(state, changes, wallMs) {
  return changes.map(({ collection, id, fields }) => ({
    mid: state.nextMid++,
    collection,
    id,
    fields,
    hlc: state.clock.tick(wallMs + state.offset),
  }));
}

/**
 * Put stamped mutations (and meta entries) in the outbox with the stamp state they leave and a new
 * token, inside the caller's readwrite transaction over `outbox` and `meta`.
 * @param {any} tx
 * @param {StampState} state
 * @param {{mutations: Mutation[], metaEntries?: Record<string, unknown>}[]} writes
 */
export function putStamped(tx, state, writes) {
  // Raw IndexedDB stores: no promise per put (idb makes one each, and an aborted group would
  // leave every one of them rejected with nobody listening).
  const raw = rawTx(tx);
  const outbox = raw.objectStore('outbox');
  const meta = raw.objectStore('meta');
  for (const { mutations, metaEntries = {} } of writes) {
    for (const mutation of mutations) outbox.put(mutation);
    for (const [key, value] of Object.entries(metaEntries)) meta.put(value ?? null, key);
  }
  meta.put(state.nextMid, 'nextMid');
  meta.put(state.clock.last, 'hlc');
  state.token = newToken();
  meta.put(state.token, 'stamp');
}

/**
 * Stamp changes as the device's next mutations (mid counter, HLC from corrected time) and put
 * them in the outbox, inside the caller's readwrite transaction over `outbox` and `meta`.
 * @param {any} tx an idb readwrite transaction over `outbox` and `meta`
 * @param {LocalChange[]} changes
 * @param {number} wallMs
 * @returns {Promise<Mutation[]>}
 */
export async function queue(tx, changes, wallMs) {
  const state = await readStamp(tx.objectStore('meta'));
  const mutations = stamp(state, changes, wallMs);
  putStamped(tx, state, [{ mutations }]);
  return mutations;
}

/**
 * Fold superseded pending mutations into the changes that replace them (see Replica#write).
 * @param {any} outbox the outbox store of a readwrite transaction
 * @param {LocalChange[]} changes
 * @param {number[]} mids
 * @returns {Promise<LocalChange[]>}
 */
export async function fold(outbox, changes, mids) {
  const old = await Promise.all(mids.map((mid) => outbox.get(mid)));
  const byKey = new Map();
  for (const mutation of old) {
    if (!mutation) continue;
    const key = keyOf(mutation.collection, mutation.id);
    if (!changes.some((c) => keyOf(c.collection, c.id) === key)) continue;
    byKey.set(key, { ...byKey.get(key), ...mutation.fields });
    outbox.delete(mutation.mid);
  }
  return changes.map((c) => {
    const under = byKey.get(keyOf(c.collection, c.id));
    return under ? { ...c, fields: { ...under, ...c.fields } } : c;
  });
}

/**
 * Delete mids from the outbox: a run of consecutive mids (a backlog's acks) as one range delete,
 * not one request each; anything else one by one.
 * @param {any} outbox
 * @param {number[]} mids
 */
export function deleteMids(outbox, mids) {
  if (mids.length > 1) {
    const low = Math.min(...mids);
    const high = Math.max(...mids);
    if (high - low + 1 === mids.length && new Set(mids).size === mids.length) {
      outbox.delete(IDBKeyRange.bound(low, high));
      return;
    }
  }
  for (const mid of mids) outbox.delete(mid);
}

/**
 * A stamp state one writer keeps between its writes (the send worker's replica), so that a write
 * reads no meta before its puts: `state` is what its last committed write left, or null.
 * @typedef {{state: StampState | null}} StampCache
 */

/**
 * @param {any} db the idb database
 * `write`, and with `limit` > 0 also what the sync request that sends it will carry (as
 * `outgoing` reads it), in the same transaction: a send that leaves at once needs no second one.
 *
 * With a `cache` holding a stamp state (and nothing to fold), the write is stamped from it and
 * checked inside its own transaction (as OutboxWriter's groups are, outbox-writer.js Rule 1): its
 * first requests read meta `device`, `nextMid`, `hlc` and `offset`, the puts and the request's
 * reads follow at once, and the check's answer (which comes before the others) commits the
 * transaction, or aborts it unless the device is the same, its first mid is the stored `nextMid`
 * (a mid is never used twice), its first stamp is above the stored `hlc` (a stamp never goes
 * below a clock the device has seen) and the offset moved by at most a second. One IndexedDB
 * round trip before the commit instead of two (the stamp read, then the puts). A stale cache
 * costs the aborted attempt, then the write reads the stamp state as without a cache.
 * @param {LocalChange[]} changes
 * @param {number} wallMs
 * @param {Record<string, unknown>} [metaEntries]
 * @param {number[]} [supersede]
 * @param {number} [limit]
 * @param {StampCache | null} [cache]
 * @returns {Promise<{mutations: Mutation[], outgoing: {pending: Mutation[], cursors: Record<string, number>} | null}>}
 */
export async function writeToSend(db, changes, wallMs, metaEntries = {}, supersede = [], limit = 500, cache = null) {
  const cached = cache?.state && !supersede.length ? cache.state : null;
  if (cache) cache.state = null; // taken: it is put back only by a write that committed
  if (cached) {
    const written = await writeStamped(db, cached, changes, wallMs, metaEntries, limit);
    if (written) {
      if (cache) cache.state = cached;
      return written;
    }
  }
  const tx = db.transaction(['outbox', 'meta'], 'readwrite');
  if (supersede.length) changes = await fold(tx.objectStore('outbox'), changes, supersede);
  const state = await readStamp(tx.objectStore('meta'));
  const { mutations, read } = putAll(tx, state, changes, wallMs, metaEntries, limit);
  // Every request is made: commit with them, rather than once their results have come back to
  // this thread (auto-commit would put one more IndexedDB round trip before the POST).
  tx.commit?.();
  const [outgoing] = await Promise.all([read, tx.done]);
  if (cache) cache.state = state;
  return { mutations, outgoing };
}

/**
 * The cached way of writeToSend: null when the stamp state had moved (nothing was written).
 * @param {any} db
 * @param {StampState} state
 * @param {LocalChange[]} changes
 * @param {number} wallMs
 * @param {Record<string, unknown>} metaEntries
 * @param {number} limit
 */
async function writeStamped(db, state, changes, wallMs, metaEntries, limit) {
  const tx = db.transaction(['outbox', 'meta'], 'readwrite');
  const meta = tx.objectStore('meta');
  const { device, nextMid, offset } = state;
  let stale = false;
  // The first requests, so their answers come before any of the puts below can commit. They check
  // what a fresh read of the stamp state would give, not the token: a reply that only moved the
  // clock (every message another device sends) leaves this write good when its stamps are still
  // above that clock, as they are when they were made after it.
  const check = Promise.all(['device', 'nextMid', 'hlc', 'offset'].map((key) => meta.get(key))).then(
    ([storedDevice, storedMid, storedHlc, storedOffset]) => {
      const good =
        storedDevice === device &&
        (storedMid ?? 1) === nextMid &&
        (!storedHlc || !mutations.length || storedHlc < mutations[0].hlc) &&
        Math.abs((storedOffset ?? 0) - offset) <= 1000;
      if (good) tx.commit?.();
      else {
        stale = true;
        tx.abort();
      }
    },
  );
  check.catch(() => {}); // (awaited below, unless putAll throws first)
  const { mutations, read } = putAll(tx, state, changes, wallMs, metaEntries, limit);
  try {
    const [, outgoing] = await Promise.all([check, read, tx.done]);
    return { mutations, outgoing };
  } catch (error) {
    if (stale) return null;
    throw error;
  }
}

/**
 * Stamp `changes` from `state` and put them with the stamp state and the meta entries, then (with
 * `limit` > 0) read the request that sends them: requests in a transaction run in order, so the
 * read sees the puts. A value that cannot be stored throws here: the transaction is aborted, so
 * none of the puts made before it commits.
 * @param {any} tx a readwrite transaction over `outbox` and `meta`
 * @param {StampState} state
 * @param {LocalChange[]} changes
 * @param {number} wallMs
 * @param {Record<string, unknown>} metaEntries
 * @param {number} limit
 */
function putAll(tx, state, changes, wallMs, metaEntries, limit) {
  try {
    const mutations = stamp(state, changes, wallMs);
    putStamped(tx, state, [{ mutations }]);
    const meta = tx.objectStore('meta');
    for (const [key, value] of Object.entries(metaEntries)) meta.put(value ?? null, key);
    /** @type {Promise<{pending: Mutation[], cursors: Record<string, number>} | null>} */
    const read =
      limit > 0
        ? Promise.all([tx.objectStore('outbox').getAll(null, limit), meta.get('cursors')]).then(([pending, cursors]) => ({
            pending,
            cursors: cursors ?? {},
          }))
        : Promise.resolve(null);
    return { mutations, read };
  } catch (error) {
    tx.abort();
    tx.done.catch(() => {});
    throw error;
  }
}

/**
 * @param {any} db the idb database
 * Move a mutation from the outbox to `failed` (a client-side refusal, e.g. invalid_change).
 * @param {number} mid
 * @param {string} code
 * @param {string} reason
 * @param {number} wallMs
 */
export async function fail(db, mid, code, reason, wallMs) {
  const tx = db.transaction(['outbox', 'failed'], 'readwrite');
  const mutation = await tx.objectStore('outbox').get(mid);
  if (mutation) {
    tx.objectStore('failed').put({ ...mutation, code, reason, failedAt: wallMs });
    tx.objectStore('outbox').delete(mid);
  }
  await tx.done;
}

/**
 * @param {any} db the idb database
 * Write a failed mutation again, as a new mutation (new mid, new clock).
 * @param {number} mid
 * @param {number} wallMs
 * @returns {Promise<Mutation | null>}
 */
export async function retry(db, mid, wallMs) {
  const tx = db.transaction(['outbox', 'failed', 'meta'], 'readwrite');
  const failed = await tx.objectStore('failed').get(mid);
  if (!failed) {
    await tx.done;
    return null;
  }
  const [mutation] = await queue(tx, [failed], wallMs);
  tx.objectStore('failed').delete(mid);
  await tx.done;
  return mutation;
}

/**
 * @param {any} db the idb database
 * After 409 clock_ahead: adopt the server's time and stamp every pending mutation again,
 * oldest first, from corrected time.
 * @param {number} serverTime
 * @param {number} wallMs
 */
export async function restamp(db, serverTime, wallMs) {
  const tx = db.transaction(['outbox', 'meta'], 'readwrite');
  const meta = tx.objectStore('meta');
  const offset = serverTime - wallMs;
  const [device, seen] = await Promise.all([meta.get('device'), meta.get('hlcSeen')]);
  // Start from what the server has shown us, not from our own (too far ahead) stamps.
  const clock = clockFor(device, seen);
  const pending = await tx.objectStore('outbox').getAll();
  for (const mutation of pending) {
    tx.objectStore('outbox').put({ ...mutation, hlc: clock.tick(wallMs + offset) });
  }
  meta.put(offset, 'offset');
  putClock(meta, clock.last);
  await tx.done;
}
