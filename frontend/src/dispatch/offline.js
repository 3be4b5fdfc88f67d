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

const SIZED = ['messages', 'reactions'];

/** Each held message's and reaction's size by channel, changed as the store tells (a StoreListener).
 * One Map entry per record, in a Map per collection and channel (a message's channel never
 * changes): a backfill page of 2,500 messages adds 2,500 numbers and allocates nothing else, where
 * a key string and a pair per record were 100,000 objects kept for a backfilled channel. */
class SizeLedger {
  #store;
  /** @type {Map<string, Map<string, Map<string, number>>>} collection -> channel -> id -> bytes */
  #held = new Map(SIZED.map((c) => [c, new Map()]));
  /** @type {Map<string, number>} */
  per = new Map();
  total = 0;

  /** @param {import('./store.js').Store} store */
  constructor(store) {
    this.#store = store;
  }

  /** @param {string} collection @param {string} id */
  #count(collection, id) {
    const byChannel = /** @type {Map<string, Map<string, number>>} */ (this.#held.get(collection));
    const record = this.#store.confirmedRecord(collection, id);
    if (!record) {
      // Gone (evicted, a dropped scope): rare, so its channel is looked for rather than kept.
      for (const [channel, sizes] of byChannel) {
        const before = sizes.get(id);
        if (before === undefined) continue;
        sizes.delete(id);
        this.#add(channel, -before);
      }
      return;
    }
    const channel = String(record.fields.channel);
    let sizes = byChannel.get(channel);
    if (!sizes) byChannel.set(channel, (sizes = new Map()));
    const bytes = recordBytes(record);
    this.#add(channel, bytes - (sizes.get(id) ?? 0));
    sizes.set(id, bytes);
  }

  #add(channel, bytes) {
    this.per.set(channel, (this.per.get(channel) ?? 0) + bytes);
    this.total += bytes;
  }

  /** @param {string} collection @param {Set<string>} ids */
  changed(collection, ids) {
    if (this.#held.has(collection)) for (const id of ids) this.#count(collection, id);
  }

  reset() {
    for (const byChannel of this.#held.values()) byChannel.clear();
    this.per.clear();
    this.total = 0;
    for (const collection of SIZED) for (const [id] of this.#store.maps(collection).confirmed) this.#count(collection, id);
  }

  failed() {}
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
    // Bytes held per channel (its messages and reactions), and in all: kept up to date record by
    // record as the store changes, so a backfill page costs its own records, not the whole store.
    const ledger = new SizeLedger(store);
    store.subscribe(ledger);
    ledger.reset();
    this.sizes = computed(() => {
      this.#store.version('messages').value;
      this.#store.version('reactions').value;
      return { per: new Map(ledger.per), total: ledger.total };
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
      const held = this.#queries.heldCount(c.id);
      return { id: c.id, name: c.name, kind: c.kind, keep: this.keep(c.id), bytes: sizes.per.get(c.id) ?? 0, held, last, low };
    });
  }

  /** How much of a channel offline search covered: {partial, held, total}. */
  coverage(channelId) {
    const { last, low } = this.#queries.numbers(channelId);
    const held = this.#queries.heldCount(channelId);
    return coverage({ held, last, low: low || null });
  }
}
