/**
 * Occurrences of events: RFC 5545 series expanded by the `rrule` package, in the event's own zone.
 * The same rules as backend/calendar/recurrence.py; both pass sync_protocol/vectors/recurrence.json.
 *
 * Rule 1. A series is expanded in local wall time ("floating": a Date whose UTC fields are the wall
 *         time), then each occurrence is placed in the event's zone with Intl: a weekly 09:00 in
 *         Europe/Berlin stays 09:00 Berlin time across daylight-saving changes, wherever it is
 *         viewed. UNTIL is turned into the wall time of the event's zone first.
 * Rule 2. An all-day event's start and end are dates (end exclusive), with no zone.
 * Rule 3. An occurrence lasts the series' end minus start, in wall time.
 * Rule 4. Exceptions are keyed by the original start (`recurrence_id`): cancelled ones are left out,
 *         moved ones are shown where their new start falls.
 * Rule 5. "This and following" ends the old series just before the chosen occurrence and starts a
 *         new one there with the rest (a COUNT is shared out).
 *
 * Pure: no DOM, no I/O.
 */

import * as rrulePackage from 'rrule';

// esbuild hands us the ESM build (named exports); node the CommonJS one (under default).
const rrulePackageExports = /** @type {Record<string, any>} */ ({ ...rrulePackage });
/** @type {typeof import('rrule').rrulestr} */
const rrulestr = rrulePackageExports.rrulestr ?? rrulePackageExports.default.rrulestr;

const WALL = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d)?)?$/;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ZONE_MARGIN = 27 * HOUR;
const MAX_OCCURRENCES = 5000;
/** No exception: the occurrence is the series' own. */
const NONE = Object.freeze({});

/** @param {string} wall */
export const isAllDay = (wall) => wall.length === 10;

/** A wall time as a floating Date (its UTC fields are the wall time). @param {string} wall */
export function parseWall(wall) {
  if (!WALL.test(wall)) throw new RangeError(`${JSON.stringify(wall)} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM`);
  const date = new Date(`${isAllDay(wall) ? `${wall}T00:00` : wall}Z`);
  if (Number.isNaN(date.getTime())) throw new RangeError(`${JSON.stringify(wall)} is not a date`);
  return date;
}

/** A floating Date written as precisely as `like`. @param {Date} floating @param {string} like */
export function formatWall(floating, like) {
  return floating.toISOString().slice(0, like.length);
}

/** @type {Map<string, Intl.DateTimeFormat>} */
const formats = new Map();

/** Offsets by zone and UTC day: a day whose two ends have one offset has it throughout (zones
 * change offset at most once a day); a day with a change is measured per quarter hour. Intl is slow. */
const offsets = new Map();
const QUARTER = 900_000;

/** The zone's offset from UTC at an instant, in ms. @param {number} ms @param {string} tz */
function offset(ms, tz) {
  let known = offsets.get(tz);
  if (!known) offsets.set(tz, (known = new Map()));
  if (known.size > 100_000) known.clear();
  const day = Math.floor(ms / DAY);
  let found = known.get(day);
  if (found === undefined) {
    const first = measure(day * DAY, tz);
    found = first === measure(day * DAY + DAY - QUARTER, tz) ? first : null;
    known.set(day, found);
  }
  if (found !== null) return found;
  const quarter = `q${Math.floor(ms / QUARTER)}`;
  let exact = known.get(quarter);
  if (exact === undefined) known.set(quarter, (exact = measure(Math.floor(ms / QUARTER) * QUARTER, tz)));
  return exact;
}

/** @param {number} ms @param {string} tz */
function measure(ms, tz) {
  let format = formats.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formats.set(tz, format);
  }
  /** @type {Record<string, number>} */
  const p = {};
  for (const part of format.formatToParts(new Date(ms))) p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant (ms) a wall time names in `tz` (an all-day date: its midnight in UTC). */
export function instant(/** @type {string} */ wall, /** @type {string|null|undefined} */ tz) {
  const floating = parseWall(wall).getTime();
  if (!tz) return floating;
  const first = floating - offset(floating, tz);
  return floating - offset(first, tz);
}

/** An instant as wall time in a zone (the view's). @param {number} ms @param {string} tz */
export function wallIn(ms, tz, like = '2000-01-01T00:00') {
  return formatWall(new Date(ms + offset(ms, tz)), like);
}

const compact = (/** @type {Date} */ d) => d.toISOString().slice(0, 19).replace(/[-:]/g, '');

/** Rule 1: UNTIL in the wall time of the event's zone. */
function floatingUntil(/** @type {string} */ rule, /** @type {string|null} */ tz, /** @type {boolean} */ allDay) {
  return rule.replace(/^RRULE:/, '').replace(/UNTIL=([0-9TZ]+)/, (_, value) => {
    if (allDay) return `UNTIL=${value.slice(0, 8)}`;
    if (value.endsWith('Z')) {
      const ms = Date.UTC(+value.slice(0, 4), +value.slice(4, 6) - 1, +value.slice(6, 8),
        +value.slice(9, 11), +value.slice(11, 13), +value.slice(13, 15));
      return `UNTIL=${compact(new Date(tz ? ms + offset(ms, tz) : ms))}`;
    }
    return value.includes('T') ? `UNTIL=${value}` : `UNTIL=${value}T235959`;
  });
}

/** Parsed rules by event fields object: a record's fields are replaced, never changed, on edit. */
const parsed = new WeakMap();
/** A series' occurrences are listed once, up to this far from its start (then asked per window). */
const HORIZON = 4 * 366 * DAY;

/**
 * The series' occurrences (floating ms) in [lo, hi], inclusive, as rule.between(lo, hi, true) gives
 * them: from a list made once per rule (binary search), or from the rule beyond its horizon.
 * @param {any} rule @param {number} lo @param {number} hi @returns {Date[]}
 */
function between(rule, lo, hi) {
  let list = rule.__teamtalkList;
  if (!list) {
    const start = rule.options.dtstart.getTime();
    const bounded = rule.options.count || rule.options.until;
    // all() without an iterator is the rrule package's fast path (no per-date callback).
    const all = bounded
      ? rule.options.count && rule.options.count <= MAX_OCCURRENCES
        ? rule.all()
        : rule.all((/** @type {Date} */ _, /** @type {number} */ i) => i < MAX_OCCURRENCES)
      : rule.between(new Date(start), new Date(start + HORIZON), true);
    list = { times: all.map((/** @type {Date} */ d) => d.getTime()), end: bounded ? Infinity : start + HORIZON };
    rule.__teamtalkList = list;
  }
  if (hi > list.end) return rule.between(new Date(lo), new Date(hi), true);
  const { times } = list;
  let a = 0;
  let b = times.length;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (times[mid] < lo) a = mid + 1;
    else b = mid;
  }
  const out = [];
  for (let i = a; i < times.length && times[i] <= hi; i++) out.push(new Date(times[i]));
  return out;
}

/** The event's rule (null for a single event). @param {Record<string, any>} event */
export function series(event) {
  if (typeof event.rrule !== 'string' || !event.rrule) return null;
  const known = parsed.get(event);
  if (known && known.rrule === event.rrule && known.start === event.start && known.tz === event.tz) return known.rule;
  const tz = typeof event.tz === 'string' ? event.tz : null;
  const rule = rrulestr(floatingUntil(event.rrule, tz, isAllDay(event.start)), { dtstart: parseWall(event.start) });
  parsed.set(event, { rule, rrule: event.rrule, start: event.start, tz: event.tz });
  return rule;
}

/** @param {Record<string, any>} event */
function duration(event) {
  if (typeof event.end === 'string') return parseWall(event.end).getTime() - parseWall(event.start).getTime();
  return isAllDay(event.start) ? DAY : 0;
}

/**
 * @typedef {{event: string, recurrence_id: string|null, start: string, end: string, tz: string|null,
 *   title: string, fields: Record<string, any>, at: number, until: number}} Occurrence
 */

/**
 * Occurrences whose start instant is in [after, before) (ms), by start (Rules 1-4).
 * @param {string} eventId
 * @param {Record<string, any>} event
 * @param {Iterable<Record<string, any>>} exceptions
 * @param {number} after
 * @param {number} before
 * @returns {Occurrence[]}
 */
export function expand(eventId, event, exceptions, after, before) {
  const start = event.start;
  const tz = typeof event.tz === 'string' ? event.tz : null;
  const length = duration(event);
  const rule = series(event);
  /** @type {Occurrence[]} */
  const out = [];
  const add = (/** @type {string|null} */ rid, /** @type {Date} */ local, /** @type {Record<string, any>} */ over) => {
    const begin = typeof over.start === 'string' ? over.start : formatWall(local, start);
    const end = typeof over.end === 'string' ? over.end : formatWall(new Date(parseWall(begin).getTime() + length), start);
    const at = instant(begin, tz);
    if (at < after || at >= before) return;
    out.push({
      event: eventId, recurrence_id: rid, start: begin, end, tz, title: over.title || event.title || '',
      fields: over === NONE ? event : { ...event, ...over }, at, until: instant(end, tz),
    });
  };
  if (!rule) {
    const [own] = ownOccurrences(event, null, tz, length).items;
    if (own.at >= after && own.at < before) out.push({ event: eventId, recurrence_id: null, title: event.title || '', fields: event, tz, ...own });
    return out;
  }
  /** @type {Map<string, Record<string, any>>} */
  const byRid = new Map();
  for (const x of exceptions) if (typeof x.recurrence_id === 'string') byRid.set(x.recurrence_id, x);
  const lo = after - ZONE_MARGIN - Math.max(length, 0);
  const hi = before + ZONE_MARGIN;
  const own = ownOccurrences(event, rule, tz, length);
  if (hi <= own.end) {
    // The series' own occurrences, listed once per version of the event: a window is a binary search.
    const { items } = own;
    let a = 0;
    let b = items.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (items[mid].local < lo) a = mid + 1;
      else b = mid;
    }
    for (let i = a; i < items.length && items[i].local <= hi; i++) {
      const item = items[i];
      if (byRid.has(item.start) || item.at < after || item.at >= before) continue;
      out.push({ event: eventId, recurrence_id: item.start, start: item.start, end: item.end, tz, title: event.title || '', fields: event, at: item.at, until: item.until });
    }
  } else {
    for (const local of between(rule, lo, hi).slice(0, MAX_OCCURRENCES)) {
      const rid = formatWall(local, start);
      if (!byRid.has(rid)) add(rid, local, NONE);
    }
  }
  for (const [rid, over] of byRid) {
    if (over.cancelled === true || !WALL.test(rid)) continue;
    const local = parseWall(rid);
    if (between(rule, local.getTime(), local.getTime()).length) add(rid, local, over);
  }
  out.sort((a, b) => a.at - b.at || (a.event < b.event ? -1 : a.event > b.event ? 1 : 0));
  return out;
}

/** Each event version's own occurrences (no exceptions), with their instants. */
const owned = new WeakMap();

/**
 * @param {Record<string, any>} event @param {any} rule @param {string|null} tz @param {number} length
 * @returns {{items: {local: number, start: string, end: string, at: number, until: number}[], end: number}}
 */
function ownOccurrences(event, rule, tz, length) {
  const known = owned.get(event);
  if (known && known.start === event.start && known.end_ === event.end && known.tz === tz && known.rrule === event.rrule) return known.list;
  let locals;
  let end = Infinity;
  if (!rule) locals = [parseWall(event.start).getTime()];
  else {
    between(rule, 0, 0); // lists the rule (see between)
    locals = rule.__teamtalkList.times.slice(0, MAX_OCCURRENCES);
    end = rule.__teamtalkList.end;
  }
  const items = locals.map((local) => {
    const start = formatWall(new Date(local), event.start);
    const finish = formatWall(new Date(local + length), event.start);
    return { local, start, end: finish, at: instant(start, tz), until: instant(finish, tz) };
  });
  const list = { items, end };
  owned.set(event, { start: event.start, end_: event.end, tz, rrule: event.rrule, list });
  return list;
}

/** @param {string} rule */
const parts = (rule) => new Map(rule.replace(/^RRULE:/, '').split(';').filter((p) => p.includes('='))
  .map((p) => /** @type {[string, string]} */ ([p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)])));
/** @param {Map<string, string>} map */
const join = (map) => [...map].map(([k, v]) => `${k}=${v}`).join(';');

/**
 * Rule 5: the old series' new rrule and the new series' rrule, split at `recurrenceId`.
 * @param {Record<string, any>} event
 * @param {string} recurrenceId
 * @returns {[string, string]}
 */
export function split(event, recurrenceId) {
  const rule = series(event);
  if (!rule) throw new RangeError('only a series can be split');
  const at = parseWall(recurrenceId);
  const old = parts(event.rrule);
  const fresh = new Map(old);
  const before = rule.between(parseWall(event.start), at, true).filter((d) => d < at);
  if (old.has('COUNT')) fresh.set('COUNT', String(Math.max(1, Number(old.get('COUNT')) - before.length)));
  old.delete('COUNT');
  old.delete('UNTIL');
  if (isAllDay(event.start)) {
    old.set('UNTIL', new Date(at.getTime() - DAY).toISOString().slice(0, 10).replace(/-/g, ''));
  } else {
    const end = instant(formatWall(new Date(at.getTime() - 1000), '2000-01-01T00:00:00'), event.tz || null);
    old.set('UNTIL', `${compact(new Date(end))}Z`);
  }
  return [join(old), join(fresh)];
}
