// The keep-offline planner (frontend/README.md, "Keep offline"): pure decisions, no I/O, no clock.
// The backfill (dispatch/backfill.js) asks it what to do next and does it; test/offline-plan.test.js
// runs it on test/offline-plan.vectors.json.
//
// Rule 1. Each channel keeps `recent` (the newest messages and what was opened: no backfill),
//         `30d` (down to the first message older than 30 days) or `all` (down to message 1).
//         With no choice: `30d` for DMs and group DMs, `recent` for channels.
// Rule 2. Newest first. A channel is filled from the top down in bulk pages `{before: low}`,
//         where `low` is the lowest n held contiguously from the top (the stored resume point),
//         so an interrupted backfill resumes where it stopped, each number fetched once, no hole.
// Rule 3. Over the budget with something evictable: evict (even with nothing to fill). Pause, in this order: offline, `saveData` (the browser says the connection is metered),
//         the storage budget reached with nothing left to evict.
// Rule 4. The budget defaults to the lesser of 1 GB and half the origin's quota.
// Rule 5. Eviction takes the oldest messages of `recent` channels first (by time, across channels),
//         never a channel's newest RECENT_FLOOR, never `30d` or `all` channels, and in a channel
//         only from the bottom up to the first message with a pending write: what stays is one
//         contiguous run from the top, so the gap rules hold and nothing pending is touched.

export const KEEP_LEVELS = ['recent', '30d', 'all'];
export const DAY_MS = 86_400_000;
export const BULK_PAGE = 2500;
export const RECENT_FLOOR = 50;
export const GB = 1024 ** 3;

/** @param {string | undefined} kind the channel's kind */
export function defaultKeep(kind) {
  return kind === 'dm' || kind === 'group' ? '30d' : 'recent';
}

/** @param {{quota?: number} | null | undefined} estimate navigator.storage.estimate()'s answer */
export function defaultBudget(estimate) {
  const quota = estimate?.quota;
  return typeof quota === 'number' && quota > 0 ? Math.min(GB, Math.floor(quota / 2)) : GB;
}

/**
 * @typedef {{id: string, keep: string, last: number, low: number | null, oldestAt: number | null}} ChannelState
 * `last`: the channel's greatest n (0: unknown); `low`: the resume point (lowest n held from the
 * top, null: nothing held yet); `oldestAt`: the time of message `low`.
 */

/** Does a channel still need pages? @param {ChannelState} c @param {number} now */
export function wantsMore(c, now) {
  if (c.keep !== '30d' && c.keep !== 'all') return false;
  if (c.low !== null && c.low <= 1) return false;
  if (c.keep === '30d' && c.oldestAt !== null && c.oldestAt < now - 30 * DAY_MS) return false;
  return true;
}

/**
 * What to do next.
 * @param {{online: boolean, saveData: boolean, used: number, budget: number, now: number, channels: ChannelState[], evictable?: number}} s
 * @returns {{action: 'fetch', channel: string, before: number | null, limit: number} | {action: 'pause', reason: string} | {action: 'evict'} | {action: 'idle'}}
 */
export function nextStep(s) {
  // Over the budget, eviction comes first, whether or not anything is being filled.
  if (s.used >= s.budget && (s.evictable ?? 0) > 0) return { action: 'evict' };
  const todo = s.channels.find((c) => wantsMore(c, s.now));
  if (!todo) return { action: 'idle' };
  if (!s.online) return { action: 'pause', reason: 'offline' };
  if (s.saveData) return { action: 'pause', reason: 'saveData' };
  if (s.used >= s.budget) return { action: 'pause', reason: 'budget' };
  const before = todo.low ?? (todo.last > 0 ? todo.last + 1 : null);
  return { action: 'fetch', channel: todo.id, before, limit: BULK_PAGE };
}

/**
 * The resume point after a page: the lowest n it held, or the old one when it held nothing lower.
 * @param {number | null} low @param {{low: number | null, complete: boolean}} page
 */
export function resumeAfter(low, page) {
  const next = page.low === null ? low : low === null ? page.low : Math.min(low, page.low);
  return page.complete && next === null ? 1 : next;
}

/**
 * Which messages to evict to come back under the budget (Rule 5).
 * @param {{used: number, budget: number, channels: {id: string, keep: string, messages: {n: number, at: number, bytes: number, pending?: boolean}[]}[]}} s
 *   each channel's top-level messages held, oldest first
 * @returns {{channel: string, below: number, count: number, bytes: number}[]} per channel: evict every n < below
 */
export function evictionPlan(s) {
  let over = s.used - s.budget;
  if (over <= 0) return [];
  /** @type {{channel: string, n: number, at: number, bytes: number}[]} */
  const candidates = [];
  for (const c of s.channels) {
    if (c.keep !== 'recent') continue;
    const movable = c.messages.slice(0, Math.max(0, c.messages.length - RECENT_FLOOR));
    let at = -Infinity; // a running maximum, so a channel's own messages stay in n order when sorted by time
    for (const m of movable) {
      if (m.pending) break; // the bottom run ends at a pending write: nothing above it may go
      at = Math.max(at, m.at);
      candidates.push({ channel: c.id, n: m.n, at, bytes: m.bytes });
    }
  }
  candidates.sort((a, b) => a.at - b.at || (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : a.n - b.n));
  /** @type {Map<string, {channel: string, below: number, count: number, bytes: number}>} */
  const cuts = new Map();
  for (const m of candidates) {
    if (over <= 0) break;
    const cut = cuts.get(m.channel) ?? { channel: m.channel, below: m.n, count: 0, bytes: 0 };
    // Within a channel candidates come oldest first, so evicting m means evicting all below it.
    cut.below = m.n + 1;
    cut.count += 1;
    cut.bytes += m.bytes;
    cuts.set(m.channel, cut);
    over -= m.bytes;
  }
  return [...cuts.values()];
}

/**
 * "searched the newest 3,000 of 41,000 messages in #site-a": how much of a channel is held.
 * @param {{held: number, last: number, low: number | null}} c
 * @returns {{partial: boolean, held: number, total: number}}
 */
export function coverage(c) {
  return { partial: c.low !== null ? c.low > 1 : c.last > 0, held: c.held, total: c.last };
}
