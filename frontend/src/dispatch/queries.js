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

import { computed } from '@preact/signals';
import { may, mayInvite } from '../sync/rights.js';
import { ShownMap } from './store.js';
import { MessageIndex } from './message-index.js';
import { memberId, readId, receiptId, followId, prefId } from '../sync/scopes.js';
import { parseQuery, personNamed, timeMatches } from '../lib/search-query.js';
import { unreadCount } from '../sync/unread.js';

const EMPTY = new Map();
/** From this many messages changed at once, the index takes them in one merge (MessageIndex#placeMany). */
const BULK = 256;

/** Space-separated ids (mentions, repliers) as a list. */
/** The one empty list of words: most messages have no repliers, and a list each was 100,000 arrays kept for a backfilled channel. */
const NO_WORDS = Object.freeze(/** @type {string[]} */ ([]));
export const words = (value) => (typeof value === 'string' && value ? value.split(/\s+/).filter(Boolean) : /** @type {string[]} */ (NO_WORDS));

export class Queries {
  #store;
  #collections = new Map();
  #index;
  /** Failed mutations of messages as the index holds them: edits by record id, the rest by mid. */
  #failedEdits = new Map();
  #failedItems = new Map();

  /** @param {import('./store.js').Store} store */
  constructor(store) {
    this.#store = store;
    const s = store;

    this.me = computed(() => s.meta.value.user ?? null);
    this.session = computed(() => s.meta.value.session ?? null);
    this.pendingCount = computed(() => s.outboxSize.value + s.writing.value);

    // The message grouping is maintained as records change, never recomputed (message-index.js).
    this.#index = new MessageIndex({
      me: () => s.meta.peek().user ?? null,
      describe: (id, record) => this.#describeMessage(id, record),
    });
    s.subscribe({
      changed: (collection, ids) => {
        if (collection !== 'messages') return;
        let failedTouched = false;
        // Many at once (a bulk history page): one merge per channel instead of a splice each.
        if (ids.size >= BULK) this.#index.placeMany([...ids].map((id) => this.#itemFor(id)));
        for (const id of ids) {
          if (ids.size < BULK) this.#placeMessage(id);
          if (this.#failedEdits.has(id) || s.failed.peek().some((f) => f.id === id)) failedTouched = true;
        }
        if (failedTouched) this.#syncFailed();
      },
      reset: () => this.#rebuild(),
      failed: () => this.#syncFailed(),
    });
    this.#rebuild();

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
    return record ? this.#describeMessage(id, record) : null;
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
    const parsed = typeof query === 'string' ? parseQuery(query) : query;
    const me = this.me.value;
    const names = (id, value) => {
      const u = this.user(id) ?? {};
      return personNamed(value, id, u.name, u.email);
    };
    const named = (c) => parsed.channels.some((value) => {
      const conversation = c.kind === 'dm' || c.kind === 'group';
      if (value.startsWith('@')) return conversation && this.membersOf(c.id).some((u) => u !== me && names(u, value.slice(1)));
      return !conversation && (c.name.toLowerCase() === value.toLowerCase() || c.id.toLowerCase() === value.toLowerCase());
    });
    const allowedChannels = new Set();
    for (const c of this.channels.value) {
      if (!parsed.channels.length || named(c)) allowedChannels.add(c.id);
    }
    const authorOk = new Map();
    const personMatches = (author) => {
      if (!parsed.people.length) return true;
      if (!authorOk.has(author)) authorOk.set(author, parsed.people.some((value) => names(author, value)));
      return authorOk.get(author);
    };
    const needles = [...parsed.words, ...parsed.phrases].map((n) => n.toLowerCase());
    const results = [];
    for (const [, record] of this.collection('messages').value) {
      const f = record.fields;
      if (f.deleted || typeof f.text !== 'string' || !allowedChannels.has(f.channel)) continue;
      if (needles.length) {
        const lowered = f.text.toLowerCase();
        let all = true;
        for (const needle of needles) if (!lowered.includes(needle)) { all = false; break; }
        if (!all) continue;
      }
      const author = f.author ?? this.me.value;
      if (!personMatches(author)) continue;
      if ((parsed.before || parsed.after) && !(typeof f.at === 'number' && timeMatches(parsed, f.at))) continue;
      results.push({ id: record.id ?? f.id, channel: f.channel, thread: f.thread ?? null, author, n: f.n ?? null, tn: f.tn ?? null, at: f.at ?? null, text: f.text });
    }
    results.sort((a, b) => (b.at ?? Infinity) - (a.at ?? Infinity));
    return { results: results.slice(0, limit), total: results.length, channels: [...allowedChannels] };
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

  #describeMessage(id, record) {
    const f = record.fields;
    const sent = typeof f.n === 'number' || typeof f.tn === 'number';
    return {
      id,
      channel: f.channel,
      n: f.n,
      tn: f.tn,
      // A task's comments are listed like a thread's replies, under `task:<id>` (never in the channel).
      thread: f.thread ?? (f.task ? `task:${f.task}` : null),
      text: f.deleted ? '' : (f.text ?? ''),
      deleted: Boolean(f.deleted),
      author: f.author ?? (sent ? null : this.me.peek()),
      at: f.at,
      edited: f.edited ?? null,
      mentions: f.mentions ?? '',
      pinned: Boolean(f.pinned),
      pinnedBy: f.pinned_by ?? null,
      replies: f.replies ?? 0,
      repliers: words(f.repliers),
      lastReplyAt: f.last_reply_at ?? null,
      state: sent ? 'sent' : 'pending',
      changing: Boolean(record.pending) && sent,
      mid: record.mid ?? 0,
    };
  }

  /** Place one message record (as shown now) in the index, or take it away. */
  #placeMessage(id) {
    this.#index.place(...this.#itemFor(id));
  }

  /** A message's placement in the index: [key, item], or [key, null] when it is not shown. */
  #itemFor(id) {
    const key = `r:${id}`;
    const record = this.#store.shown('messages', id);
    if (!record) return [key, null];
    const f = record.fields;
    const item = this.#describeMessage(id, record);
    const failedEdit = this.#failedEdits.get(id);
    if (failedEdit) item.failedEdit = { mid: failedEdit.mid, code: failedEdit.code, reason: failedEdit.reason };
    const hidden = item.thread ? item.deleted && item.state !== 'sent' : typeof f.n !== 'number' && f.deleted;
    return [key, hidden ? null : item];
  }

  /**
   * Failed message mutations: an edit of a sent message marks that message (`failedEdit`); one
   * that was never accepted shows where it was written, with the reason. Only what differs moves.
   */
  #syncFailed() {
    const edits = new Map();
    const items = new Map();
    for (const failed of this.#store.failed.peek()) {
      if (failed.collection !== 'messages') continue;
      const held = this.#store.confirmedRecord('messages', failed.id);
      if (held && (typeof held.fields.n === 'number' || typeof held.fields.tn === 'number')) edits.set(failed.id, failed);
      else items.set(failed.mid, failed);
    }
    const oldEdits = this.#failedEdits;
    const oldItems = this.#failedItems;
    this.#failedEdits = edits;
    this.#failedItems = items;
    for (const id of new Set([...oldEdits.keys(), ...edits.keys()])) {
      if (oldEdits.get(id) !== edits.get(id)) this.#placeMessage(id);
    }
    for (const [mid, failed] of oldItems) if (items.get(mid) !== failed) this.#index.place(`f:${mid}`, null);
    for (const [mid, failed] of items) {
      if (oldItems.get(mid) === failed) continue;
      const f = failed.fields;
      if (typeof f.channel !== 'string') continue;
      this.#index.place(`f:${mid}`, {
        id: failed.id,
        channel: f.channel,
        mid: failed.mid,
        thread: f.thread ?? null,
        text: f.text ?? '',
        author: this.me.peek(),
        state: 'failed',
        code: failed.code,
        reason: failed.reason,
        repliers: [],
      });
    }
  }

  #rebuild() {
    this.#index.clear();
    this.#failedEdits = new Map();
    this.#failedItems = new Map();
    for (const [id] of this.#store.shownEntries('messages')) this.#placeMessage(id);
    this.#syncFailed();
  }
}

export { memberId };
