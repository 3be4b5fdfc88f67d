/**
 * The day and week views' hour grid, as numbers: which items of a day go in the all-day row and
 * where each timed one sits in its day's column. Pure: no DOM, no I/O.
 *
 * Rule 1. All-day events and tasks' due dates go in the all-day row of every day they cover;
 *         a timed occurrence goes in the column of every day it touches, from its start (or
 *         midnight) to its end (or midnight), in minutes of the viewer's day.
 * Rule 2. An item is drawn at least `least` minutes tall, so a short one stays a target for a
 *         finger; that drawn extent is what counts for overlaps.
 * Rule 3. Overlapping items share the column: each takes the first free lane, and every item of a
 *         cluster (items joined by overlaps) gets the cluster's number of lanes, so they divide
 *         the width evenly and never cover each other.
 */

import { wallIn } from './recurrence.js';

export const DAY_MINUTES = 1440;

/** @param {string} wall YYYY-MM-DDTHH:MM */
const minutesOf = (wall) => Number(wall.slice(11, 13)) * 60 + Number(wall.slice(14, 16));

/**
 * @typedef {{item: any, start: number, end: number, lane: number, lanes: number, continued: boolean}} Placed
 * start and end: minutes from the day's midnight (end may be 1440); lane of lanes; continued: it
 * began on an earlier day.
 */

/**
 * Rules 1-3 for one day.
 * @param {any[]} items the day's items (calendar-model.js byDay)
 * @param {string} day YYYY-MM-DD
 * @param {string} zone the viewer's IANA zone
 * @param {number} [least] the shortest drawn extent, in minutes
 * @returns {{allDay: any[], timed: Placed[]}}
 */
export function placeDay(items, day, zone, least = 30) {
  const allDay = [];
  /** @type {Placed[]} */
  const timed = [];
  for (const item of items) {
    if (!item.time || typeof item.at !== 'number') {
      allDay.push(item);
      continue;
    }
    const from = wallIn(item.at, zone);
    const to = wallIn(Math.max(item.at, item.until ?? item.at), zone);
    const start = from.slice(0, 10) < day ? 0 : minutesOf(from);
    const end = to.slice(0, 10) > day ? DAY_MINUTES : minutesOf(to);
    // An occurrence that ends at this midnight belongs to the day before (calendar-model.js).
    if (from.slice(0, 10) < day && end === 0) continue;
    timed.push({ item, start, end: Math.max(end, start), lane: 0, lanes: 1, continued: from.slice(0, 10) < day });
  }
  timed.sort((a, b) => a.start - b.start || b.end - a.end);
  const drawnEnd = (/** @type {Placed} */ p) => Math.min(DAY_MINUTES, Math.max(p.end, p.start + least));
  /** @type {Placed[]} */
  let cluster = [];
  /** @type {number[]} the drawn end of each lane's last item */
  let lanes = [];
  let clusterEnd = -1;
  const close = () => {
    for (const p of cluster) p.lanes = lanes.length;
    cluster = [];
    lanes = [];
  };
  for (const p of timed) {
    if (p.start >= clusterEnd) close();
    let lane = lanes.findIndex((end) => end <= p.start);
    if (lane < 0) lane = lanes.push(0) - 1;
    lanes[lane] = drawnEnd(p);
    p.lane = lane;
    cluster.push(p);
    clusterEnd = Math.max(clusterEnd, drawnEnd(p));
  }
  close();
  return { allDay, timed };
}
