// Observable queries over the store: what the views read. Each is a computed signal derived
// from the replica mirror, so a view re-renders exactly when its data changes.
//
// What a device shows = confirmed state with pending mutations laid on top (merge rule).
// Display order of a channel: sent messages by the server's number n, then unsent ones
// (pending and failed) in the order they were written. Unread = last n - my read cursor n,
// derived here and never stored.

import { computed } from '@preact/signals';
import { apply } from '../sync/merge.js';
import { memberId, readId } from '../sync/scopes.js';

const EMPTY = new Map();

export class Queries {
  #store;
  #collections = new Map();

  constructor(store) {
    this.#store = store;
    const s = store;

    this.me = computed(() => s.meta.value.user ?? null);
    this.session = computed(() => s.meta.value.session ?? null);
    this.pendingCount = computed(() => s.outbox.value.length);

    this.users = this.collection('users');

    this.myChannelIds = computed(() => {
      const me = this.me.value;
      const ids = new Set();
      for (const [, member] of this.collection('members').value) {
        if (member.fields.user === me && !member.fields.left) ids.add(member.fields.channel);
      }
      return ids;
    });

    this.messagesByChannel = computed(() => this.#groupMessages());

    this.channels = computed(() => {
      const all = [];
      for (const [id, record] of this.collection('channels').value) {
        if (record.fields.deleted) continue;
        all.push(this.#describeChannel(id, record));
      }
      return all;
    });

    this.myChannels = computed(() => {
      const mine = this.myChannelIds.value;
      return this.channels.value
        .filter((c) => mine.has(c.id) && c.kind !== 'dm' && c.kind !== 'group')
        .sort((a, b) => a.name.localeCompare(b.name));
    });

    this.myDirectMessages = computed(() => {
      const mine = this.myChannelIds.value;
      return this.channels.value
        .filter((c) => mine.has(c.id) && (c.kind === 'dm' || c.kind === 'group'))
        .sort((a, b) => a.name.localeCompare(b.name));
    });

    this.publicChannels = computed(() => {
      const mine = this.myChannelIds.value;
      return this.channels.value
        .filter((c) => c.kind === 'public' && !c.archived)
        .map((c) => ({ ...c, joined: mine.has(c.id) }))
        .sort((a, b) => a.name.localeCompare(b.name));
    });

    this.people = computed(() => {
      const list = [];
      for (const [id, user] of this.users.value) {
        if (user.fields.deleted) continue;
        list.push({ id, name: user.fields.name ?? '', email: user.fields.email ?? '' });
      }
      return list.sort((a, b) => a.name.localeCompare(b.name));
    });

    this.totalUnread = computed(() =>
      [...this.myChannels.value, ...this.myDirectMessages.value].reduce((sum, c) => sum + this.unread(c.id), 0),
    );
  }

  /** A collection's records as shown: confirmed, with pending mutations on top. Cached. */
  collection(name) {
    let query = this.#collections.get(name);
    if (!query) {
      query = computed(() => {
        const confirmed = this.#store.confirmed.value.get(name) ?? EMPTY;
        const pending = this.#store.outbox.value.filter((m) => m.collection === name);
        const shown = new Map();
        for (const [id, record] of confirmed) {
          shown.set(id, { id, fields: record.fields, clocks: record.clocks, pending: false });
        }
        for (const mutation of pending) {
          const held = shown.get(mutation.id);
          const state = apply(held ? { fields: held.fields, clocks: held.clocks } : null, mutation.fields, mutation.hlc);
          shown.set(mutation.id, { id: mutation.id, ...state, pending: true, mid: mutation.mid });
        }
        return shown;
      });
      this.#collections.set(name, query);
    }
    return query;
  }

  record(collection, id) {
    return this.collection(collection).value.get(id) ?? null;
  }

  userName(id) {
    return this.users.value.get(id)?.fields.name ?? '';
  }

  channel(id) {
    return this.channels.value.find((c) => c.id === id) ?? null;
  }

  isMember(channelId) {
    return this.myChannelIds.value.has(channelId);
  }

  /** Messages of a channel in display order. */
  messages(channelId) {
    return this.messagesByChannel.value.get(channelId)?.items ?? [];
  }

  /** The greatest n of a channel, and the greatest n up to which nothing is missing. */
  numbers(channelId) {
    const entry = this.messagesByChannel.value.get(channelId);
    return { last: entry?.lastN ?? 0, contiguous: entry?.contiguousN ?? 0 };
  }

  /** The unsent draft of a channel on this device, as last saved. */
  draft(channelId) {
    return this.#store.meta.peek()[`draft:${channelId}`] ?? '';
  }

  /** People currently in a channel (user ids). */
  membersOf(channelId) {
    const ids = [];
    for (const [, member] of this.collection('members').value) {
      if (member.fields.channel === channelId && !member.fields.left) ids.push(member.fields.user);
    }
    return ids;
  }

  readCursor(channelId) {
    const me = this.me.value;
    const read = me ? this.record('reads', readId(me, channelId)) : null;
    return typeof read?.fields.n === 'number' ? read.fields.n : 0;
  }

  unread(channelId) {
    return Math.max(0, this.numbers(channelId).last - this.readCursor(channelId));
  }

  #describeChannel(id, record) {
    const f = record.fields;
    let name = f.name ?? '';
    let peer = null;
    if (f.kind === 'dm' || f.kind === 'group') {
      const me = this.me.value;
      const others = [];
      for (const [, member] of this.collection('members').value) {
        if (member.fields.channel === id && member.fields.user !== me && !member.fields.left) {
          others.push(member.fields.user);
        }
      }
      peer = others[0] ?? me;
      const names = others.map((u) => this.userName(u)).filter(Boolean);
      name = names.length ? names.join(', ') : f.name || this.userName(me);
    }
    return {
      id,
      name,
      kind: f.kind,
      topic: f.topic ?? '',
      archived: Boolean(f.archived),
      pending: record.pending,
      peer,
    };
  }

  #groupMessages() {
    const byChannel = new Map();
    const entry = (channel) => {
      if (!byChannel.has(channel)) byChannel.set(channel, { sent: [], unsent: [], lastN: 0, contiguousN: 0 });
      return byChannel.get(channel);
    };
    const failedByMid = new Map();
    for (const failed of this.#store.failed.value) {
      if (failed.collection === 'messages') failedByMid.set(failed.mid, failed);
    }
    for (const [id, record] of this.collection('messages').value) {
      const f = record.fields;
      if (typeof f.channel !== 'string') continue;
      const e = entry(f.channel);
      if (typeof f.n === 'number') {
        if (f.n > e.lastN) e.lastN = f.n;
        if (f.deleted) {
          e.sent.push({ id, n: f.n, deleted: true });
          continue;
        }
        e.sent.push({ id, n: f.n, text: f.text ?? '', author: f.author, at: f.at, state: 'sent' });
      } else if (!f.deleted) {
        e.unsent.push({ id, mid: record.mid ?? 0, text: f.text ?? '', author: this.me.value, state: 'pending' });
      }
    }
    // Refused messages that were never accepted show where they were written, with the reason.
    for (const failed of failedByMid.values()) {
      const f = failed.fields;
      if (typeof f.channel !== 'string') continue;
      const confirmed = this.#store.confirmed.value.get('messages')?.get(failed.id);
      if (confirmed && typeof confirmed.fields.n === 'number') continue;
      entry(f.channel).unsent.push({
        id: failed.id,
        mid: failed.mid,
        text: f.text ?? '',
        author: this.me.value,
        state: 'failed',
        code: failed.code,
        reason: failed.reason,
      });
    }
    const result = new Map();
    for (const [channel, e] of byChannel) {
      e.sent.sort((a, b) => a.n - b.n);
      e.unsent.sort((a, b) => a.mid - b.mid);
      let contiguous = 0;
      for (const m of e.sent) {
        if (m.n === contiguous + 1) contiguous = m.n;
        else if (m.n > contiguous + 1) break;
      }
      result.set(channel, {
        items: [...e.sent.filter((m) => !m.deleted), ...e.unsent],
        lastN: e.lastN,
        contiguousN: contiguous,
      });
    }
    return result;
  }
}

export { memberId };
