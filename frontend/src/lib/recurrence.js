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
  return wallText(floating.getTime(), like);
}

/** Days' texts (YYYY-MM-DD) by day number, and minutes' (HH:MM) by minute of the day: a month's
 * occurrences are written out after a reload, and toISOString for each was a fifth of the work. */
const dayTexts = new Map();
/** @type {string[]} */
const minuteTexts = [];
/** Years 1000-9999: four digits, as toISOString writes them (others are left to it). */
const TEXT_FROM = Date.UTC(1000, 0, 1);
const TEXT_TO = Date.UTC(10000, 0, 1);

/** formatWall of a floating time in ms. @param {number} ms @param {string} like */
export function wallText(ms, like) {
  if (!(ms >= TEXT_FROM && ms < TEXT_TO) || like.length > 19) return new Date(ms).toISOString().slice(0, like.length);
  const day = Math.floor(ms / DAY);
  let text = dayTexts.get(day);
  if (text === undefined) {
    if (dayTexts.size > 100_000) dayTexts.clear();
    dayTexts.set(day, (text = new Date(day * DAY).toISOString().slice(0, 10)));
  }
  if (like.length <= 10) return text.slice(0, like.length);
  const second = Math.floor((ms - day * DAY) / 1000);
  const minute = Math.floor(second / 60);
  const hm = (minuteTexts[minute] ??= `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`);
  if (like.length === 16) return `${text}T${hm}`;
  return `${text}T${hm}:${String(second % 60).padStart(2, '0')}`.slice(0, like.length);
}

/** @type {Map<string, Intl.DateTimeFormat>} */
const formats = new Map();

/** Offsets by zone and UTC day: a day that starts with the offset the next day starts with has
 * it throughout (zones change offset at most once a day); a day with a change is measured per
 * quarter hour. Intl is slow: a day costs one measure (its start), as the next one shares it. */
const offsets = new Map();
const QUARTER = 900_000;

/** The zone's offset from UTC at an instant, in ms. @param {number} ms @param {string} tz */
function offset(ms, tz) {
  if (tz === 'UTC' || tz === 'Etc/UTC') return 0;
  let known = offsets.get(tz);
  if (!known || known.days.size > 100_000) offsets.set(tz, (known = { days: new Map(), starts: new Map(), quarters: new Map() }));
  const day = Math.floor(ms / DAY);
  let found = known.days.get(day);
  if (found === undefined) {
    const first = startOf(known.starts, day, tz);
    found = first === startOf(known.starts, day + 1, tz) ? first : null;
    known.days.set(day, found);
  }
  if (found !== null) return found;
  const quarter = Math.floor(ms / QUARTER);
  let exact = known.quarters.get(quarter);
  if (exact === undefined) known.quarters.set(quarter, (exact = measure(quarter * QUARTER, tz)));
  return exact;
}

/** The offset at the start of a UTC day. @param {Map<number, number>} starts @param {number} day @param {string} tz */
function startOf(starts, day, tz) {
  let found = starts.get(day);
  if (found === undefined) starts.set(day, (found = measure(day * DAY, tz)));
  return found;
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
  return wallText(ms + offset(ms, tz), like);
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
/** The rrule package's last year: no occurrence is listed past it. */
const LAST_MS = Date.UTC(10000, 0, 1) - 1;
const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
const WHOLE = /^[1-9]\d{0,5}$/;

/**
 * A daily or weekly series with nothing but an interval, a count or an end (and for weekly, at
 * most its own weekday): its occurrences are its start plus whole steps of floating time, which
 * is what the rrule package lists for it (test/recurrence-steps.test.js compares the two on many
 * rules), without parsing the rule into its object and walking a calendar year by year: reading
 * a month of a few hundred such series after a reload took most of the first render's time.
 * Anything else (or anything written unusually) is left to the package. Null: not simple.
 * @param {Record<string, any>} event
 * @returns {{first: number, step: number, count: number, until: number} | null}
 */
export function simpleSeries(event) {
  const tz = typeof event.tz === 'string' ? event.tz : null;
  const text = floatingUntil(event.rrule, tz, isAllDay(event.start));
  /** @type {Map<string, string>} */
  const got = new Map();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq);
    if (eq < 1 || got.has(key)) return null;
    got.set(key, part.slice(eq + 1));
  }
  const freq = got.get('FREQ');
  if (freq !== 'DAILY' && freq !== 'WEEKLY') return null;
  const first = parseWall(event.start).getTime();
  let interval = 1;
  let count = MAX_OCCURRENCES;
  let until = LAST_MS;
  for (const [key, value] of got) {
    if (key === 'FREQ') continue;
    if (key === 'INTERVAL' && WHOLE.test(value)) interval = Number(value);
    else if (key === 'COUNT' && WHOLE.test(value)) count = Math.min(count, Number(value));
    else if (key === 'UNTIL' && /^\d{8}(T\d{6})?$/.test(value)) {
      until = Math.min(until, Date.UTC(+value.slice(0, 4), +value.slice(4, 6) - 1, +value.slice(6, 8),
        +(value.slice(9, 11) || 0), +(value.slice(11, 13) || 0), +(value.slice(13, 15) || 0)));
    } else if (key === 'WKST' && WEEKDAYS.includes(value)) continue;
    else if (key === 'BYDAY' && freq === 'WEEKLY' && value === WEEKDAYS[new Date(first).getUTCDay()]) continue;
    else return null;
  }
  if (Number.isNaN(until)) return null;
  return { first, step: interval * (freq === 'DAILY' ? DAY : 7 * DAY), count, until };
}

/**
 * The series' occurrences (floating ms) in [lo, hi], inclusive, as rule.between(lo, hi, true) gives
 * them: from a list made once per version of the event (binary search), or from the rule beyond
 * its horizon.
 * @param {Record<string, any>} event @param {number} lo @param {number} hi @returns {number[]}
 */
function between(event, lo, hi) {
  const list = listOf(event);
  if (hi > list.end) {
    if (list.simple) return stepsIn(list.simple, lo, hi, MAX_OCCURRENCES);
    return list.rule.between(new Date(lo), new Date(hi), true).map((/** @type {Date} */ d) => d.getTime());
  }
  const { times } = list;
  let a = 0;
  let b = times.length;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (times[mid] < lo) a = mid + 1;
    else b = mid;
  }
  const out = [];
  for (let i = a; i < times.length && times[i] <= hi; i++) out.push(times[i]);
  return out;
}

/** A simple series' starts in [lo, hi], at most `most` of them. */
function stepsIn(/** @type {{first: number, step: number, count: number, until: number}} */ s, /** @type {number} */ lo, /** @type {number} */ hi, /** @type {number} */ most) {
  const out = [];
  const last = Math.min(hi, s.until);
  for (let k = Math.max(0, Math.ceil((lo - s.first) / s.step)); k < s.count && out.length < most; k++) {
    const t = s.first + k * s.step;
    if (t > last) break;
    out.push(t);
  }
  return out;
}

/** Listed series by event fields object (as `parsed`). */
const lists = new WeakMap();

/**
 * The series' starts listed once per version of the event: all of them when it ends (at most
 * MAX_OCCURRENCES), else those within HORIZON of its start (`end`: how far the list holds).
 * @param {Record<string, any>} event
 * @returns {{times: number[], end: number, simple: ReturnType<typeof simpleSeries>, rule: any}}
 */
function listOf(event) {
  const known = lists.get(event);
  if (known && known.rrule === event.rrule && known.start === event.start && known.tz === event.tz) return known.list;
  const simple = simpleSeries(event);
  let list;
  if (simple) {
    const bounded = simple.count < MAX_OCCURRENCES || simple.until < LAST_MS;
    const end = bounded ? Infinity : simple.first + HORIZON;
    list = { times: stepsIn(simple, simple.first, end, MAX_OCCURRENCES), end, simple, rule: null };
  } else {
    const rule = series(event);
    const start = rule.options.dtstart.getTime();
    const bounded = rule.options.count || rule.options.until;
    // all() without an iterator is the rrule package's fast path (no per-date callback).
    const all = bounded
      ? rule.options.count && rule.options.count <= MAX_OCCURRENCES
        ? rule.all()
        : rule.all((/** @type {Date} */ _, /** @type {number} */ i) => i < MAX_OCCURRENCES)
      : rule.between(new Date(start), new Date(start + HORIZON), true);
    list = { times: all.map((/** @type {Date} */ d) => d.getTime()), end: bounded ? Infinity : start + HORIZON, simple: null, rule };
  }
  lists.set(event, { rrule: event.rrule, start: event.start, tz: event.tz, list });
  return list;
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

/** The instant of a floating time in a zone (instant() without the text). */
function instantOf(/** @type {number} */ floating, /** @type {string|null} */ tz) {
  if (!tz) return floating;
  return floating - offset(floating - offset(floating, tz), tz);
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
  const own = ownOccurrences(event, tz);
  const { length } = own;
  const repeats = typeof event.rrule === 'string' && event.rrule !== '';
  /** @type {Occurrence[]} */
  const out = [];
  const add = (/** @type {string|null} */ rid, /** @type {number} */ local, /** @type {Record<string, any>} */ over) => {
    const begin = typeof over.start === 'string' ? over.start : wallText(local, start);
    const end = typeof over.end === 'string' ? over.end : formatWall(new Date(parseWall(begin).getTime() + length), start);
    const at = instant(begin, tz);
    if (at < after || at >= before) return;
    out.push({
      event: eventId, recurrence_id: rid, start: begin, end, tz, title: over.title || event.title || '',
      fields: over === NONE ? event : { ...event, ...over }, at, until: instant(end, tz),
    });
  };
  if (!repeats) {
    const at = own.at[0];
    if (at >= after && at < before) {
      const local = own.local[0];
      out.push({
        event: eventId, recurrence_id: null, title: event.title || '', fields: event, tz, at, until: own.until[0],
        start: wallText(local, start), end: wallText(local + length, start),
      });
    }
    return out;
  }
  /** @type {Map<string, Record<string, any>>} */
  const byRid = new Map();
  for (const x of exceptions) if (typeof x.recurrence_id === 'string') byRid.set(x.recurrence_id, x);
  const lo = after - ZONE_MARGIN - Math.max(length, 0);
  const hi = before + ZONE_MARGIN;
  if (hi <= own.end) {
    // The series' own occurrences, listed once per version of the event: a window is a binary
    // search, and only the occurrences in it are written out as text.
    const locals = own.local;
    let a = 0;
    let b = locals.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (locals[mid] < lo) a = mid + 1;
      else b = mid;
    }
    for (let i = a; i < locals.length && locals[i] <= hi; i++) {
      const at = own.at[i];
      if (at < after || at >= before) continue;
      const local = locals[i];
      const rid = wallText(local, start);
      if (byRid.has(rid)) continue;
      out.push({
        event: eventId, recurrence_id: rid, start: rid, end: wallText(local + length, start), tz,
        title: event.title || '', fields: event, at, until: own.until[i],
      });
    }
  } else {
    for (const local of between(event, lo, hi).slice(0, MAX_OCCURRENCES)) {
      const rid = wallText(local, start);
      if (!byRid.has(rid)) add(rid, local, NONE);
    }
  }
  for (const [rid, over] of byRid) {
    if (over.cancelled === true || !WALL.test(rid)) continue;
    const local = parseWall(rid).getTime();
    if (between(event, local, local).length) add(rid, local, over);
  }
  out.sort((a, b) => a.at - b.at || (a.event < b.event ? -1 : a.event > b.event ? 1 : 0));
  return out;
}

/** Each event version's own occurrences (no exceptions), as numbers: floating starts, instants. */
const owned = new WeakMap();

/**
 * @param {Record<string, any>} event @param {string|null} tz
 * @returns {{local: number[], at: number[], until: number[], end: number, length: number}}
 */
function ownOccurrences(event, tz) {
  const known = owned.get(event);
  if (known && known.start === event.start && known.end_ === event.end && known.tz === tz && known.rrule === event.rrule) return known.list;
  const length = duration(event);
  let local;
  let end = Infinity;
  if (typeof event.rrule !== 'string' || !event.rrule) local = [parseWall(event.start).getTime()];
  else {
    const listed = listOf(event);
    local = listed.times.slice(0, MAX_OCCURRENCES);
    end = listed.end;
  }
  const at = local.map((t) => instantOf(t, tz));
  const until = local.map((t) => instantOf(t + length, tz));
  const list = { local, at, until, end, length };
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
