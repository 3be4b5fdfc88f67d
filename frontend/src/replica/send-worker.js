// A dedicated worker for the page's writes (issue 17): a write to the outbox, and for a send that
// leaves at once its POST /api/sync too, happen here, off the page's main thread. After a real
// click Chromium draws the click's frame before it hands IndexedDB results back to the page
// (~11 ms), and a page that draws every frame (a burst of offline sends) delays each result the
// same way; a worker's event loop has no frames, so the write is durable (and the request leaves)
// as soon as IndexedDB is done.
//
// Rule 1. The write (outbox + meta, Replica#writeToSend) commits before the request is made: a
//         crash never loses a sent message (ARCHITECTURE.md, Durability; the outbox rule).
// Rule 2. The page applies the reply (round.js, its own Replica): this worker only writes and sends.
// Rule 3. Errors go back as plain data: {name, kind, message} for storage, {status, body} for HTTP.
// Rule 4. The request goes over the worker's sync socket while it is open (sync/sync-socket.js:
//         a fetch costs Chromium ~3.5 ms more), else it is POSTed. A request the socket dropped
//         is POSTed at once: the outcome was unknown, and its mids make the retry apply once.
// Rule 5. The worker keeps the stamp state its last write left (outbox.js, StampCache): its next
//         write puts at once and checks the state in the same IndexedDB round trip, instead of
//         reading it first. When another writer took the next mid or moved the clock past the
//         next stamp (the page, another tab, a reply), that write reads the state as before.

import { Replica } from './replica.js';
import { ApiError, Transport } from '../sync/transport.js';
import { SyncSocket } from '../sync/sync-socket.js';

let csrf = null;
const transport = new Transport({ csrf: () => csrf });
/** @type {Promise<Replica> | null} */
let opening = null;

function replica() {
  // Another tab upgrading the schema closes our connection: open again on the next send.
  opening ??= Replica.open(undefined, { onVersionChange: () => (opening = null), onTerminated: () => (opening = null) });
  opening.catch(() => (opening = null));
  return opening;
}

const socket = typeof WebSocket === 'function' ? new SyncSocket(SyncSocket.urlFor(self.location)) : null;
// A network that went away may leave the socket looking open, with frames going nowhere: what it
// owes is POSTed (and fails as offline, as a POST in flight would), and the next send opens a new one.
self.addEventListener('offline', () => socket?.close());

/**
 * Rule 4.
 * @param {{changes: any[], cursors: Record<string, number>, limit?: number, recent?: number}} body
 * @param {string | undefined} device the device the request is for (the stamp state's)
 * @param {boolean} useSocket
 * @returns {{reply: Promise<any>, via: 'socket' | 'post'}}
 */
function sync(body, device, useSocket) {
  const sent = useSocket && device ? socket?.sync(body, device) : null;
  if (!sent) return { reply: transport.sync(body), via: 'post' };
  const reply = sent.catch((error) => {
    // Dropped (outcome unknown) or let in with a session that is gone: POSTed, with today's cookie.
    if (error instanceof ApiError && (error.status === 0 || error.status === 401)) return transport.sync(body);
    throw error;
  });
  return { reply, via: 'socket' };
}

/** @type {import('./outbox.js').StampCache} */
const stamps = { state: null };

const now = () => performance.timeOrigin + performance.now();

self.onmessage = async ({ data }) => {
  const { id, changes, wallMs, metaEntries, supersede, limit, request } = data;
  csrf = data.csrf;
  if (data.cached === false) stamps.state = null; // read it first (the benchmark's A/B)
  let wrote;
  try {
    wrote = await (await replica()).writeToSend(changes, wallMs, metaEntries, supersede, limit, stamps);
  } catch (error) {
    const e = /** @type {any} */ (error);
    self.postMessage({ id, t: 'wrote', ok: false, error: { name: e?.name ?? 'Error', kind: e?.kind ?? null, message: String(e?.message ?? e) } });
    return;
  }
  if (stamps.state && data.socket !== false) socket?.open(stamps.state.device); // ready for the next send
  if (!limit) {
    // A write only (offline, or the engine is busy): the engine sends it when it can.
    self.postMessage({ id, t: 'wrote', ok: true, mutations: wrote.mutations, outgoing: null, postedAt: 0 });
    return;
  }
  const outgoing = /** @type {{pending: any[], cursors: Record<string, number>}} */ (wrote.outgoing);
  const wire = outgoing.pending.map(({ mid, collection, id: rid, fields, hlc }) => ({ mid, collection, id: rid, fields, hlc }));
  const wroteAt = now();
  const device = stamps.state?.device;
  const { reply, via } = sync({ changes: wire, cursors: outgoing.cursors, ...request }, device, data.socket !== false);
  const postedAt = now();
  self.postMessage({ id, t: 'wrote', ok: true, mutations: wrote.mutations, outgoing, postedAt, wroteAt, askedAt: data.askedAt, via });
  try {
    self.postMessage({ id, t: 'reply', ok: true, body: await reply });
  } catch (error) {
    const e = /** @type {any} */ (error);
    self.postMessage({ id, t: 'reply', ok: false, error: { status: e?.status ?? 0, body: e?.body ?? { error: 'network', detail: String(e?.message ?? e) } } });
  }
};
