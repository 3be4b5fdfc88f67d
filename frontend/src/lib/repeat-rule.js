/**
 * The event editor's repeat choices and the RRULE they stand for, both ways. Pure: no DOM, no I/O.
 * The library (`rrule`, in recurrence.js) expands rules; this only writes and reads the few
 * shapes a person picks from a form.
 *
 * Rule 1. The shapes: daily; weekly on chosen days; monthly on the start's date or on its weekday
 *         ("the 2nd Tuesday"); yearly; each with an interval and either a count or an end date.
 *         Anything else is "custom" and is kept as written.
 * Rule 2. An end date is inclusive: the series may have an occurrence on that day. For a timed
 *         event UNTIL is that day's last second in the event's zone, written in UTC (RFC 5545
 *         3.3.10: UNTIL is UTC when DTSTART has a zone); for an all-day event it is the date.
 * Rule 3. COUNT and UNTIL never go together (RFC 5545 forbids it); asking for both is an error.
 */

import { instant, parseWall, wallIn } from './recurrence.js';

export const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
export const SHAPES = ['never', 'daily', 'weekly', 'monthlyDate', 'monthlyWeekday', 'yearly', 'custom'];
const FREQ = { daily: 'DAILY', weekly: 'WEEKLY', monthlyDate: 'MONTHLY', monthlyWeekday: 'MONTHLY', yearly: 'YEARLY' };

/**
 * @typedef {{repeat: string, interval: string, days: string[], count: string, until: string, custom: string}} Repeat
 * Form values: strings as inputs hold them. `until` is YYYY-MM-DD or ''.
 */

/** @param {string} day */
export const weekdayOf = (day) => WEEKDAYS[(parseWall(day).getUTCDay() + 6) % 7];
/** @param {string} day the nth weekday of its month, as RRULE writes it (2TU) */
const nthOf = (day) => `${Math.ceil(parseWall(day).getUTCDate() / 7)}${weekdayOf(day)}`;

/** A new event's choices: no repeat, weekly on the start's weekday if chosen. @param {string} day */
export function noRepeat(day) {
  return { repeat: 'never', interval: '1', days: [weekdayOf(day)], count: '', until: '', custom: '' };
}

/**
 * Rule 1, reading: the form values of a rule, for an event starting on `start` in `tz`.
 * @param {string | undefined} rrule @param {string} start @param {string | null | undefined} tz
 * @returns {Repeat}
 */
export function repeatOf(rrule, start, tz) {
  const day = start.slice(0, 10);
  const out = noRepeat(day);
  if (!rrule) return out;
  const custom = { ...out, repeat: 'custom', custom: rrule };
  /** @type {Record<string, string>} */
  const parts = {};
  for (const pair of rrule.replace(/^RRULE:/, '').split(';')) {
    const [key, value] = pair.split('=');
    if (!key || value === undefined || key in parts) return custom;
    parts[key] = value;
  }
  const { FREQ: freq, INTERVAL: interval = '1', BYDAY: byday, BYMONTHDAY: bymonthday, COUNT: count, UNTIL: until } = parts;
  const known = new Set(['FREQ', 'INTERVAL', 'BYDAY', 'BYMONTHDAY', 'COUNT', 'UNTIL']);
  if (Object.keys(parts).some((k) => !known.has(k)) || !/^[1-9]\d*$/.test(interval) || (count && until)) return custom;
  let repeat = null;
  let days = out.days;
  if (freq === 'DAILY' && !byday && !bymonthday) repeat = 'daily';
  else if (freq === 'YEARLY' && !byday && !bymonthday) repeat = 'yearly';
  else if (freq === 'WEEKLY' && !bymonthday) {
    days = byday ? byday.split(',') : days;
    if (days.every((d) => WEEKDAYS.includes(d))) repeat = 'weekly';
  } else if (freq === 'MONTHLY' && !byday && bymonthday === String(parseWall(day).getUTCDate())) repeat = 'monthlyDate';
  else if (freq === 'MONTHLY' && !bymonthday && byday === nthOf(day)) repeat = 'monthlyWeekday';
  if (!repeat) return custom;
  return { ...out, repeat, interval, days: WEEKDAYS.filter((d) => days.includes(d)), count: count ?? '', until: until ? untilDay(until, tz) : '' };
}

/** The day (in the event's zone) an UNTIL value falls on. @param {string} value @param {string | null | undefined} tz */
function untilDay(value, tz) {
  const date = `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}`;
  if (!value.endsWith('Z') || !tz) return date;
  const ms = Date.UTC(+value.slice(0, 4), +value.slice(4, 6) - 1, +value.slice(6, 8), +value.slice(9, 11), +value.slice(11, 13), +value.slice(13, 15));
  return wallIn(ms, tz, '2000-01-01');
}

export class RepeatError extends Error {}

/**
 * Rules 1-3, writing: the RRULE of the form values ('' for none).
 * @param {Repeat} r @param {string} start the event's start (YYYY-MM-DD or YYYY-MM-DDTHH:MM)
 * @param {string | null | undefined} tz null for an all-day event
 */
export function ruleOf(r, start, tz) {
  if (r.repeat === 'never') return '';
  if (r.repeat === 'custom') return r.custom.replace(/^RRULE:/, '').trim();
  const day = start.slice(0, 10);
  const parts = [`FREQ=${FREQ[r.repeat]}`];
  const interval = r.interval.trim() || '1';
  if (!/^[1-9]\d{0,2}$/.test(interval)) throw new RepeatError('interval');
  if (interval !== '1') parts.push(`INTERVAL=${interval}`);
  if (r.repeat === 'weekly') parts.push(`BYDAY=${(r.days.length ? WEEKDAYS.filter((d) => r.days.includes(d)) : [weekdayOf(day)]).join(',')}`);
  if (r.repeat === 'monthlyDate') parts.push(`BYMONTHDAY=${parseWall(day).getUTCDate()}`);
  if (r.repeat === 'monthlyWeekday') parts.push(`BYDAY=${nthOf(day)}`);
  const count = r.count.trim();
  if (count && r.until) throw new RepeatError('countAndUntil');
  if (count && !/^[1-9]\d{0,3}$/.test(count)) throw new RepeatError('count');
  if (count) parts.push(`COUNT=${count}`);
  if (r.until) {
    if (r.until < day) throw new RepeatError('until');
    const compact = r.until.replaceAll('-', '');
    if (start.length === 10 || !tz) parts.push(`UNTIL=${compact}${start.length === 10 ? '' : 'T235959'}`);
    else {
      const last = new Date(instant(`${r.until}T23:59:59`, tz));
      parts.push(`UNTIL=${last.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`);
    }
  }
  return parts.join(';');
}
