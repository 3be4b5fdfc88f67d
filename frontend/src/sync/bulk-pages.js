// Fetching and applying bulk history pages (PROTOCOL.md, "Bulk history"), one page per call, the
// next one read ahead. The same code runs in the page (no Worker) or in `bulk-worker.js`, where
// decoding, merging and the IndexedDB puts stay off the main thread.

import { resumeAfter } from '../lib/offline-plan.js';
import { unpack } from '../replica/stored-pack.js';

/** @typedef {import('../replica/holdings.js').Resume} Resume */
/** @typedef {{channel: string, before: number | null, limit: number, point: Resume | null, wallMs: number}} PageRequest */
/** @typedef {{stored: [string, any][], chunks: [string, number][], resume: Resume, count: number, applyMs: number}} PageApplied */

export class BulkPages {
  #transport;
  #holdings;
  /** The page read ahead: {channel, before, page: Promise}. */
  #ahead = /** @type {{channel: string, before: number, page: Promise<any>} | null} */ (null);

  /** @param {{transport: {bulkHistory: (r: object) => Promise<any>}, holdings: () => Promise<import('../replica/holdings.js').Holdings>}} o */
  constructor({ transport, holdings }) {
    this.#transport = transport;
    this.#holdings = holdings;
  }

  #request(channel, before, limit) {
    const hit = this.#ahead;
    this.#ahead = null;
    if (hit && hit.channel === channel && hit.before === before) return hit.page;
    return this.#transport.bulkHistory({ channel, ...(before ? { before } : {}), limit });
  }

  /** Ask for the page below `before` now; its answer waits in #ahead. */
  #askAhead(channel, before, limit) {
    const page = this.#transport.bulkHistory({ channel, before, limit });
    page.catch(() => {}); // a failed read-ahead is simply asked again
    this.#ahead = { channel, before, page };
  }

  /**
   * Fetch the page below `before`, apply it with its new resume point, and return what was stored.
   * @param {PageRequest} r
   * @returns {Promise<PageApplied>}
   */
  async fetchAndApply({ channel, before, limit, point, wallMs }) {
    const asked = this.#request(channel, before, limit);
    // The next page is asked for at once, so the server works on it while this one travels, is
    // decoded and applied. A channel's top-level numbers have no holes (PROTOCOL.md), so it starts
    // at before - limit; if this page shows otherwise, the guess is replaced below.
    const guess = before ? before - limit : null;
    if (guess !== null && guess > 1) this.#askAhead(channel, guess, limit);
    const page = await asked;
    if (!page.complete && page.low > 1 && page.low !== guess) this.#askAhead(channel, page.low, limit);
    let oldestAt = point?.oldestAt ?? null;
    let count = 0;
    for (const r of page.records) {
      if (r.collection !== 'messages' || typeof r.fields.n !== 'number') continue;
      count += 1;
      if (r.fields.n === page.low && typeof r.fields.at === 'number') oldestAt = r.fields.at;
    }
    // The point this page continues is the `before` it was asked with (the planner's trusted point).
    const resume = { low: resumeAfter(before ?? null, page), oldestAt, last: Math.max(point?.last ?? 0, page.last ?? 0) };
    const started = performance.now();
    const { stored, chunks } = await (await this.#holdings()).applyPage(page.records, wallMs, channel, resume);
    return { stored, chunks, resume, count, applyMs: performance.now() - started };
  }
}

/** The same interface, with the work done in a dedicated worker (`bulk-worker.js`). */
export class WorkerPages {
  #worker;
  #csrf;
  #next = 0;
  /** @type {Map<number, {resolve: (v: any) => void, reject: (e: any) => void, stored: [string, any][]}>} */
  #waiting = new Map();

  /** @param {Worker} worker @param {() => (string | null | Promise<string | null>)} csrf */
  constructor(worker, csrf) {
    this.#worker = worker;
    this.#csrf = csrf;
    worker.onmessage = ({ data }) => {
      const waiting = this.#waiting.get(data.id);
      if (!waiting) return;
      if (data.part) {
        for (const entry of unpack(data.part)) waiting.stored.push(entry);
        return;
      }
      this.#waiting.delete(data.id);
      if (data.ok) waiting.resolve({ ...data.result, stored: waiting.stored });
      else waiting.reject(Object.assign(new Error(data.error.message), data.error));
    };
    worker.onerror = (event) => {
      for (const waiting of this.#waiting.values()) waiting.reject(new Error(event.message || 'bulk worker failed'));
      this.#waiting.clear();
    };
  }

  /** @param {PageRequest} r @returns {Promise<PageApplied>} */
  async fetchAndApply(r) {
    const id = ++this.#next;
    const csrf = await this.#csrf();
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject, stored: [] });
      this.#worker.postMessage({ id, csrf, request: r });
    });
  }

  close() {
    this.#worker.terminate();
  }
}
