// The dispatch layer's state: an in-memory mirror of the replica as signals. One source of
// truth: the replica in IndexedDB. The mirror is refreshed from it after every local write,
// every applied sync, and every "changed" note from the leader tab; views never keep copies.

import { signal, batch } from '@preact/signals';
import { keyOf } from '../replica/replica.js';

function splitKey(key) {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

export class Store {
  /** Map<collection, Map<id, {collection, id, scope, fields, clocks}>>: confirmed state. */
  confirmed = signal(new Map());
  /** Pending mutations, by mid. */
  outbox = signal([]);
  /** Local writes begun but not yet in `outbox` (the IndexedDB transaction is still running).
   * Counted as pending, so "nothing pending" never shows while a sent message is on its way. */
  writing = signal(0);
  /** Refused mutations with the server's code and reason. */
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

  load({ records, outbox, failed, meta }) {
    const confirmed = new Map();
    for (const record of records) {
      if (!confirmed.has(record.collection)) confirmed.set(record.collection, new Map());
      confirmed.get(record.collection).set(record.id, record);
    }
    batch(() => {
      this.confirmed.value = confirmed;
      this.outbox.value = outbox;
      this.failed.value = failed;
      this.meta.value = meta;
    });
  }

  /** Replace some records: `entries` is [[key, record | null]]. */
  patch(entries) {
    if (!entries.length) return;
    const next = new Map(this.confirmed.value);
    const copied = new Set();
    for (const [key, record] of entries) {
      const [collection, id] = splitKey(key);
      if (!copied.has(collection)) {
        next.set(collection, new Map(next.get(collection) ?? []));
        copied.add(collection);
      }
      if (record) next.get(collection).set(id, record);
      else next.get(collection).delete(id);
    }
    this.confirmed.value = next;
  }

  /** Re-read what changed from the replica. `what`: {keys?, dropped?, full?} */
  async refresh(replica, what = {}) {
    if (what.full || (what.dropped && what.dropped.length)) {
      this.load(await replica.snapshot());
      return;
    }
    const keys = [...(what.keys ?? [])];
    const [entries, snap] = await Promise.all([replica.getRecords(keys), replica.snapshotPending()]);
    batch(() => {
      this.patch(entries);
      this.outbox.value = snap.outbox;
      this.failed.value = snap.failed;
      this.meta.value = snap.meta;
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

export { keyOf };
