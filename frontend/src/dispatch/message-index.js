// The messages of every channel, grouped and ordered, maintained as records change (issue 17):
// a change to k messages costs O(k log n) (binary search into sorted arrays), never a regroup.
//
// Display order of a channel: sent top-level messages by the server's number n, then unsent ones
// (pending and failed) in the order they were written (mid). Thread replies are listed under
// their parent: sent by tn, then unsent by mid. Gaps (holes between held numbers) are kept as
// numbers are inserted. Mentions of me are kept as a set, so the mentions list never scans all.
//
// Items (what the views get) are built by `describe` for the changed records only. A channel's
// `items` array is rebuilt lazily, once per change of that channel, when a view reads it.
//
// A backfill page (issue 16) lands below everything held: it is prepended with the holes inside
// it and at its top edge, the holes above it are kept as they are, and a channel with nothing
// unsent hands out its `sent` array itself (copied before the next change in place), so a page
// costs one copy of the channel's list, not three passes over it. Each pass over a 100,000-item
// list is also 800 KB of garbage, and the collector's pauses were the backfill's slow frames.

import { signal } from '@preact/signals';

/** @type {Item[]} shared empty list (never mutated) */
const NO_ITEMS = [];

/** @typedef {{id: string, channel: string, n?: number, tn?: number, mid: number, thread: string | null, state: string, deleted?: boolean, author?: string | null, mentions?: string, [key: string]: any}} Item */
/**
 * @typedef {object} Entry
 * @property {Item[]} sent top-level, by n
 * @property {Item[]} unsent top-level, by mid
 * @property {Map<string, {sent: Item[], unsent: Item[], list: Item[] | null}>} threads
 * @property {{after: number, before: number}[]} gaps by `after`
 * @property {Item[] | null} items sent then unsent; null when it must be rebuilt
 * @property {boolean} shared `items` is `sent` itself: copy `sent` before changing it in place
 * @property {Map<string, Item>} pinned top-level items pinned and not deleted, by placement key
 * @property {Item[] | null} pinnedList those in display order; null when it must be rebuilt
 * @property {import('@preact/signals').Signal<number>} version
 */

const byN = (item) => item.n ?? 0;
const byTn = (item) => item.tn ?? 0;
const byMid = (item) => item.mid ?? 0;

/** First index whose key is greater than `key` (so equal keys keep insertion order). */
function upper(list, key, keyOf) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keyOf(list[mid]) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insert(list, item, keyOf) {
  const at = upper(list, keyOf(item), keyOf);
  list.splice(at, 0, item);
  return at;
}

function remove(list, item, keyOf) {
  let at = upper(list, keyOf(item), keyOf) - 1;
  while (at >= 0 && list[at] !== item && keyOf(list[at]) === keyOf(item)) at--;
  if (at >= 0 && list[at] === item) list.splice(at, 1);
  return at;
}

/** Below this many new items in one channel, placing them one by one is as cheap. */
const BULK_MERGE = 32;

/** Two lists sorted by n as one (stable: on equal n the held item comes first, as `insert` puts it). */
function mergeByN(held, added) {
  const out = new Array(held.length + added.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < held.length && j < added.length) out[k++] = byN(added[j]) < byN(held[i]) ? added[j++] : held[i++];
  while (i < held.length) out[k++] = held[i++];
  while (j < added.length) out[k++] = added[j++];
  return out;
}

/** The holes of a list sorted by n: [{after, before}] wherever the next n is more than one up. */
function gapsOf(sent) {
  const gaps = [];
  for (let i = 1; i < sent.length; i++) {
    const after = byN(sent[i - 1]);
    const before = byN(sent[i]);
    if (before > after + 1) gaps.push({ after, before });
  }
  return gaps;
}

/** Words of a space-separated list (mentions, repliers). */
const words = (value) => (typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : []);

export class MessageIndex {
  /** @type {Map<string, Entry>} */
  #channels = new Map();
  /** @type {Map<string, Item>} placement key (`r:<id>` record, `f:<mid>` failed) -> item */
  #placed = new Map();
  /** @type {Map<string, Item>} items that mention me or @channel and are not mine */
  #mentions = new Map();
  /** Moves on every change, for queries over all channels (mentions, gaps). */
  version = signal(0);

  /** me(): my user id; describe(id, record): the item a view shows. */
  constructor({ me, describe }) {
    this.me = me;
    this.describe = describe;
  }

  clear() {
    this.#placed = new Map();
    this.#mentions = new Map();
    for (const entry of this.#channels.values()) {
      entry.sent = [];
      entry.unsent = [];
      entry.threads = new Map();
      entry.gaps = [];
      entry.items = null;
      entry.shared = false;
      entry.pinned = new Map();
      entry.pinnedList = null;
      entry.version.value += 1;
    }
    this.version.value += 1;
  }

  /** @returns {Entry} */
  entry(channel) {
    let e = this.#channels.get(channel);
    if (!e) {
      e = { sent: [], unsent: [], threads: new Map(), gaps: [], items: null, shared: false, pinned: new Map(), pinnedList: null, version: signal(0) };
      this.#channels.set(channel, e);
    }
    return e;
  }

  channels() {
    return this.#channels;
  }

  /** Put (or take away, with item null) whatever stands at placement `key`. */
  place(key, item) {
    const old = this.#placed.get(key);
    if (old) this.#unplace(key, old);
    if (item && typeof item.channel === 'string') this.#put(key, item);
  }

  /**
   * Many placements at once (a bulk page): top-level numbered messages new to the index are merged
   * into their channel's list in one pass, O(n + k), and its gaps recomputed once, instead of one
   * splice each (k splices at the front of a 100,000-item list was the backfill's main cost).
   * Everything else is placed one by one, as `place` does.
   * @param {[string, Item | null][]} entries
   */
  placeMany(entries) {
    /** @type {Map<string, [string, Item][]>} */
    const fresh = new Map();
    for (const [key, item] of entries) {
      if (item && !this.#placed.has(key) && typeof item.channel === 'string' && !item.thread && typeof item.n === 'number') {
        let list = fresh.get(item.channel);
        if (!list) fresh.set(item.channel, (list = []));
        list.push([key, item]);
      } else this.place(key, item);
    }
    for (const [channel, list] of fresh) {
      const e = this.entry(channel);
      if (list.length < BULK_MERGE) {
        for (const [key, item] of list) this.#put(key, item);
        continue;
      }
      list.sort((a, b) => byN(a[1]) - byN(b[1]));
      const added = list.map(([, item]) => item);
      const top = byN(added[added.length - 1]);
      if (!e.sent.length || top < byN(e.sent[0])) {
        // Older history below all that is held (a backfill page): the holes above stay as they were.
        const gaps = gapsOf(added);
        if (e.sent.length && byN(e.sent[0]) > top + 1) gaps.push({ after: top, before: byN(e.sent[0]) });
        e.sent = added.concat(e.sent);
        e.gaps = gaps.concat(e.gaps);
      } else {
        e.sent = mergeByN(e.sent, added);
        e.gaps = gapsOf(e.sent);
      }
      e.shared = false;
      for (const [key, item] of list) {
        this.#placed.set(key, item);
        if (this.#mentionsMe(item)) this.#mentions.set(key, item);
        if (item.pinned && !item.deleted) this.#pin(e, key, item);
      }
      this.#touched(e);
    }
  }

  /** A top-level list of a channel, sent then unsent. */
  items(channel) {
    const e = this.entry(channel);
    e.version.value; // subscribe the caller to this channel only
    if (!e.items) {
      if (!e.unsent.length) {
        // Nothing unsent: the list is `sent` as it stands (copied before it next changes in place).
        e.items = e.sent.length ? e.sent : NO_ITEMS;
        e.shared = e.sent.length > 0;
      } else e.items = e.sent.concat(e.unsent);
    }
    return e.items;
  }

  /** The top-level items of a channel that are pinned and not deleted, in display order. */
  pinned(channel) {
    const e = this.entry(channel);
    e.version.value;
    if (!e.pinnedList) {
      const sent = [];
      const unsent = [];
      for (const item of e.pinned.values()) (typeof item.n === 'number' ? sent : unsent).push(item);
      e.pinnedList = sent.sort((a, b) => byN(a) - byN(b)).concat(unsent.sort((a, b) => byMid(a) - byMid(b)));
    }
    return e.pinnedList;
  }

  replies(channel, parent) {
    const e = this.entry(channel);
    e.version.value;
    const t = e.threads.get(parent);
    if (!t) return NO_ITEMS;
    if (!t.list) t.list = t.sent.concat(t.unsent);
    return t.list;
  }

  numbers(channel) {
    const e = this.entry(channel);
    e.version.value;
    const last = e.sent.length ? byN(e.sent[e.sent.length - 1]) : 0;
    const low = e.sent.length ? byN(e.sent[0]) : 0;
    return { last, low, contiguous: e.gaps.length ? e.gaps[0].after : last, gaps: e.gaps.slice() };
  }

  /** How many numbered messages of a channel are held (the sent list is exactly those). */
  held(channel) {
    const e = this.entry(channel);
    e.version.value;
    return e.sent.length;
  }

  /** Items that mention me (or @channel), written by others, sent; with `isReply`. */
  mentioned() {
    this.version.value;
    return [...this.#mentions.values()];
  }

  #put(key, item) {
    const e = this.entry(item.channel);
    if (item.thread) {
      let t = e.threads.get(item.thread);
      if (!t) {
        t = { sent: [], unsent: [], list: null };
        e.threads.set(item.thread, t);
      }
      if (item.state === 'sent') insert(t.sent, item, byTn);
      else insert(t.unsent, item, byMid);
      t.list = null;
    } else if (typeof item.n === 'number') {
      this.#own(e);
      const at = insert(e.sent, item, byN);
      this.#gapsAround(e, at, item.n, true);
    } else {
      insert(e.unsent, item, byMid);
    }
    this.#placed.set(key, item);
    if (this.#mentionsMe(item)) this.#mentions.set(key, item);
    if (!item.thread && item.pinned && !item.deleted) this.#pin(e, key, item);
    this.#touched(e);
  }

  /** `sent` is about to change in place: if a view holds it as `items`, change a copy instead. */
  #own(e) {
    if (!e.shared) return;
    e.sent = e.sent.slice();
    e.shared = false;
  }

  #pin(e, key, item) {
    e.pinned.set(key, item);
    e.pinnedList = null;
  }

  #unplace(key, item) {
    const e = this.entry(item.channel);
    if (item.thread) {
      const t = e.threads.get(item.thread);
      if (t) {
        if (item.state === 'sent') remove(t.sent, item, byTn);
        else remove(t.unsent, item, byMid);
        t.list = null;
        if (!t.sent.length && !t.unsent.length) e.threads.delete(item.thread);
      }
    } else if (typeof item.n === 'number') {
      this.#own(e);
      const at = remove(e.sent, item, byN);
      if (at >= 0) this.#gapsAround(e, at, item.n, false);
    } else {
      remove(e.unsent, item, byMid);
    }
    this.#placed.delete(key);
    this.#mentions.delete(key);
    if (e.pinned.delete(key)) e.pinnedList = null;
    this.#touched(e);
  }

  /**
   * Keep the gaps after number n was inserted at (or removed from) index `at` of `sent`.
   * Only its neighbours matter: a hole (prev, next) splits into (prev, n) and (n, next), or back.
   */
  #gapsAround(e, at, n, inserted) {
    const prev = at > 0 ? byN(e.sent[at - 1]) : null;
    const next = inserted ? (at + 1 < e.sent.length ? byN(e.sent[at + 1]) : null) : at < e.sent.length ? byN(e.sent[at]) : null;
    if (prev === n || next === n) return; // a duplicate number changes no hole
    const drop = (after) => {
      const i = upper(e.gaps, after, (g) => g.after) - 1;
      if (i >= 0 && e.gaps[i].after === after) e.gaps.splice(i, 1);
    };
    const add = (after, before) => {
      if (before > after + 1) insert(e.gaps, { after, before }, (g) => g.after);
    };
    if (inserted) {
      if (prev !== null && next !== null) drop(prev);
      if (prev !== null) add(prev, n);
      if (next !== null) add(n, next);
    } else {
      if (prev !== null) drop(prev);
      drop(n);
      if (prev !== null && next !== null) add(prev, next);
    }
  }

  #mentionsMe(item) {
    if (!item.mentions || item.deleted || item.state !== 'sent') return false;
    const me = this.me();
    if (item.author === me) return false;
    const named = words(item.mentions);
    return named.includes(me) || named.includes('channel');
  }

  #touched(e) {
    e.items = null;
    e.version.value += 1;
    this.version.value += 1;
  }
}

export { words };
