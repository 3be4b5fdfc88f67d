// A dedicated worker for the backfill's bulk pages (sync/bulk-pages.js): fetch, MessagePack
// decode, merge and the IndexedDB puts happen here, off the page's main thread; the page gets the
// records as stored (for its store) and the new resume point. Errors go back as plain data.

import { Transport } from '../sync/transport.js';
import { BulkPages } from '../sync/bulk-pages.js';
import { Holdings } from './holdings.js';
import { partsOf } from './stored-pack.js';

let csrf = null;
let holdings = null;
const pages = new BulkPages({
  transport: new Transport({ csrf: () => csrf }),
  holdings: async () => (holdings ??= await Holdings.open()),
});

self.onmessage = async ({ data }) => {
  csrf = data.csrf;
  try {
    const { stored, ...result } = await pages.fetchAndApply(data.request);
    // The records go in parts: each message is cloned into the page as a task of its own, so the
    // page can paint between parts instead of taking a whole page's records at once. Packed
    // (stored-pack.js): each repeated string once, so the page keeps one copy of it; and small
    // enough to be cloned into the page's young generation (its Rule 4).
    for (const part of partsOf(stored)) self.postMessage({ id: data.id, part });
    self.postMessage({ id: data.id, ok: true, result });
  } catch (error) {
    const e = /** @type {any} */ (error);
    self.postMessage({
      id: data.id,
      ok: false,
      error: { message: String(e?.message ?? e), status: e?.status ?? null, offline: Boolean(e?.offline), kind: e?.kind ?? null },
    });
  }
};
