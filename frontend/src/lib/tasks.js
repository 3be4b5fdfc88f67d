/**
 * The derived rules of tasks: a port of sync_protocol/tasks.py; both pass
 * sync_protocol/vectors/tasks.json.
 *
 * Rule 1. Assignees (labels) are the users (labels) of records whose `on` is true, sorted.
 * Rule 2. A checklist is the task's items not deleted, in position order (ties by id);
 *         progress is [done, total] over them.
 * Rule 3. "Changed since I looked": `changed_by !== me && changed > (seen ?? 0)`.
 * Rule 4. My tasks group by due date in my zone: overdue, today, week (the six days after
 *         today), later, none. A day has no zone; a time is wall time in `due_tz`, else mine.
 *
 * Pure functions: no DOM, no I/O.
 */

import { ordered } from './positions.js';

export const GROUPS = ['overdue', 'today', 'week', 'later', 'none'];
const DAY_MS = 86_400_000;

const sortedSet = (values) => [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

export const assignees = (records) => sortedSet(records.filter((r) => r.on === true).map((r) => String(r.user)));
export const labels = (records) => sortedSet(records.filter((r) => r.on === true).map((r) => String(r.label)));

/** @param {Record<string, any>} items id -> fields */
export function checklist(items) {
  return ordered(Object.entries(items).filter(([, f]) => f.deleted !== true));
}

export function progress(items) {
  const live = Object.values(items).filter((f) => f.deleted !== true);
  return [live.filter((f) => f.done === true).length, live.length];
}

export function changedSinceSeen(task, seenAt, me) {
  const { changed, changed_by: by } = task;
  if (!Number.isInteger(changed) || by == null || by === me) return false;
  return changed > (seenAt ?? 0);
}

const formatters = new Map();
/** The wall-clock parts of instant `ms` in `zone`. */
function wallParts(ms, zone) {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map(({ type, value }) => [type, value]));
  return { y: +p.year, m: +p.month, d: +p.day, h: +p.hour, min: +p.minute, s: +p.second };
}

/** The local day of instant `ms` in `zone`, as days since the epoch (comparable integers). */
export function dayNumber(ms, zone) {
  const { y, m, d } = wallParts(ms, zone);
  return Date.UTC(y, m - 1, d) / DAY_MS;
}

/** The instant of wall time "YYYY-MM-DDTHH:MM" in `zone` (earlier offset when ambiguous). */
export function wallToMs(wall, zone) {
  const [day, time] = wall.split('T');
  const [y, m, d] = day.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const guess = Date.UTC(y, m - 1, d, hh, mm);
  const offsetAt = (ms) => {
    const p = wallParts(ms, zone);
    return Date.UTC(p.y, p.m - 1, p.d, p.h, p.min, p.s) - Math.floor(ms / 1000) * 1000;
  };
  const first = guess - offsetAt(guess);
  return guess - offsetAt(first);
}

// My tasks groups thousands of tasks at one `now`: today's day number is worked out once.
let lastToday = { nowMs: NaN, zone: '', day: 0 };

/** Rule 4. */
export function dueGroup(due, dueTz, nowMs, zone) {
  if (!due) return 'none';
  if (lastToday.nowMs !== nowMs || lastToday.zone !== zone) lastToday = { nowMs, zone, day: dayNumber(nowMs, zone) };
  const today = lastToday.day;
  let day;
  if (due.includes('T')) {
    const at = wallToMs(due, dueTz || zone);
    if (at <= nowMs) return 'overdue';
    day = dayNumber(at, zone);
  } else {
    const [y, m, d] = due.split('-').map(Number);
    day = Date.UTC(y, m - 1, d) / DAY_MS;
    if (day < today) return 'overdue';
  }
  if (day === today) return 'today';
  return day <= today + 6 ? 'week' : 'later';
}
