// Writes the views make. Each one is a set of changes recorded in the replica in one
// transaction (optimistic: it shows at once as pending), then the sync is told. How a write
// reaches the outbox (grouped, sent at once, or alone) is write-path.js; the few operations that
// are not changes to records (my devices, invites) are server calls, inherited from
// server-calls.js, so views never hold the transport.

import { ulid } from '../lib/ulid.js';
import { memberId, readId, dmId, reactionId, receiptId, followId, prefId } from '../sync/scopes.js';
import { findMentions } from '../lib/mentions.js';
import { derivedId } from '../sync/registry.js';
import { fileMessageChanges } from '../files/deliver.js';
import { ServerCalls } from './server-calls.js';
import { WritePath } from './write-path.js';

/** @typedef {import('./write-path.js').AfterWrite} AfterWrite */

export class Actions extends ServerCalls {
  /** Per channel (or thread), the mids of my last cursor write: the next one replaces them. */
  #cursorMids = new Map();
  #replica;
  #queries;
  #afterWrite;
  #now;
  #marking = new Map();
  #store;
  #path;

  /** afterWrite(mutations, what) updates the store and nudges the sync (local-writes.js, wired in
   * app.js). `writing` is the store's count of writes in flight: from the call until the outbox
   * shows the write. */
  /**
   * @param {object} o
   * @param {import('../replica/replica.js').Replica} o.replica
   * @param {import('./queries.js').Queries} o.queries
   * @param {(mutations: any[], what?: AfterWrite) => Promise<void>} o.afterWrite
   * @param {import('./server-calls.js').ServerTransport | null} [o.transport]
   * @param {{value: number} | null} [o.writing]
   * @param {(error: Error) => void} [o.onStorageError]
   * @param {() => number} [o.now]
   * @param {() => void} [o.beforeSend] a write that will be sent at once is starting (local-writes.js holds drawing)
   * @param {() => boolean} [o.sendNow] will a write now start a sync at once (this tab leads, online, idle)?
   * @param {() => (import('../sync/sender.js').SendWorker | null)} [o.sender] the send worker, when there is one
   * @param {(first: Promise<import('../sync/round.js').First>) => void} [o.started] the send worker's request
   *   is on its way: the engine takes it as its first round (told synchronously, so nothing else starts one)
   * @param {import('./store.js').Store | null} [o.store] the store (failed writes kept only in memory, local-writes.js)
   */
  constructor({ replica, queries, afterWrite, transport = null, writing = null, onStorageError = () => {}, now = Date.now, beforeSend = () => {},
    sendNow = () => false, sender = () => null, started = () => {}, store = null }) {
    super(transport);
    this.#store = store;
    this.#replica = replica;
    this.#queries = queries;
    this.#afterWrite = afterWrite;
    this.#now = now;
    this.#path = new WritePath({ replica, afterWrite, writing, onStorageError, now, beforeSend, sendNow, sender, started });
  }

  /**
   * @param {{collection: string, id: string, fields: Record<string, any>}[]} changes
   * @param {Record<string, unknown>} [metaEntries]
   * @param {{lazy?: boolean, supersede?: number[]}} [options] (WritePath#write)
   */
  #write(changes, metaEntries = {}, options = {}) {
    return this.#path.write(changes, metaEntries, options);
  }

  /** Grouped writes (Replica#enqueue) for what need not leave at once; false: one transaction
   * awaited per write (the earlier path, kept for an A/B run of the benchmark). */
  get grouped() {
    return this.#path.grouped;
  }

  set grouped(on) {
    this.#path.grouped = on;
  }

  #me() {
    const me = this.#queries.me.value;
    if (!me) throw new Error('not signed in');
    return me;
  }

  /** The mentions of a text in a channel, as a message's `mentions` field (queued jobs keep it:
   * the service worker that may deliver them has no member list at hand). */
  mentionsIn(channel, text) {
    return this.#mentions(channel, text);
  }

  #mentions(channel, text) {
    if (!text.includes('@')) return ''; // every mention starts with one: no need to list the members
    const people = this.#queries.membersOf(channel).map((id) => ({ id, ...(this.#queries.user(id) ?? {}) }));
    return findMentions(text, people);
  }

  /** Post a message; with `thread` a reply, which also makes me follow the thread. The draft kept
   * under `draftKey` is cleared in the same transaction that queues the message. */
  async sendMessage(channel, text, { thread = null, draftKey = null, task = null } = {}) {
    const id = ulid(this.#now());
    /** @type {Record<string, unknown>} */
    const fields = { channel, text };
    if (thread) fields.thread = thread;
    if (task) fields.task = task; // a comment on a task (dispatch/task-actions.js)
    const mentions = this.#mentions(channel, text);
    if (mentions) fields.mentions = mentions;
    /** @type {{collection: string, id: string, fields: Record<string, unknown>}[]} */
    const changes = [{ collection: 'messages', id, fields }];
    if (thread) changes.push(this.#follow(channel, thread, true));
    await this.#write(changes, draftKey ? { [`draft:${draftKey}`]: null } : {});
    return id;
  }

  /**
   * A message whose files' bytes are stored (files/queue.js): the file records, then the message,
   * in one write (files/deliver.js), so the message never arrives before its files.
   * `task`: a comment on a task, whose files are the task's attachments (views/tasks-detail.js).
   * @param {{channel: string, text: string, thread: string | null, task?: string | null, message: string | null, mentions?: string,
   *   versionOf?: string | null, files: {id: string, name: string, type: string, size: number, digest?: string, width?: number, height?: number}[]}} job
   */
  async sendWithFiles(job) {
    const mentions = job.mentions ?? this.#mentions(job.channel, job.text); // older queued jobs have none
    await this.#write(fileMessageChanges({ ...job, mentions }));
  }

  /** Changes a view composes itself (tasks' and the calendar's records): the same outbox path. */
  writeChanges(changes) {
    return this.#write(changes);
  }

  /** Change the text of my message (the server marks it edited and keeps every version). */
  async editMessage(id, text) {
    const held = this.#queries.record('messages', id);
    if (!held || held.fields.deleted) return;
    const fields = { text, mentions: this.#mentions(held.fields.channel, text) };
    await this.#write([{ collection: 'messages', id, fields }]);
  }

  async deleteMessage(id) {
    await this.#write([{ collection: 'messages', id, fields: { deleted: true } }]);
  }

  async setPinned(id, pinned) {
    await this.#write([{ collection: 'messages', id, fields: { pinned } }]);
  }

  /** Add my reaction, or take it back: one record per person and emoji. */
  async toggleReaction(messageId, emoji) {
    const me = this.#me();
    const message = this.#queries.record('messages', messageId);
    if (!message) return;
    const id = reactionId(messageId, me, emoji);
    const held = this.#queries.record('reactions', id);
    const fields = held
      ? { on: !held.fields.on }
      : { message: messageId, channel: message.fields.channel, user: me, emoji, on: true };
    await this.#write([{ collection: 'reactions', id, fields }]);
  }

  #follow(channel, parent, on) {
    const me = this.#me();
    const id = followId(me, parent);
    const held = this.#queries.record('follows', id);
    return { collection: 'follows', id, fields: held ? { on } : { message: parent, channel, user: me, on } };
  }

  /** I have read a thread up to reply `tn`: kept on my follows record (following stays as it was). */
  async markThreadRead(channel, parent, tn) {
    const key = `t:${parent}`;
    if (!(tn > this.#queries.threadRead(parent)) || tn <= (this.#marking.get(key) ?? 0)) return false;
    this.#marking.set(key, tn);
    const me = this.#me();
    const id = followId(me, parent);
    const held = this.#queries.record('follows', id);
    const fields = held
      ? { read: tn }
      : { message: parent, channel, user: me, on: this.#queries.following(parent), read: tn };
    try {
      await this.#cursorWrite(key, [{ collection: 'follows', id, fields }]);
    } catch (error) {
      this.#marking.delete(key);
      throw error;
    }
    return true;
  }

  /**
   * A read cursor (or receipt) write: off the send path. It never starts a sync of its own while
   * one is pending (lazy), and it replaces my previous cursor write for the same place if that
   * one has not left yet, so at most one waits per channel.
   */
  async #cursorWrite(key, changes) {
    const supersede = this.#cursorMids.get(key) ?? [];
    const mutations = await this.#write(changes, {}, { lazy: true, supersede });
    this.#cursorMids.set(key, mutations.map((m) => m.mid));
  }

  /** Follow or leave a thread. */
  async setFollowing(channel, parent, on) {
    await this.#write([this.#follow(channel, parent, on)]);
  }

  /** Per-channel notification level and mute, stored for push. */
  async setPrefs(channel, prefs) {
    const me = this.#me();
    const id = prefId(me, channel);
    const held = this.#queries.record('prefs', id);
    await this.#write([{ collection: 'prefs', id, fields: held ? { ...prefs } : { channel, user: me, ...prefs } }]);
  }

  /**
   * Keep a channel offline on this device: 'recent' | '30d' | 'all' (the `keeps` record). Choosing
   * 'all' asks the browser to keep this origin's storage (navigator.storage.persist()); its answer
   * is returned (null when not asked).
   */
  /** @param {string} channel @param {string} keep @param {{device: string, navigator?: any}} where */
  async setKeep(channel, keep, { device, navigator = globalThis.navigator }) {
    const me = this.#me();
    const id = derivedId('keeps', { user: me, device, channel });
    const held = this.#queries.record('keeps', id);
    await this.#write([{ collection: 'keeps', id, fields: held ? { keep } : { channel, user: me, device, keep } }]);
    if (keep !== 'all') return null;
    return (await navigator?.storage?.persist?.().catch(() => false)) ?? null;
  }

  /** My notification settings (the `notices` record): private previews, do-not-disturb, pause. */
  async setNotices(fields) {
    const me = this.#me();
    const held = this.#queries.record('notices', me);
    await this.#write([{ collection: 'notices', id: me, fields: held ? { ...fields } : { user: me, ...fields } }]);
  }

  /** Mark a channel unread from a message: my cursor goes back to just before it. */
  async markUnread(channel, n) {
    const me = this.#me();
    this.holdRead(channel);
    this.#marking.delete(channel);
    this.#cursorMids.delete(channel);
    const id = readId(me, channel);
    const held = this.#queries.record('reads', id);
    const value = Math.max(0, n - 1);
    await this.#write([{ collection: 'reads', id, fields: held ? { n: value } : { channel, user: me, n: value } }]);
  }

  #held = new Set();

  /** After "mark as unread", reading stops moving the cursor until the channel is opened again. */
  holdRead(channel) {
    this.#held.add(channel);
  }

  releaseRead(channel) {
    this.#held.delete(channel);
  }

  /** A new channel and my membership, in one write. Returns the channel id. */
  async createChannel({ name, kind = 'public', topic = '' }) {
    const me = this.#me();
    const id = ulid(this.#now());
    const fields = { name, kind };
    if (topic) fields.topic = topic;
    await this.#write([
      { collection: 'channels', id, fields },
      { collection: 'members', id: memberId(id, me), fields: { channel: id, user: me } },
    ]);
    return id;
  }

  async joinChannel(channel) {
    const me = this.#me();
    const id = memberId(channel, me);
    const held = this.#queries.record('members', id);
    const fields = held ? { left: false } : { channel, user: me };
    await this.#write([{ collection: 'members', id, fields }]);
  }

  /** Add someone to a private channel (its creator or a member may; the server checks). */
  async addMember(channel, user) {
    const id = memberId(channel, user);
    const held = this.#queries.record('members', id);
    await this.#write([{ collection: 'members', id, fields: held ? { left: false } : { channel, user } }]);
  }

  async leaveChannel(channel) {
    const me = this.#me();
    await this.#write([{ collection: 'members', id: memberId(channel, me), fields: { left: true } }]);
  }

  /** Open (or create) the 1:1 DM with `user`: the channel and both memberships in one write. */
  async startDirectMessage(user) {
    const me = this.#me();
    const id = dmId(me, user);
    if (this.#queries.record('channels', id) && this.#queries.isMember(id)) return id;
    const changes = [];
    if (!this.#queries.record('channels', id)) {
      changes.push({ collection: 'channels', id, fields: { name: '', kind: 'dm' } });
    }
    for (const person of new Set([me, user])) {
      const mid = memberId(id, person);
      const held = this.#queries.record('members', mid);
      if (!held) changes.push({ collection: 'members', id: mid, fields: { channel: id, user: person } });
      else if (held.fields.left && person === me) changes.push({ collection: 'members', id: mid, fields: { left: false } });
    }
    if (changes.length) await this.#write(changes);
    return id;
  }

  /** I have seen a channel up to message n: move my read cursor forward (never back). */
  async markRead(channel, n) {
    const me = this.#me();
    // Scrolling and rendering can ask several times before the first write shows: once is enough.
    if (this.#held.has(channel)) return false;
    if (!(n > this.#queries.readCursor(channel)) || n <= (this.#marking.get(channel) ?? 0)) return false;
    // Nothing past my cursor is anyone else's (my own messages are never unread to me, nor news
    // to my receipt): the counts are already right on every device, so no write, no request.
    if (this.#queries.unread(channel) === 0) return false;
    this.#marking.set(channel, n);
    const id = readId(me, channel);
    const held = this.#queries.record('reads', id);
    const changes = [{ collection: 'reads', id, fields: held ? { n } : { channel, user: me, n } }];
    // In DMs and group DMs the others see how far I have read ("seen by").
    const kind = this.#queries.record('channels', channel)?.fields.kind;
    if (kind === 'dm' || kind === 'group') {
      const rid = receiptId(channel, me);
      const receipt = this.#queries.record('receipts', rid);
      if (!(receipt?.fields.n >= n)) {
        changes.push({ collection: 'receipts', id: rid, fields: receipt ? { n } : { channel, user: me, n } });
      }
    }
    try {
      await this.#cursorWrite(channel, changes);
    } catch (error) {
      this.#marking.delete(channel);
      throw error;
    }
    return true;
  }

  /** Archive (read-only) or unarchive a channel; members may, the server checks. */
  async setArchived(channel, archived) {
    await this.#write([{ collection: 'channels', id: channel, fields: { archived } }]);
  }

  async renameSelf(name) {
    const me = this.#me();
    await this.#write([{ collection: 'users', id: me, fields: { name } }]);
  }

  /** Keep what someone is typing, per channel, on this device (survives a closed tab). */
  async saveDraft(channel, text) {
    await this.#replica.setMeta(`draft:${channel}`, text || null);
    await this.#afterWrite([], { metaEntries: { [`draft:${channel}`]: text || null } });
  }

  draft(channel) {
    return this.#queries.draft(channel);
  }

  async retry(mid) {
    const unsaved = this.#store?.unsaved(mid) ?? null;
    this.#store?.dropUnsaved(mid);
    const mutation = await this.#replica.retry(mid, this.#now());
    if (!mutation && unsaved) {
      // A write that never committed, and that `failed` could not hold either: write it again.
      await this.#write([{ collection: unsaved.collection, id: unsaved.id, fields: unsaved.fields }]);
      return;
    }
    await this.#afterWrite(mutation ? [mutation] : [], { reread: true });
  }

  async discard(mid) {
    this.#store?.dropUnsaved(mid);
    await this.#replica.discard(mid);
    await this.#afterWrite([], { reread: true });
  }
}
