// The background backfill (frontend/README.md, "Keep offline"): fills channels kept "Last 30 days"
// or "Everything" from the top down in bulk pages, evicts at the budget. It runs in the leader tab
// (the tab that syncs: one fetcher per device, beside the one sync engine; the service worker only
// wakes pages and never holds app logic). The planner (lib/offline-plan.js) decides every step.
//
// Rule 1. One step at a time: plan, do, then yield to the event loop before the next, so a page's
//         work never stands between a click and its handler for longer than one step.
// Rule 2. A page, its records and its resume point are one transaction (replica/holdings.js):
//         after a reload the backfill resumes from the stored point, without duplicates or holes.
// Rule 3. Paused (offline, saveData, budget, an error) it sleeps until something changes: back
//         online, the connection's saveData, a keep choice, the budget; an error retries in 30 s.
// Rule 5. One page is read ahead while the current one is applied (same channel, next `before`).
// Rule 6. Fetching, decoding, merging and the puts run in a dedicated worker (replica/bulk-worker.js)
//         when the build made one; the page only hands the stored records to its store.
// Rule 7. The worker does not apply page k+1 while this thread takes page k in (it only reads it
//         ahead, sync/bulk-pages.js): tried, it finished sooner but kept this thread busy back to
//         back, and a click waited over 100 ms in 3 of 8 runs on the loaded machine (0 of 4 without).
// Rule 4. Unread counts and read cursors come from `n` and the `reads` records; neither is
//         touched here, and eviction never takes a channel's newest messages (the planner's floor).

import { signal, effect } from '@preact/signals';
import { nextStep, evictionPlan, defaultBudget, BULK_PAGE } from '../lib/offline-plan.js';
import { BulkPages, WorkerPages } from '../sync/bulk-pages.js';
import { recordBytes } from './offline.js';

const RETRY_MS = 30_000;
const PATCH_CHUNK = 2500;
export const BUDGET_KEY = 'offlineBudget';

const yieldToUI = () =>
  /** @type {any} */ (globalThis).scheduler?.yield?.() ?? new Promise((resolve) => setTimeout(resolve, 0));

export class Backfill {
  /** {state: 'idle' | 'running' | 'paused', reason: string | null, channel: string | null} */
  status = signal({ state: 'idle', reason: /** @type {string | null} */ (null), channel: /** @type {string | null} */ (null) });
  /** The budget in bytes (null until known). */
  budget = signal(/** @type {number | null} */ (null));
  /** Messages per bulk page (the planner's BULK_PAGE; tests make it smaller to interrupt mid-way). */
  pageSize = BULK_PAGE;
  /** Time inside the bulk apply (merge and IndexedDB), messages and pages: for the benchmark. */
  stats = signal({ ms: 0, messages: 0, pages: 0 });
  /** Messages applied by bulk pages since start (for the bench and the progress line). */
  applied = signal(0);

  #holdings;
  #transport;
  #store;
  #queries;
  #offline;
  #env;
  #now;
  #onApplied;
  #onEvicted;
  #onHeld;
  /** @type {Map<string, import('../replica/holdings.js').Resume>} */
  #resume = new Map();
  #skip = new Set();
  /** Where pages are fetched and applied: in a worker when the build made one, else here. */
  #pages;
  #stopped = true;
  #wake = /** @type {(() => void) | null} */ (null);
  #kicked = false;
  #cleanup = /** @type {(() => void)[]} */ ([]);

  /**
   * @param {{holdings: any, transport: any, store: any, queries: any, offline: any, env?: any, now?: () => number,
   *   onApplied: (records: [string, any][]) => Promise<void>, onEvicted: (keys: string[]) => Promise<void>,
   *   onHeld?: (chunks: [string, number][]) => void}} options
   */
  constructor({ holdings, transport, store, queries, offline, env = {}, now = Date.now, onApplied, onEvicted, onHeld = () => {} }) {
    this.#holdings = holdings;
    this.#transport = transport;
    this.#store = store;
    this.#queries = queries;
    this.#offline = offline;
    this.#env = env;
    this.#now = now;
    this.#onApplied = onApplied;
    this.#onEvicted = onEvicted;
    this.#onHeld = onHeld;
    const worker = /** @type {any} */ (env).worker;
    this.#pages = worker
      ? new WorkerPages(worker, () => transport.csrfToken?.() ?? null)
      : new BulkPages({ transport, holdings: async () => holdings });
  }

  start() {
    if (!this.#stopped) return;
    this.#stopped = false;
    const target = /** @type {any} */ (globalThis);
    const kick = () => this.kick();
    target.addEventListener?.('online', kick);
    this.#env.navigator?.connection?.addEventListener?.('change', kick);
    this.#cleanup.push(
      () => target.removeEventListener?.('online', kick),
      () => this.#env.navigator?.connection?.removeEventListener?.('change', kick),
      // A keep choice, a new channel, the connection coming back: look again.
      effect(() => {
        this.#store.version('keeps').value;
        this.#store.version('members').value;
        this.#store.status.value;
        this.kick();
      }),
    );
    this.#run().catch((error) => (this.status.value = { state: 'paused', reason: String(error?.message ?? error), channel: null }));
  }

  stop() {
    this.#stopped = true;
    if (this.#pages instanceof WorkerPages) this.#pages.close();
    for (const undo of this.#cleanup.splice(0)) undo();
    this.kick();
  }

  /** Something changed: plan again. */
  kick() {
    this.#kicked = true;
    this.#wake?.();
  }

  /** Set the budget (bytes) on this device. */
  async setBudget(bytes) {
    this.budget.value = bytes;
    await this.#env.replica?.setMeta(BUDGET_KEY, bytes);
    this.kick();
  }

  /** A channel's choice went back to "recent": its resume point goes (the held messages stay). */
  async forget(channel) {
    this.#resume.delete(channel);
    await this.#holdings.forget(channel);
  }

  #sleep(ms = 0) {
    if (this.#kicked) {
      this.#kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = ms ? setTimeout(resolve, ms) : null;
      this.#wake = () => {
        if (timer) clearTimeout(timer);
        this.#wake = null;
        this.#kicked = false;
        resolve(undefined);
      };
    });
  }

  async #run() {
    this.#resume = await this.#holdings.resumePoints();
    const stored = this.#store.meta.peek()[BUDGET_KEY];
    if (typeof stored === 'number') this.budget.value = stored;
    else this.budget.value = defaultBudget(await this.#env.navigator?.storage?.estimate?.().catch(() => null));
    while (!this.#stopped) {
      const step = this.#plan();
      if (step.action === 'idle' || step.action === 'pause') {
        this.status.value = { state: step.action === 'idle' ? 'idle' : 'paused', reason: step.action === 'pause' ? step.reason : null, channel: null };
        await this.#sleep();
        continue;
      }
      this.status.value = { state: 'running', reason: null, channel: step.action === 'fetch' ? step.channel : null };
      try {
        if (step.action === 'evict') await this.#evict();
        else await this.#fetch(step.channel, step.before, Math.min(step.limit, this.pageSize));
      } catch (error) {
        if (error?.kind === 'quota' || error?.kind === 'storage') this.#env.onStorageError?.(error); // the banner
        const offline = error?.offline || error?.status === 0;
        if (!offline && (error?.status === 403 || error?.status === 404) && step.action === 'fetch') this.#skip.add(step.channel);
        this.status.value = { state: 'paused', reason: offline ? 'offline' : 'error', channel: null };
        await this.#sleep(offline ? 0 : RETRY_MS);
        continue;
      }
      await yieldToUI();
    }
  }

  #online() {
    return this.#env.navigator?.onLine !== false && this.#store.status.peek() !== 'Offline';
  }

  #states() {
    return this.#offline
      .channels()
      .filter((c) => c.keep !== 'recent' && !this.#skip.has(c.id))
      .map((c) => {
        const point = this.#resume.get(c.id);
        const numbers = this.#queries.numbers(c.id);
        const held = numbers.gaps.length === 0 && numbers.low > 0 ? numbers.low : null;
        // A stored point counts only while the device still holds down to it (a dropped scope, or
        // storage the browser cleared, leaves a point that no longer describes anything held).
        const trusted = point && (point.low === null || (numbers.low > 0 && numbers.low <= point.low));
        return {
          id: c.id,
          keep: c.keep,
          last: Math.max(point?.last ?? 0, numbers.last),
          low: trusted ? point.low : held,
          oldestAt: point?.oldestAt ?? null,
        };
      });
  }

  #plan() {
    const budget = this.budget.peek() ?? Infinity;
    const used = this.#offline.sizes.peek().total;
    const evictable = used >= budget ? this.#evictionPlan(used, budget).length : 0;
    return nextStep({
      online: this.#online(),
      saveData: Boolean(this.#env.navigator?.connection?.saveData),
      used,
      budget,
      now: this.#now(),
      channels: this.#states(),
      evictable,
    });
  }

  async #fetch(channel, before, limit) {
    const point = this.#resume.get(channel) ?? null;
    const page = await this.#pages.fetchAndApply({ channel, before, limit, point, wallMs: this.#now() });
    const { stored, chunks, resume, count, applyMs } = page;
    this.#resume.set(channel, resume);
    this.applied.value += count;
    const stats = this.stats.peek();
    this.stats.value = { ms: stats.ms + applyMs, messages: stats.messages + count, pages: stats.pages + 1 };
    // The store takes the page in slices, a task each: its derived views (the message index, a
    // channel on screen) update in steps short enough to keep frames and clicks on time.
    for (let i = 0; i < stored.length; i += PATCH_CHUNK) {
      await this.#onApplied(stored.slice(i, i + PATCH_CHUNK));
      if (i + PATCH_CHUNK < stored.length) await yieldToUI();
    }
    this.#onHeld(chunks);
  }

  #evictionPlan(used, budget) {
    const channels = this.#offline.channels().map((c) => {
      const overlay = this.#store.maps('messages').overlay;
      const messages = this.#queries
        .messages(c.id)
        .filter((m) => typeof m.n === 'number')
        .map((m) => {
          const record = this.#store.confirmedRecord('messages', m.id);
          return { n: m.n, at: m.at ?? 0, bytes: record ? recordBytes(record) : 0, pending: overlay.has(m.id), id: m.id };
        });
      return { id: c.id, keep: c.keep, messages };
    });
    return evictionPlan({ used, budget, channels }).map((cut) => ({
      ...cut,
      ids: channels.find((c) => c.id === cut.channel).messages.filter((m) => m.n < cut.below).map((m) => m.id),
    }));
  }

  async #evict() {
    const budget = this.budget.peek() ?? Infinity;
    const cuts = this.#evictionPlan(this.#offline.sizes.peek().total, budget);
    const gone = new Set(cuts.flatMap((c) => c.ids));
    const keys = [];
    for (const cut of cuts) {
      for (const id of cut.ids) {
        keys.push(`messages/${id}`);
        for (const reply of this.#queries.replies(cut.channel, id)) keys.push(`messages/${reply.id}`);
      }
    }
    for (const [id, r] of this.#store.maps('reactions').confirmed) if (gone.has(r.fields.message)) keys.push(`reactions/${id}`);
    await this.#holdings.evict(keys, new Map(cuts.map((c) => [c.channel, c.below])));
    await this.#onEvicted(keys);
  }
}
