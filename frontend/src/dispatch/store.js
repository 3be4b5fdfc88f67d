// The dispatch layer's state: an in-memory mirror of the replica as signals. One source of
// truth: the replica in IndexedDB. The mirror is refreshed from it after every local write,
// every applied sync, and every "changed" note from the leader tab; views never keep copies.
//
// Incremental by design (issue 17): applying k changes costs O(k), never a copy of a collection.
// - Confirmed records live in one Map per collection, changed in place; each collection has a
//   version signal that moves when any of its records changes, so queries re-derive on it.
// - The outbox is a Map by mid (appended in O(1)); the pending overlay (confirmed state with the
//   pending mutations of that record laid on top, by the merge rule) is kept per record and
//   recomputed only for the records a write, an ack or a confirmed change touches.
// - Listeners (the message index in queries.js) hear which records changed, to keep derived
//   structures up to date instead of rebuilding them.

import { signal, batch } from '@preact/signals';
import { apply, wins } from '../sync/merge.js';
import { keyOf, splitKey } from '../replica/replica.js';

/** @typedef {import('../replica/replica.js').Mutation} Mutation */
/** @typedef {{collection?: string, id: string, scope?: string, fields: Record<string, any>, clocks: Record<string, string>, pending?: boolean, mid?: number}} Shown */
/** @typedef {{changed(collection: string, ids: Set<string>): void, reset(): void, failed(): void}} StoreListener */

const NONE = new Map();

/**
 * A collection as shown: an overlay (records with pending mutations) over the confirmed Map, read
 * like a Map without copying either. A new one is made each time the collection changes, so a
 * computed over it sees a new value; it reads the live maps, so keep it only until then.
 */
export class ShownMap {
  #confirmed;
  #overlay;

  /** @param {Map<string, Shown>} confirmed @param {Map<string, Shown>} overlay */
  constructor(confirmed, overlay) {
    this.#confirmed = confirmed;
    this.#overlay = overlay;
  }

  /** @param {string} id */
  get(id) {
    return this.#overlay.get(id) ?? this.#confirmed.get(id);
  }

  /** @param {string} id */
  has(id) {
    return this.#overlay.has(id) || this.#confirmed.has(id);
  }

  get size() {
    let extra = 0;
    for (const id of this.#overlay.keys()) if (!this.#confirmed.has(id)) extra += 1;
    return this.#confirmed.size + extra;
  }

  /** @returns {Generator<[string, Shown]>} */
  *entries() {
    for (const [id, record] of this.#confirmed) yield [id, this.#overlay.get(id) ?? record];
    for (const [id, record] of this.#overlay) if (!this.#confirmed.has(id)) yield [id, record];
  }

  [Symbol.iterator]() {
    return this.entries();
  }

  *keys() {
    for (const [id] of this.entries()) yield id;
  }

  *values() {
    for (const [, record] of this.entries()) yield record;
  }
}

/**
 * The later of two snapshots of one record, field by field (the merge rule): `record` itself when
 * it holds every field of `held` at the same or a later clock (a refresh in order: the usual
 * case, one string comparison per field), else a copy with the fields `held` still wins.
 * @param {Shown} held
 * @param {Shown} record
 * @returns {Shown}
 */
export function join(held, record) {
  const clocks = record.clocks ?? {};
  let fields = null;
  let joined = null;
  for (const name of Object.keys(held.clocks ?? {})) {
    const mine = held.clocks[name];
    const theirs = Object.hasOwn(clocks, name) ? clocks[name] : undefined;
    if (mine === theirs) continue;
    if (!wins(mine, held.fields[name], theirs, Object.hasOwn(record.fields, name) ? record.fields[name] : undefined)) continue;
    if (fields === null) {
      fields = { ...record.fields };
      joined = { ...clocks };
    }
    // A field may be called `__proto__` (merge.js): define it, never assign it.
    Object.defineProperty(fields, name, { value: held.fields[name], writable: true, enumerable: true, configurable: true });
    Object.defineProperty(joined, name, { value: mine, writable: true, enumerable: true, configurable: true });
  }
  return fields === null ? record : { ...record, fields, clocks: joined };
}

export class Store {
  /** @type {Map<string, Map<string, Shown>>} confirmed state, by collection then id */
  #confirmed = new Map();
  /** @type {Map<string, Map<string, Shown>>} records with pending mutations, as shown */
  #overlay = new Map();
  /** @type {Map<number, Mutation>} the outbox, by mid, in write order */
  #outbox = new Map();
  /** @type {Map<string, Mutation[]>} pending mutations per record key, oldest first */
  #pendingByKey = new Map();
  /** mid -> when this store queued it (a count of queued mutations), and that count. */
  #queuedAt = new Map();
  #queued = 0;
  /** @type {Map<string, import('@preact/signals').Signal<number>>} */
  #versions = new Map();
  /** @type {Set<StoreListener>} */
  #listeners = new Set();

  /** How many mutations are pending. */
  outboxSize = signal(0);
  /** Local writes begun but not yet in the outbox (the IndexedDB transaction is still running).
   * Counted as pending, so "nothing pending" never shows while a sent message is on its way. */
  writing = signal(0);
  /** Refused mutations with the server's code and reason. */
  /** @type {import('@preact/signals').Signal<any[]>} */
  failed = signal([]);
  /** device, user, session, cursors, scopes, ... */
  /** @type {import('@preact/signals').Signal<Record<string, any>>} */
  meta = signal({});
  /** 'Online' | 'Offline' | 'Syncing' */
  status = signal('Syncing');
  /** Map<user, 'online' | 'away'>: people with a live connection (presence; memory only). */
  presence = signal(new Map());
  /** What this device says about me: 'online' or 'away' (idle or hidden). */
  localPresence = signal('online');
  /** Map<scope, Map<user, {until, since}>>: who is typing where (memory only). */
  typing = signal(new Map());

  /** @param {StoreListener} listener */
  subscribe(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The signal that moves whenever a record of `collection` changes (confirmed or pending). */
  version(collection) {
    let v = this.#versions.get(collection);
    if (!v) {
      v = signal(0);
      this.#versions.set(collection, v);
    }
    return v;
  }

  /** A record as shown: pending mutations over confirmed state. Does not subscribe. */
  shown(collection, id) {
    return this.#overlay.get(collection)?.get(id) ?? this.#confirmed.get(collection)?.get(id) ?? null;
  }

  /** A record as the server confirmed it. */
  confirmedRecord(collection, id) {
    return this.#confirmed.get(collection)?.get(id) ?? null;
  }

  /** The live maps of a collection (read only; valid until the next change). */
  maps(collection) {
    return { confirmed: this.#confirmed.get(collection) ?? NONE, overlay: this.#overlay.get(collection) ?? NONE };
  }

  /** A collection's records as shown, without subscribing. */
  shownEntries(collection) {
    const { confirmed, overlay } = this.maps(collection);
    return new ShownMap(confirmed, overlay).entries();
  }

  /** Pending mutations in write order. */
  pending() {
    return [...this.#outbox.values()];
  }

  load({ records, outbox, failed, meta }) {
    this.#confirmed = new Map();
    for (const record of records) this.#table(this.#confirmed, record.collection).set(record.id, record);
    this.#outbox = new Map();
    this.#queuedAt = new Map();
    this.#pendingByKey = new Map();
    this.#overlay = new Map();
    const changed = new Map();
    for (const mutation of outbox) this.#queue(mutation, changed);
    batch(() => {
      this.failed.value = failed;
      this.meta.value = meta;
      this.outboxSize.value = this.#outbox.size;
      for (const listener of this.#listeners) listener.reset();
      for (const v of this.#versions.values()) v.value += 1;
    });
  }

  /**
   * Take some confirmed records: `entries` is [[key, record | null]] (null: the record is gone:
   * eviction, a dropped scope). A record is joined with the one held by the merge rule, never
   * simply put in its place: two refreshes may land out of order (a sync's reply is read before a
   * live frame but patched after it, once its own reads end), and the older snapshot put back the
   * title an offline edit had just replaced (issue 11). Both are states of the same change log, so
   * their join is the newer. It also completes a message held in a chunk, which a live change
   * brings back with only the fields it touched (replica/held.js, Rule 2).
   * `into`: the records changed are added there and the listeners are not told (the caller tells them).
   * @param {[string, any][]} entries
   * @param {Map<string, Set<string>> | null} [into]
   */
  patch(entries, into = null) {
    const changed = into ?? new Map();
    for (const [key, record] of entries) {
      const [collection, id] = splitKey(key);
      if (record) {
        const table = this.#table(this.#confirmed, collection);
        const held = table.get(id);
        table.set(id, held && held !== record ? join(held, record) : record);
      } else this.#confirmed.get(collection)?.delete(id);
      if (this.#pendingByKey.has(key)) this.#reshow(collection, id);
      mark(changed, collection, id);
    }
    if (!into) this.#tell(changed);
  }

  /** New pending mutations (a local write): O(1) each. */
  addPending(mutations) {
    const changed = new Map();
    for (const mutation of mutations) this.#queue(mutation, changed);
    this.outboxSize.value = this.#outbox.size;
    this.#tell(changed);
  }

  /**
   * Mutations that left the outbox (acked, refused, superseded): O(1) each. `into`: as for `patch`.
   * @param {number[]} mids
   * @param {Map<string, Set<string>> | null} [into]
   */
  removePending(mids, into = null) {
    const changed = into ?? new Map();
    for (const mid of mids) {
      const mutation = this.#outbox.get(mid);
      if (!mutation) continue;
      this.#outbox.delete(mid);
      this.#queuedAt.delete(mid);
      const key = keyOf(mutation.collection, mutation.id);
      const list = (this.#pendingByKey.get(key) ?? []).filter((m) => m.mid !== mid);
      if (list.length) this.#pendingByKey.set(key, list);
      else this.#pendingByKey.delete(key);
      this.#reshow(mutation.collection, mutation.id);
      mark(changed, mutation.collection, mutation.id);
    }
    this.outboxSize.value = this.#outbox.size;
    if (!into) this.#tell(changed);
  }

  /**
   * The whole outbox as read from IndexedDB (another tab wrote): apply the difference. `since` is
   * `writes` when that read began: a mutation this tab queued after it may be missing from the
   * read only because it is newer, so it stays (dropping it hid an offline edit until the next
   * re-read).
   */
  setOutbox(list, since = Infinity) {
    const now = new Set(list.map((m) => m.mid));
    const gone = [...this.#outbox.keys()].filter((mid) => !now.has(mid) && (this.#queuedAt.get(mid) ?? 0) <= since);
    batch(() => {
      this.removePending(gone);
      this.addPending(list.filter((m) => !this.#outbox.has(m.mid)));
    });
  }

  /** How many mutations this store has queued so far: a point in time for `setOutbox`. */
  get writes() {
    return this.#queued;
  }

  /**
   * Re-read what changed from the replica. `what`: {keys?, records?, dropped?, full?, acked?, rejected?}
   * (`records`: [key, record] pairs already read, by the sync that wrote them).
   * With `acked`/`rejected` (this tab ran the sync) the outbox is not re-read: the mids that left
   * it are known. Without them (another tab's note) it is, and only its difference is applied.
   */
  async refresh(replica, what = {}) {
    if (what.full || (what.dropped && what.dropped.length)) {
      this.load(await replica.snapshot());
      return;
    }
    const keys = [...(what.keys ?? [])];
    const known = Boolean(what.acked || what.rejected);
    const since = this.#queued;
    // Records the sync already holds in memory are taken as they are; the rest are read back.
    const given = new Map(what.records ?? []);
    const missing = keys.filter((key) => !given.has(key));
    const [read, snap] = await Promise.all([replica.getRecords(missing), replica.snapshotPending({ outbox: !known })]);
    const entries = [...given, ...read];
    batch(() => {
      if (known) {
        // The records and the mids that left the outbox, told as one change: an acked message
        // moves from pending to sent once in the message index, not first as confirmed under its
        // pending overlay, then again as its mutation left (500 of each per reply coming back online).
        const changed = new Map();
        this.patch(entries, changed);
        this.removePending([...(what.acked ?? []), ...(what.rejected ?? [])], changed);
        this.#tell(changed);
      } else {
        this.patch(entries);
        this.setOutbox(snap.outbox ?? [], since);
      }
      this.setFailed(snap.failed);
      this.setMeta(snap.meta);
    });
  }

  /** Failed writes that could not be stored (local-writes.js #writeFailed), by mid: shown until a reload. */
  #unsaved = new Map();

  /** Failed entries of writes that never committed: shown now, whether or not `failed` can hold them. */
  keepFailed(entries) {
    for (const entry of entries) this.#unsaved.set(entry.mid, entry);
    this.setFailed(this.failed.peek());
  }

  /** Forget a failed entry kept only here (retried or discarded). False if it was not one. */
  dropUnsaved(mid) {
    if (!this.#unsaved.delete(mid)) return false;
    this.setFailed(this.failed.peek().filter((f) => f.mid !== mid));
    return true;
  }

  /** An unsaved failed entry (see keepFailed), or null. */
  unsaved(mid) {
    return this.#unsaved.get(mid) ?? null;
  }

  /** @param {any[]} list the `failed` table */
  setFailed(list) {
    const old = this.failed.peek();
    if (this.#unsaved.size) {
      const stored = new Set(list.map((f) => f.mid));
      list = [...list, ...[...this.#unsaved.values()].filter((f) => !stored.has(f.mid))];
    }
    if (old.length === 0 && list.length === 0) return;
    batch(() => {
      this.failed.value = list;
      for (const listener of this.#listeners) listener.failed();
    });
  }

  /** Meta as read from the replica; a different user (sign-in) re-derives everything. */
  setMeta(meta) {
    const user = this.meta.peek().user;
    batch(() => {
      this.meta.value = meta;
      if (meta.user !== user) for (const listener of this.#listeners) listener.reset();
    });
  }

  /** A local write landed: its mutations are pending, superseded ones are not, meta entries set. */
  wrote(mutations, metaEntries = {}, superseded = []) {
    batch(() => {
      if (superseded.length) this.removePending(superseded);
      this.addPending(mutations);
      if (Object.keys(metaEntries).length) {
        const next = { ...this.meta.value };
        for (const [key, value] of Object.entries(metaEntries)) next[key] = value ?? null;
        this.meta.value = next;
      }
    });
  }

  #table(maps, collection) {
    let table = maps.get(collection);
    if (!table) {
      table = new Map();
      maps.set(collection, table);
    }
    return table;
  }

  #queue(mutation, changed) {
    this.#outbox.set(mutation.mid, mutation);
    this.#queuedAt.set(mutation.mid, ++this.#queued);
    const key = keyOf(mutation.collection, mutation.id);
    const list = this.#pendingByKey.get(key);
    if (list) list.push(mutation);
    else this.#pendingByKey.set(key, [mutation]);
    // Laid on top of what is shown now: the newest mutation is the last one.
    const held = this.shown(mutation.collection, mutation.id);
    const state = apply(held ? { fields: held.fields, clocks: held.clocks } : null, mutation.fields, mutation.hlc);
    this.#table(this.#overlay, mutation.collection).set(mutation.id, { id: mutation.id, ...state, pending: true, mid: mutation.mid });
    mark(changed, mutation.collection, mutation.id);
  }

  /** Recompute one record's overlay: confirmed state with its remaining pending mutations. */
  #reshow(collection, id) {
    const list = this.#pendingByKey.get(keyOf(collection, id));
    const overlay = this.#overlay.get(collection);
    if (!list) {
      overlay?.delete(id);
      return;
    }
    let held = this.confirmedRecord(collection, id);
    /** @type {Shown | null} */
    let shown = null;
    for (const mutation of list) {
      const state = apply(held ? { fields: held.fields, clocks: held.clocks } : null, mutation.fields, mutation.hlc);
      shown = { id, ...state, pending: true, mid: mutation.mid };
      held = shown;
    }
    if (shown) this.#table(this.#overlay, collection).set(id, shown);
  }

  #tell(changed) {
    if (!changed.size) return;
    batch(() => {
      for (const [collection, ids] of changed) {
        for (const listener of this.#listeners) listener.changed(collection, ids);
        this.version(collection).value += 1;
      }
    });
  }

  setPresence(frame) {
    if (frame.t === 'hello') {
      const away = new Set(frame.away ?? []);
      this.presence.value = new Map((frame.online ?? []).map((user) => [user, away.has(user) ? 'away' : 'online']));
      return;
    }
    const next = new Map(this.presence.value);
    if (frame.status === 'online' || frame.status === 'away') next.set(frame.user, frame.status);
    else next.delete(frame.user);
    this.presence.value = next;
  }

  /** Someone typing: kept ~4 s. `since` is in server time, to compare with message `at`. */
  setTyping(frame, now = Date.now()) {
    const next = new Map(this.typing.value);
    const people = new Map(next.get(frame.scope) ?? []);
    people.set(frame.user, { until: now + 4000, since: now + (this.meta.value.offset ?? 0) });
    next.set(frame.scope, people);
    this.typing.value = next;
  }

  expireTyping(now = Date.now()) {
    let changed = false;
    const next = new Map();
    for (const [scope, people] of this.typing.value) {
      const alive = new Map([...people].filter(([, { until }]) => until > now));
      if (alive.size !== people.size) changed = true;
      if (alive.size) next.set(scope, alive);
    }
    if (changed) this.typing.value = next;
  }
}

function mark(changed, collection, id) {
  let ids = changed.get(collection);
  if (!ids) {
    ids = new Set();
    changed.set(collection, ids);
  }
  ids.add(id);
}

export { keyOf };
