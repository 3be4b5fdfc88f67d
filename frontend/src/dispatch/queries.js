// Observable queries over the store: what the views read. Each is a computed signal derived
// from the replica mirror, so a view re-renders exactly when its data changes.
//
// What a device shows = confirmed state with pending mutations laid on top (merge rule).
// Display order of a channel: sent top-level messages by the server's number n, then unsent
// ones (pending and failed) in the order they were written. Thread replies are listed under
// their parent by their thread number tn. Unread = last n - my read cursor n, derived here and
// never stored.
//
// Long histories: a device may hold only the newest part of a channel (a snapshot), so "held"
// starts at the lowest n it has. A hole between two held numbers is a gap: it is shown, filled
// (dispatch/history.js), and nothing past it counts as read until it is.
//
// The message index is kept in step with the store by shown-messages.js (this class only reads
// it); searching the messages the device holds is local-search.js (`searchHeld`).

import { computed } from '@preact/signals';
import { may, mayInvite } from '../sync/rights.js';
import { ShownMap } from './store.js';
import { describeMessage, ShownMessages } from './shown-messages.js';
import { memberId, readId, receiptId, followId, prefId } from '../sync/scopes.js';
import { unreadCount } from '../sync/unread.js';
import { searchHeld } from './local-search.js';

const EMPTY = new Map();
// `words` moved with the message items it splits (shown-messages.js); importers find it here still.
export { words } from './shown-messages.js';

export class Queries {
  #store;
  #collections = new Map();
  #index;

  /** @param {import('./store.js').Store} store */
  constructor(store) {
    this.#store = store;
    const s = store;

    this.me = computed(() => s.meta.value.user ?? null);
    this.session = computed(() => s.meta.value.session ?? null);
    this.pendingCount = computed(() => s.outboxSize.value + s.writing.value);

    // The message grouping is maintained as records change, never recomputed (shown-messages.js).
    this.#index = new ShownMessages(s, () => this.me.peek()).index;

    this.users = this.collection('users');

    this.myChannelIds = computed(() => {
      const me = this.me.value;
      const ids = new Set();
      for (const [, member] of this.collection('members').value) {
        if (member.fields.user === me && !member.fields.left) ids.add(member.fields.channel);
      }
      return ids;
    });

    this.membersByChannel = computed(() => {
      const by = new Map();
      for (const [, member] of this.collection('members').value) {
        const { channel, user, left } = member.fields;
        if (left || typeof channel !== 'string') continue;
        if (!by.has(channel)) by.set(channel, []);
        by.get(channel).push(user);
      }
      return by;
    });

    /** Map<message id, Map<emoji, user ids>>: reactions that are on. */
    this.reactionsByMessage = computed(() => {
      const by = new Map();
      for (const [, r] of this.collection('reactions').value) {
        const { message, emoji, user, on } = r.fields;
        if (!on || typeof message !== 'string') continue;
        if (!by.has(message)) by.set(message, new Map());
        const perEmoji = by.get(message);
        if (!perEmoji.has(emoji)) perEmoji.set(emoji, []);
        perEmoji.get(emoji).push(user);
      }
      return by;
    });

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
      [...this.myChannels.value, ...this.myDirectMessages.value].reduce(
        (sum, c) => sum + (this.muted(c.id) ? 0 : this.unread(c.id)),
        0,
      ),
    );

    /** Messages that mention me (or @channel) in channels I am in, newest first. */
    this.mentions = computed(() => {
      const mine = this.myChannelIds.value;
      const found = [];
      for (const m of this.#index.mentioned()) {
        if (!mine.has(m.channel)) continue;
        // A reply has no channel number: it is read once its thread has been read past it.
        const unread = m.thread ? m.tn > this.threadRead(m.thread) : m.n > this.readCursor(m.channel);
        found.push({ ...m, unread });
      }
      return found.sort((a, b) => (b.at ?? 0) - (a.at ?? 0));
    });

    this.unreadMentions = computed(() => this.mentions.value.filter((m) => m.unread).length);
  }

  /** A collection's records as shown: confirmed, with pending mutations on top. Cached; no copy. */
  collection(name) {
    let query = this.#collections.get(name);
    if (!query) {
      query = computed(() => {
        this.#store.version(name).value;
        const { confirmed, overlay } = this.#store.maps(name);
        return new ShownMap(confirmed, overlay);
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

  user(id) {
    return this.users.value.get(id)?.fields ?? null;
  }

  channel(id) {
    return this.channels.value.find((c) => c.id === id) ?? null;
  }

  isMember(channelId) {
    return this.myChannelIds.value.has(channelId);
  }

  /** Top-level messages of a channel in display order (deleted ones included, marked). */
  messages(channelId) {
    return this.#index.items(channelId);
  }

  /** One message as shown (top-level or reply), or null. */
  message(id) {
    const record = this.record('messages', id);
    return record ? describeMessage(id, record, this.me.peek()) : null;
  }

  /** Replies of a thread in order: sent by tn, then unsent. */
  replies(channelId, parentId) {
    return this.#index.replies(channelId, parentId);
  }

  /**
   * The numbers of a channel: `last` (greatest n), `low` (lowest n held), `contiguous` (greatest
   * n reached from `low` with nothing missing) and `gaps` ([{after, before}], holes to fill).
   */
  numbers(channelId) {
    return this.#index.numbers(channelId);
  }

  /** How many numbered messages of a channel the device holds (Settings → Offline, search coverage). */
  heldCount(channelId) {
    return this.#index.held(channelId);
  }

  /** Channels I can see that have holes in what this device holds. */
  channelsWithGaps() {
    this.#index.version.value;
    const out = [];
    for (const [channel, entry] of this.#index.channels()) if (entry.gaps.length) out.push(channel);
    return out;
  }

  /** The unsent draft of a channel on this device, as last saved. */
  draft(channelId) {
    return this.#store.meta.peek()[`draft:${channelId}`] ?? '';
  }

  /** People currently in a channel (user ids). */
  membersOf(channelId) {
    return this.membersByChannel.value.get(channelId) ?? [];
  }

  readCursor(channelId) {
    const me = this.me.value;
    const read = me ? this.record('reads', readId(me, channelId)) : null;
    return typeof read?.fields.n === 'number' ? read.fields.n : 0;
  }

  /** The highest reply number (tn) I have read in a thread (my follows record keeps it). */
  threadRead(parentId) {
    const me = this.me.value;
    const record = me ? this.record('follows', followId(me, parentId)) : null;
    return typeof record?.fields.read === 'number' ? record.fields.read : 0;
  }

  /** Unread messages in a channel (rule and vectors: sync/unread.js). */
  unread(channelId) {
    return unreadCount(this.messages(channelId), this.readCursor(channelId), this.me.value);
  }

  /** Others who have read a DM / group DM up to message n ("seen by"). */
  seenBy(channelId, n) {
    const me = this.me.value;
    const who = [];
    for (const user of this.membersOf(channelId)) {
      if (user === me) continue;
      const receipt = this.record('receipts', receiptId(channelId, user));
      if (typeof receipt?.fields.n === 'number' && receipt.fields.n >= n) who.push(user);
    }
    return who;
  }

  reactions(messageId) {
    return this.reactionsByMessage.value.get(messageId) ?? EMPTY;
  }

  /**
   * Do I follow a thread? My follows record says so; without one, I follow threads I started
   * or replied to (the auto-follow the app also writes when replying).
   */
  following(parentId) {
    const me = this.me.value;
    const record = this.record('follows', followId(me, parentId));
    if (record) return Boolean(record.fields.on);
    const parent = this.record('messages', parentId);
    return parent?.fields.author === me;
  }

  prefs(channelId) {
    const record = this.record('prefs', prefId(this.me.value, channelId));
    return { notify: record?.fields.notify ?? 'all', muted: Boolean(record?.fields.muted) };
  }

  muted(channelId) {
    return this.prefs(channelId).muted;
  }

  /** 'online' | 'away' | 'offline' for anyone; my own follows this device's connection. */
  presence(userId) {
    if (userId === this.me.value) {
      return this.#store.status.value === 'Offline' ? 'offline' : this.#store.localPresence.value;
    }
    return this.#store.presence.value.get(userId) ?? 'offline';
  }

  /** Pinned messages of a channel, in display order (kept by the index: no pass over the channel). */
  pinned(channelId) {
    return this.#index.pinned(channelId);
  }

  /** May I invite people to the workspace? (backend/access.py `may_invite`) */
  mayInvite() {
    return mayInvite(this.session.value?.user?.role);
  }

  /** Can I archive this channel? The registry's rule for `archived` (its creator or an admin). */
  canArchive(channelId) {
    return this.may('channels', channelId, 'archived');
  }

  /**
   * May I do `operation` ('delete' or a field's name) to this record? Judged by the registry's rule
   * from what the device holds (sync/rights.js); the server has the last word.
   * @param {string} collection
   * @param {string} id
   * @param {string} operation
   */
  may(collection, id, operation) {
    const fields = this.record(collection, id)?.fields ?? {};
    const channelId = collection === 'channels' ? id : fields.channel;
    const channel = channelId ? this.record('channels', channelId)?.fields : undefined;
    return may(collection, operation, {
      me: this.me.value,
      role: this.session.value?.user?.role,
      fields: { ...fields, id },
      member: channelId ? this.isMember(channelId) : false,
      archived: channel?.archived === true,
      creating: false,
    });
  }

  /**
   * Search what this device holds, with the shared query syntax. Newest first.
   * Returns {results, total} (results capped at `limit`).
   */
  searchLocal(query, { limit = 50 } = {}) {
    return searchHeld(this, query, { limit });
  }

  #describeChannel(id, record) {
    const f = record.fields;
    let name = f.name ?? '';
    let peer = null;
    if (f.kind === 'dm' || f.kind === 'group') {
      const me = this.me.value;
      const others = this.membersOf(id).filter((u) => u !== me);
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
      createdBy: f.created_by ?? null,
      pending: record.pending,
      peer,
    };
  }

}

export { memberId };
