/**
 * The calendar's view model, from replica records: which calendars I have, and the occurrences
 * of their events (and my tasks' due dates) in a range of days. Pure: no DOM, no I/O.
 *
 * Rule 1. My calendars are my personal one (`u:<me>`) and one per channel I belong to
 *         (`c:<channel>`); a `calendars` record may name or colour one, my `calendar_prefs`
 *         record may recolour or hide it for me.
 * Rule 2. Days are local days of the viewer's zone; an occurrence belongs to every day it touches.
 *         An all-day occurrence covers its dates as written, whatever the zone.
 */

import { expand, isAllDay, parseWall, wallIn } from './recurrence.js';

/** Colours are palette slots (classes cal-c0 … cal-c7 in styles/calendar.css: the CSP allows no
 * inline styles); a record's `color` holds the slot's number. */
export const PALETTE_SIZE = 8;
const DAY = 86_400_000;

/** @param {string} day YYYY-MM-DD @param {number} n */
export function addDays(day, n) {
  return new Date(parseWall(day).getTime() + n * DAY).toISOString().slice(0, 10);
}

/** @param {string} day @param {number} n */
export function addMonths(day, n) {
  const d = parseWall(day);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), last));
  return target.toISOString().slice(0, 10);
}

/** Monday of the week holding `day`. @param {string} day */
export function weekStart(day) {
  const weekday = (parseWall(day).getUTCDay() + 6) % 7;
  return addDays(day, -weekday);
}

/** A phone's week: this many days from the focused one (the hour grid's columns stay wide
 * enough to read and to hit; the page never scrolls sideways). */
export const NARROW_WEEK = 3;

/**
 * The days a view shows: [first, last+1).
 * @param {string} mode @param {string} day @param {boolean} [narrow] a phone's screen
 */
export function rangeOf(mode, day, narrow = false) {
  if (mode === 'day') return [day, addDays(day, 1)];
  if (mode === 'week' && narrow) return [day, addDays(day, NARROW_WEEK)];
  if (mode === 'week') return [weekStart(day), addDays(weekStart(day), 7)];
  if (mode === 'agenda') return [day, addDays(day, 30)];
  const first = `${day.slice(0, 8)}01`;
  const start = weekStart(first);
  return [start, addDays(start, 42)];
}

/** @param {string} text */
function hash(text) {
  let h = 0;
  for (const c of text) h = (h * 31 + c.codePointAt(0)) | 0;
  return Math.abs(h);
}

/** @param {unknown} value */
function slot(value) {
  const n = Number(value);
  return value !== undefined && value !== null && value !== '' && Number.isInteger(n) && n >= 0 && n < PALETTE_SIZE ? n : null;
}

/**
 * Rule 1.
 * @param {{me: string, channels: {id: string, name: string}[], named: Map<string, any>, prefs: Map<string, any>}} o
 */
export function calendarsOf({ me, channels, named, prefs }) {
  const list = [{ id: `u:${me}`, name: '', personal: true }, ...channels.map((c) => ({ id: `c:${c.id}`, name: c.name, personal: false }))];
  return list.map((c) => {
    const shared = named.get(c.id);
    const mine = prefs.get(c.id);
    return {
      ...c,
      name: shared?.name || c.name,
      color: slot(mine?.color) ?? slot(shared?.color) ?? (c.personal ? 0 : 1 + (hash(c.id) % (PALETTE_SIZE - 1))),
      hidden: mine?.hidden === true,
      inFeed: mine?.in_feed !== false,
    };
  });
}

/**
 * Occurrences touching the days [from, to) in the viewer's zone, by start (Rule 2).
 * @param {Iterable<[string, {fields: Record<string, any>}]>} events
 * @param {Iterable<[string, {fields: Record<string, any>}]>} exceptions
 * @param {{from: string, to: string, zone: string, shown: Set<string>}} o
 */
export function occurrencesIn(events, exceptions, { from, to, zone, shown }) {
  /** @type {Map<string, Record<string, any>[]>} */
  const byEvent = new Map();
  for (const [, record] of exceptions) {
    const list = byEvent.get(record.fields.event);
    if (list) list.push(record.fields);
    else byEvent.set(record.fields.event, [record.fields]);
  }
  // Instants bounding the days in the viewer's zone, widened by a day for all-day dates.
  const after = parseWall(from).getTime() - 2 * DAY;
  const before = parseWall(to).getTime() + 2 * DAY;
  const lo = addDays(from, -3);
  const hi = addDays(to, 2);
  const found = [];
  for (const [id, record] of events) {
    const f = record.fields;
    if (f.deleted || !shown.has(f.calendar) || typeof f.start !== 'string') continue;
    // A single event far from the range costs a string comparison, not an expansion.
    // A series that starts after the range costs the same; one before it is expanded (from a list
    // made once per version of the event: recurrence.js).
    if (f.start.slice(0, 10) >= hi || (!f.rrule && (f.end ?? f.start).slice(0, 10) < lo)) continue;
    let list;
    try {
      list = expand(id, f, byEvent.get(id) ?? [], after, before);
    } catch {
      continue; // a rule this browser cannot read: shown nowhere rather than breaking the view
    }
    for (const o of list) {
      let first;
      let last;
      let time = '';
      if (isAllDay(o.start)) {
        first = o.start;
        last = addDays(o.end && o.end > o.start ? o.end : addDays(o.start, 1), -1);
      } else {
        const begins = wallIn(o.at, zone);
        first = begins.slice(0, 10);
        time = begins.slice(11, 16);
        last = o.until - 1 > o.at ? wallIn(o.until - 1, zone, '2000-01-01') : first;
      }
      if (last < from || first >= to) continue;
      found.push(Object.assign(o, { calendar: f.calendar, first, last, time }));
    }
  }
  return found.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : a.at - b.at));
}

/** Tasks with a due date as all-day items. @param {Iterable<[string, {fields: Record<string, any>}]>} tasks */
export function dueTasks(tasks, { from, to }) {
  const out = [];
  for (const [id, { fields }] of tasks) {
    const due = typeof fields.due === 'string' ? fields.due.slice(0, 10) : null;
    if (!due || fields.deleted || fields.status === 'done' || due < from || due >= to) continue;
    out.push({ event: `task:${id}`, task: id, title: fields.title || '', first: due, last: due, start: due, time: '', calendar: `c:${fields.channel}` });
  }
  return out;
}

/** The days of a range, each with its items. */
export function byDay(items, from, to) {
  /** @type {Map<string, any[]>} */
  const days = new Map();
  /** @type {any[][]} */
  const lists = [];
  /** @type {Map<string, number>} */
  const index = new Map();
  for (let d = from; d < to; d = addDays(d, 1)) {
    const list = [];
    index.set(d, lists.length);
    days.set(d, list);
    lists.push(list);
  }
  for (const item of items) {
    const first = item.first < from ? 0 : index.get(item.first) ?? 0;
    const last = item.last >= to ? lists.length - 1 : index.get(item.last) ?? first;
    for (let i = first; i <= last; i++) lists[i].push(item);
  }
  return days;
}

/** The viewer's IANA zone. */
export function localZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** "10, 1h, 2d" -> [10, 60, 2880]: minutes, hours or days before (at most four weeks). */
export function reminderMinutes(text) {
  const unit = { '': 1, m: 1, h: 60, d: 1440 };
  return text.split(',').map((part) => /^\s*(\d+)\s*([mhd]?)\s*$/i.exec(part)).filter(Boolean)
    .map((m) => Number(m[1]) * unit[m[2].toLowerCase()]).filter((m) => m <= 40_320);
}
