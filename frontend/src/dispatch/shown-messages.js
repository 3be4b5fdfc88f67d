// The message index's bookkeeping (Queries, queries.js, reads the index; this keeps it in step
// with the store): each message record as shown (confirmed, pending on top) is described once, when
// it changes, and placed in the index (message-index.js), or taken away when it is not shown. Failed
// message mutations show too: an edit of a sent message marks that message (`failedEdit`); one that
// was never accepted shows where it was written, with the reason.

import { MessageIndex } from './message-index.js';

/** From this many messages changed at once, the index takes them in one merge (MessageIndex#placeMany). */
const BULK = 256;

/** The one empty list of words: most messages have no repliers, and a list each was 100,000 arrays kept for a backfilled channel. */
const NO_WORDS = Object.freeze(/** @type {string[]} */ ([]));
/** Space-separated ids (mentions, repliers) as a list. */
export const words = (value) => (typeof value === 'string' && value ? value.split(/\s+/).filter(Boolean) : /** @type {string[]} */ (NO_WORDS));

/**
 * A message record as a view shows it (top-level or reply). `me`: my id, the author of what I
 * wrote and the server has not numbered yet.
 * @param {string} id
 * @param {any} record
 * @param {string | null} me
 */
export function describeMessage(id, record, me) {
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
    author: f.author ?? (sent ? null : me),
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

export class ShownMessages {
  #store;
  #me;
  /** Failed mutations of messages as the index holds them: edits by record id, the rest by mid. */
  #failedEdits = new Map();
  #failedItems = new Map();

  /**
   * @param {import('./store.js').Store} store
   * @param {() => (string | null)} me my user id, read without subscribing
   */
  constructor(store, me) {
    this.#store = store;
    this.#me = me;
    // The message grouping is maintained as records change, never recomputed (message-index.js).
    this.index = new MessageIndex({
      me: () => store.meta.peek().user ?? null,
      describe: (id, record) => describeMessage(id, record, me()),
    });
    store.subscribe({
      changed: (collection, ids) => {
        if (collection !== 'messages') return;
        let failedTouched = false;
        // Many at once (a bulk history page): one merge per channel instead of a splice each.
        if (ids.size >= BULK) this.index.placeMany([...ids].map((id) => this.#itemFor(id)));
        for (const id of ids) {
          if (ids.size < BULK) this.#placeMessage(id);
          if (this.#failedEdits.has(id) || store.failed.peek().some((f) => f.id === id)) failedTouched = true;
        }
        if (failedTouched) this.#syncFailed();
      },
      reset: () => this.#rebuild(),
      failed: () => this.#syncFailed(),
    });
    this.#rebuild();
  }

  /** Place one message record (as shown now) in the index, or take it away. */
  #placeMessage(id) {
    this.index.place(...this.#itemFor(id));
  }

  /**
   * A message's placement in the index: [key, item], or [key, null] when it is not shown.
   * @param {string} id
   * @returns {[string, import('./message-index.js').Item | null]}
   */
  #itemFor(id) {
    const key = `r:${id}`;
    const record = this.#store.shown('messages', id);
    if (!record) return [key, null];
    const f = record.fields;
    const item = describeMessage(id, record, this.#me());
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
    for (const [mid, failed] of oldItems) if (items.get(mid) !== failed) this.index.place(`f:${mid}`, null);
    for (const [mid, failed] of items) {
      if (oldItems.get(mid) === failed) continue;
      const f = failed.fields;
      if (typeof f.channel !== 'string') continue;
      this.index.place(`f:${mid}`, {
        id: failed.id,
        channel: f.channel,
        mid: failed.mid,
        thread: f.thread ?? null,
        text: f.text ?? '',
        author: this.#me(),
        state: 'failed',
        code: failed.code,
        reason: failed.reason,
        repliers: [],
      });
    }
  }

  #rebuild() {
    this.index.clear();
    this.#failedEdits = new Map();
    this.#failedItems = new Map();
    for (const [id] of this.#store.shownEntries('messages')) this.#placeMessage(id);
    this.#syncFailed();
  }
}
