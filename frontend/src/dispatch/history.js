// Long histories (PROTOCOL.md, "Long histories, search and versions"): older pages on demand,
// gaps filled before anything past them counts as read, thread replies on opening a thread.
// Fetched records are merged field by field into the replica, then the store is told.
//
// Rule 1. Older history: POST /api/history {channel, before: lowest n held, limit}.
// Rule 2. A gap (held ... a, b ... with b > a + 1) is fetched exactly: {before: b, limit: b - a - 1},
//         in pages of at most 500 from the top of the hole down.
// Rule 3. One request per channel at a time; a failed fill is retried at the next sync, not in a loop.
// Rule 4. A jump to an old message n (a search result) fetches the page around it:
//         {before: n + PAGE/2, limit: PAGE}. What lies between it and what is held is then a gap (Rule 2).

import { signal } from '@preact/signals';

export const PAGE = 100;
export const MAX_PAGE = 500;

export class History {
  /** Channels whose older page is being fetched. */
  loading = signal(new Set());
  /** Channels whose first message this device has reached. */
  complete = signal(new Set());
  #replica;
  #transport;
  #queries;
  #onApplied;
  #now;
  #busy = new Map();

  constructor({ replica, transport, queries, onApplied, now = Date.now }) {
    this.#replica = replica;
    this.#transport = transport;
    this.#queries = queries;
    this.#onApplied = onApplied;
    this.#now = now;
  }

  /** True when there may be older messages than the ones held. */
  hasOlder(channel) {
    const { low, last } = this.#queries.numbers(channel);
    if (this.complete.value.has(channel)) return false;
    return last > 0 && low > 1;
  }

  async #apply(records) {
    const keys = await this.#replica.applyRecords(records ?? [], this.#now());
    if (keys.length) await this.#onApplied(keys);
    return keys;
  }

  #once(key, work) {
    if (this.#busy.has(key)) return this.#busy.get(key);
    const promise = work().finally(() => this.#busy.delete(key));
    this.#busy.set(key, promise);
    return promise;
  }

  #setLoading(channel, on) {
    const next = new Set(this.loading.value);
    if (on) next.add(channel);
    else next.delete(channel);
    this.loading.value = next;
  }

  /** Fetch the page of top-level messages just older than the oldest one held. */
  loadOlder(channel, limit = PAGE) {
    if (!this.hasOlder(channel)) return Promise.resolve(false);
    return this.#once(`older:${channel}`, async () => {
      this.#setLoading(channel, true);
      try {
        const before = this.#queries.numbers(channel).low;
        const page = await this.#transport.history({ channel, before, limit: Math.min(limit, MAX_PAGE) });
        await this.#apply(page.records);
        if (page.complete) this.complete.value = new Set([...this.complete.value, channel]);
        return true;
      } finally {
        this.#setLoading(channel, false);
      }
    });
  }

  /** Fetch the page of top-level messages around message n (Rule 4). */
  loadAround(channel, n) {
    return this.#once(`around:${channel}:${n}`, async () => {
      const page = await this.#transport.history({ channel, before: n + PAGE / 2, limit: PAGE });
      await this.#apply(page.records);
      if (page.complete) this.complete.value = new Set([...this.complete.value, channel]);
    });
  }

  /** Fetch exactly the missing numbers of every gap in a channel. */
  fillGaps(channel) {
    return this.#once(`gaps:${channel}`, async () => {
      for (const { after, before } of this.#queries.numbers(channel).gaps) {
        let top = before;
        while (top - 1 > after) {
          const limit = Math.min(MAX_PAGE, top - 1 - after);
          const page = await this.#transport.history({ channel, before: top, limit });
          await this.#apply(page.records);
          top -= limit;
        }
      }
    });
  }

  /** Fill every gap the device knows of (after a sync). Errors wait for the next sync. */
  async fillAllGaps() {
    await Promise.all(this.#queries.channelsWithGaps().map((c) => this.fillGaps(c).catch(() => {})));
  }

  /** Every reply of a thread (a snapshot does not carry replies). */
  loadThread(channel, parent) {
    return this.#once(`thread:${parent}`, async () => {
      const page = await this.#transport.history({ channel, thread: parent });
      await this.#apply(page.records);
    });
  }
}
