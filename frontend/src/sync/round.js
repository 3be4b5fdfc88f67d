// One sync: push the outbox and pull changes with POST /api/sync until the server has nothing
// more (PROTOCOL.md, "POST /api/sync"). Shared by the page's engine and the service worker's
// background sync, so it touches no DOM and keeps no state of its own.
//
// Error paths, each handled here or passed up as an ApiError:
// - 409 clock_ahead: adopt server_time, restamp pending, retry (at most 3 times);
// - 400 invalid_change / forged_field: the mutation named by `field` (changes[i]) moves to
//   `failed` with the server's reason; without an index, push one at a time to find it;
// - 413 too_large: push fewer mutations per request; one alone that is too large fails;
// - everything else (network, 401, 426, 429, 5xx) goes to the caller.

import { ApiError } from './transport.js';

export const MAX_PUSH = 500;
/** A new device (or a newly visible channel) starts from a snapshot with this many messages. */
export const RECENT = 50;
/** Most changes a reply carries (the request's `limit`). */
export const LIMIT = 1000;
/** @typedef {{pending: any[], cursors: Record<string, number>, reply?: Promise<any>}} First */
const MAX_ROUNDS = 100;
/**
 * A backlog is read from the outbox this many requests' worth at a time: an outbox read waits
 * behind the reply's apply transaction before it (IndexedDB runs them in order), so one read per
 * request held the next request back by up to the length of an apply (~100 ms, coming back online).
 */
export const READ_AHEAD = 10;

/** `changes[3].fields.text` -> 3 */
export function changeIndex(field) {
  const match = /^\$?\.?changes\[(\d+)\]/.exec(field ?? '');
  return match ? Number(match[1]) : null;
}

const wire = ({ mid, collection, id, fields, hlc }) => ({ mid, collection, id, fields, hlc });

/**
 * What one sync changed: record keys, dropped keys, and the mids that left the outbox (acked, or
 * moved to `failed`), so the store can update its pending overlay without re-reading the outbox.
 * `records` holds the touched records as stored (the last version of each), so the store need not
 * read them back.
 * @typedef {{keys: Set<string>, records: Map<string, any>, dropped: string[], outbox: boolean, rounds: number, acked: number[], rejected: number[], live?: boolean}} SyncResult
 */

/**
 * @param {import('../replica/replica.js').Replica} replica
 * @param {{sync: (body: object) => Promise<any>}} transport
 * @param {{now?: () => number, limit?: number, recent?: number, size?: number,
 *   first?: First | Promise<First> | null, pipelined?: boolean, onRound?: ((part: SyncResult) => void) | null,
 *   stopped?: () => boolean}} [options]
 *   `size`: most mutations per request (MAX_PUSH, the server's limit); `first`: the first request's
 *   outbox and cursors, already read with the write that started this sync, and with `reply` when
 *   that request has already gone (the send worker, sender.js). A `first` that fails (the write did
 *   not happen) is ignored: the round reads the outbox itself. `pipelined`: false sends a backlog's
 *   next request only once the reply before it is being applied (see `follow`; an A/B of the
 *   benchmark). `onRound`: with a backlog (the next request already sent), each reply's part is
 *   handed over as soon as it is applied, so the store shows it while the server works on the next
 *   batch; the result then holds only what was not handed over. `stopped`: true once the engine was stopped
 *   (sign-out): a reply that arrives after that is not applied, and nothing more is sent. The
 *   sign-out clears the replica in a transaction made after the stop, so an apply begun before it
 *   runs first (IndexedDB keeps the order) and one begun after it cannot put the last session's
 *   records back.
 * @returns {Promise<SyncResult>}
 */
export async function syncUntilDone(replica, transport, { now = Date.now, limit = LIMIT, recent = RECENT, size: most = MAX_PUSH, first = null, pipelined = true, onRound = null, stopped = () => false } = {}) {
  /** @type {First | null} */
  let given = first instanceof Promise ? await first.catch(() => null) : first;
  /** @type {SyncResult} */
  const result = { keys: new Set(), records: new Map(), dropped: [], outbox: false, rounds: 0, acked: [], rejected: [] };
  let size = most;
  let clockRetries = 0;
  /** The next request, already sent while the last reply was being applied (see `ahead`). */
  /** @type {Flight | null} */
  let next = null;
  /** A backlog's chain of requests stops when this sync does (or drops what it sent ahead). */
  const chain = { stopped: false, pipelined };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const current = next;
    const { pending, cursors } = next ?? given ?? (await replica.outgoing(size));
    const gone = next?.reply ?? given?.reply ?? null; // a request that has already left
    given = null; // read with the write that started this sync (Replica#writeToSend): once
    let response;
    const sending = gone ?? transport.sync({ changes: pending.map(wire), cursors, limit, recent });
    // A full request: the batches after it are read now, while it is at the server (READ_AHEAD).
    // (A request sent ahead read them with its own, or reads them itself: `follow`.)
    /** @type {Promise<any[]>} */
    const spare = current
      ? Promise.resolve(current.spare)
      : pending.length >= size
        ? replica.outgoing(size * READ_AHEAD, pending[pending.length - 1].mid).then(
            (read) => read.pending,
            () => [],
          )
        : Promise.resolve([]);
    try {
      response = await sending;
    } catch (error) {
      next = null;
      if (!(error instanceof ApiError)) throw error;
      const handled = await recover(error, pending, replica, now, { clockRetries, size });
      if (!handled) throw error;
      if (handled.clock) clockRetries += 1;
      if (handled.size) size = handled.size;
      if (handled.failed) {
        result.outbox = true;
        result.rejected.push(handled.failed);
      }
      continue;
    }
    next = null;
    if (stopped()) break;
    result.rounds += 1;
    const full = pending.length >= size;
    size = most;
    // A backlog (a device back online with thousands queued): the next batch goes out now, while
    // this reply is applied, so the server's work and ours overlap instead of taking turns.
    // (A request that was itself sent ahead has sent its follower already, when its reply came.)
    if (full) next = await (current?.after ?? ahead(replica, transport, pending, cursors, response, { limit, recent, size, chain }, spare));
    const applied = await replica.applyResponse(response, now(), cursors);
    for (const key of applied.keys) result.keys.add(key);
    for (const [key, record] of applied.records ?? []) result.records.set(key, record);
    result.dropped.push(...applied.dropped);
    result.acked.push(...applied.acked);
    result.rejected.push(...applied.rejected);
    if (applied.acked.length || applied.rejected.length) result.outbox = true;
    if (next) {
      // Its cursors assumed this reply applied in full: when a scope was dropped, ask again.
      if (applied.dropped.length) {
        next.reply.catch(() => {}); // its pushes stay queued and go again (mids make that safe)
        next = null;
        chain.stopped = true;
      } else if (onRound) {
        onRound({ ...result, keys: new Set(result.keys), records: new Map(result.records) });
        Object.assign(result, { keys: new Set(), records: new Map(), dropped: [], outbox: false, acked: [], rejected: [] });
      }
      continue;
    }
    if (response.more) continue;
    const progress = applied.acked.length + applied.rejected.length > 0;
    // The rest of a push split by size: go again. What was written while this request was in
    // flight is not taken here: the engine runs one more sync for it (coalescing), and a lazy
    // write (a read cursor) waits for the next sync instead of forcing one now.
    if (full && progress && (await replica.pendingCount()) > 0) continue;
    break;
  }
  next?.reply.catch(() => {});
  chain.stopped = true;
  return result;
}

/**
 * A request sent ahead: its outbox part, its cursors, its reply to come, the mutations read past
 * it (`spare`), and (when it was full) `after`, the request after it, sent as soon as this reply arrives.
 * @typedef {{pending: any[], cursors: Record<string, number>, reply: Promise<any>, spare: any[], after: Promise<Flight | null> | null}} Flight
 */

/**
 * Send the request after `response` before it is applied: the pending mutations past the ones
 * just pushed, and the cursors the reply will leave. It is only taken after this reply applied
 * (replies are applied in order, each in its own transaction), so a failure here changes
 * nothing: what it pushed stays in the outbox and goes again; a pushed mid is applied once.
 * @returns {Promise<Flight | null>}
 */
async function ahead(replica, transport, pushed, sent, response, { limit, recent, size, chain }, spare) {
  if (response.rejections?.length) return null; // a refusal may need the one-by-one path
  const after = pushed[pushed.length - 1]?.mid ?? 0;
  const read = await spare; // read while `pushed` was at the server; a part of a batch is read again
  const batch = read.length >= size ? read : (await replica.outgoing(size * READ_AHEAD, after)).pending;
  return follow(replica, transport, batch, sent, response, { limit, recent, size, chain });
}

/**
 * Send the first `size` of `batch` with the cursors `response` leaves (see `ahead`). A full one
 * also has the batch past it (read with it, or read now, while it is at the server), and sends
 * that one the moment its reply arrives, before the reply before it has been applied: the server
 * works through a backlog without waiting for the device's applies, and no outbox read stands
 * between a reply and the next request. Replies are still applied in order, one transaction each
 * (syncUntilDone). Mutations read ahead that are gone by the time they leave (superseded, acked)
 * are harmless: a pushed mid is applied once, and an ack of a mid we no longer hold changes nothing.
 * @returns {Flight | null}
 */
function follow(replica, transport, batch, sent, response, { limit, recent, size, chain }) {
  const pending = batch.slice(0, size);
  const spare = batch.slice(size);
  if (chain.stopped || response.rejections?.length) return null;
  if (!pending.length && !response.more) return null;
  const cursors = { ...sent };
  for (const [scope, seq] of Object.entries(response.cursors ?? {})) cursors[scope] = Math.max(seq, cursors[scope] ?? 0);
  if (response.scopes?.length) {
    const visible = new Set(response.scopes);
    for (const scope of Object.keys(cursors)) if (!visible.has(scope)) delete cursors[scope];
  }
  const reply = transport.sync({ changes: pending.map(wire), cursors, limit, recent });
  reply.catch(() => {}); // awaited (and its error handled) by the next round
  /** @type {Flight} */
  const flight = { pending, cursors, reply, spare, after: null };
  if (chain.pipelined && pending.length >= size) {
    const last = pending[pending.length - 1].mid;
    const following = spare.length >= size ? Promise.resolve({ pending: spare }) : replica.outgoing(size * READ_AHEAD, last).catch(() => null);
    flight.after = reply.then(
      async (answer) => {
        const read = await following;
        return read ? follow(replica, transport, read.pending, cursors, answer, { limit, recent, size, chain }) : null;
      },
      () => null,
    );
  }
  return flight;
}

async function recover(error, pending, replica, now, { clockRetries, size }) {
  const { status, code, body } = error;
  if (status === 409 && code === 'clock_ahead' && typeof body.server_time === 'number' && clockRetries < 3) {
    await replica.restamp(body.server_time, now());
    return { clock: true };
  }
  if (status === 400 && pending.length && (code === 'invalid_change' || code === 'forged_field')) {
    const index = changeIndex(body.field);
    if (index !== null && pending[index]) {
      await replica.fail(pending[index].mid, code, error.message, now());
      return { failed: pending[index].mid };
    }
    if (pending.length > 1) return { size: 1 };
    await replica.fail(pending[0].mid, code, error.message, now());
    return { failed: pending[0].mid };
  }
  if (status === 413 && pending.length) {
    if (pending.length > 1) return { size: Math.max(1, Math.floor(Math.min(size, pending.length) / 2)) };
    await replica.fail(pending[0].mid, code, error.message, now());
    return { failed: pending[0].mid };
  }
  return null;
}
