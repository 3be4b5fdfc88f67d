// Keep offline, read side (frontend/README.md, "Keep offline"): each channel's choice on this
// device, how much of it is held and the space it takes, all derived from the store (which mirrors
// the replica), never kept as separate counters.

import { computed, signal } from '@preact/signals';
import { derivedId } from '../sync/registry.js';
import { defaultKeep, coverage } from '../lib/offline-plan.js';

/** A record's size as stored, roughly (structured clone of its fields and clocks): bytes. */
export function recordBytes(record) {
  let bytes = 48;
  const fields = record.fields ?? {};
  for (const name in fields) {
    const value = fields[name];
    bytes += name.length + 8 + (typeof value === 'string' ? value.length : 0);
  }
  for (const name in record.clocks ?? {}) bytes += name.length + 32;
  return bytes;
}

export const keepId = (user, device, channel) => derivedId('keeps', { user, device, channel });

export class OfflineQueries {
  #store;
  #queries;
  /** The answer of navigator.storage.persist() once asked: true, false, or null (not asked). */
  persisted = signal(/** @type {boolean | null} */ (null));

  /** @param {import('./store.js').Store} store @param {import('./queries.js').Queries} queries */
  constructor(store, queries) {
    this.#store = store;
    this.#queries = queries;
    /** Bytes held per channel (its messages and reactions), and in all. */
    this.sizes = computed(() => {
      const per = new Map();
      let total = 0;
      for (const name of ['messages', 'reactions']) {
        this.#store.version(name).value; // subscribe: maps() does not
        for (const [, record] of this.#store.maps(name).confirmed) {
          const bytes = recordBytes(record);
          const channel = record.fields.channel;
          per.set(channel, (per.get(channel) ?? 0) + bytes);
          total += bytes;
        }
      }
      return { per, total };
    });
  }

  get device() {
    return this.#store.meta.value.device ?? null;
  }

  /** This device's choice for a channel: 'recent' | '30d' | 'all'. */
  keep(channelId) {
    const me = this.#queries.me.value;
    const device = this.device;
    const record = me && device ? this.#queries.record('keeps', keepId(me, device, channelId)) : null;
    const chosen = record?.fields.keep;
    return typeof chosen === 'string' ? chosen : defaultKeep(this.#queries.channel(channelId)?.kind);
  }

  /** Channels and DMs I am in, with their choice, held count, total and size. */
  channels() {
    const sizes = this.sizes.value;
    return [...this.#queries.myChannels.value, ...this.#queries.myDirectMessages.value].map((c) => {
      const { last, low } = this.#queries.numbers(c.id);
      const held = this.#queries.messages(c.id).filter((m) => typeof m.n === 'number').length;
      return { id: c.id, name: c.name, kind: c.kind, keep: this.keep(c.id), bytes: sizes.per.get(c.id) ?? 0, held, last, low };
    });
  }

  /** How much of a channel offline search covered: {partial, held, total}. */
  coverage(channelId) {
    const { last, low } = this.#queries.numbers(channelId);
    const held = this.#queries.messages(channelId).filter((m) => typeof m.n === 'number').length;
    return coverage({ held, last, low: low || null });
  }
}
