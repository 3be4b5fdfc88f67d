// Writes the views make. Each one is a set of changes recorded in the replica in one
// transaction (optimistic: it shows at once as pending), then the sync is told.

import { ulid } from '../lib/ulid.js';
import { memberId, readId, dmId } from '../sync/scopes.js';

export class Actions {
  #replica;
  #queries;
  #afterWrite;
  #now;
  #marking = new Map();
  #onStorageError;

  /** afterWrite(mutations) refreshes the store and nudges the sync (see app.js). */
  constructor({ replica, queries, afterWrite, onStorageError = () => {}, now = Date.now }) {
    this.#onStorageError = onStorageError;
    this.#replica = replica;
    this.#queries = queries;
    this.#afterWrite = afterWrite;
    this.#now = now;
  }

  async #write(changes) {
    let mutations;
    try {
      mutations = await this.#replica.write(changes, this.#now());
    } catch (error) {
      // Storage full or broken: the app shows a banner; the caller keeps the user's input.
      if (error?.name === 'StorageError') this.#onStorageError(error);
      throw error;
    }
    await this.#afterWrite(mutations);
    return mutations;
  }

  #me() {
    const me = this.#queries.me.value;
    if (!me) throw new Error('not signed in');
    return me;
  }

  async sendMessage(channel, text) {
    const id = ulid(this.#now());
    await this.#write([{ collection: 'messages', id, fields: { channel, text } }]);
    return id;
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
    if (!(n > this.#queries.readCursor(channel)) || n <= (this.#marking.get(channel) ?? 0)) return false;
    this.#marking.set(channel, n);
    const id = readId(me, channel);
    const held = this.#queries.record('reads', id);
    const fields = held ? { n } : { channel, user: me, n };
    try {
      await this.#write([{ collection: 'reads', id, fields }]);
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
    await this.#afterWrite([]);
  }

  draft(channel) {
    return this.#queries.draft(channel);
  }

  async retry(mid) {
    const mutation = await this.#replica.retry(mid, this.#now());
    await this.#afterWrite(mutation ? [mutation] : []);
  }

  async discard(mid) {
    await this.#replica.discard(mid);
    await this.#afterWrite([]);
  }
}
