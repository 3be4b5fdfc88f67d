// The hour grid's placement (day and week views): all-day row, timed items by time in the
// viewer's day, lanes for overlaps, a least drawn height, and a phone's three-day week.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byDay, dueTasks, occurrencesIn, rangeOf } from '../src/lib/calendar-model.js';
import { placeDay } from '../src/lib/hour-grid.js';

const record = (fields) => ({ fields });
const shown = new Set(['c:a']);

function week(events, zone, from = '2026-03-16', to = '2026-03-23', tasks = []) {
  const items = occurrencesIn(new Map(events).entries(), new Map().entries(), { from, to, zone, shown });
  items.push(...dueTasks(new Map(tasks).entries(), { from, to }));
  return byDay(items, from, to);
}

const row = (p) => [p.item.title, p.start, p.end, p.lane, p.lanes];

test('timed items sit at their time in the viewer\'s zone; all-day items and due tasks go on top', () => {
  const days = week([
    ['standup', record({ calendar: 'c:a', title: 'Standup', start: '2026-03-17T09:00', end: '2026-03-17T09:30', tz: 'Europe/Berlin' })],
    ['fair', record({ calendar: 'c:a', title: 'Fair', start: '2026-03-17', end: '2026-03-18' })],
  ], 'America/New_York', '2026-03-16', '2026-03-23', [['t1', record({ channel: 'a', title: 'Order gravel', due: '2026-03-17' })]]);
  const { allDay, timed } = placeDay(days.get('2026-03-17'), '2026-03-17', 'America/New_York');
  // 09:00 Berlin is 04:00 in New York that week (the US changed on the 8th, Europe on the 29th).
  assert.deepEqual(timed.map(row), [['Standup', 240, 270, 0, 1]]);
  assert.deepEqual(allDay.map((i) => i.title).sort(), ['Fair', 'Order gravel']);
  assert.equal(allDay.find((i) => i.task)?.task, 't1');
});

test('overlapping items share the width in lanes; the next free lane is reused', () => {
  const at = (id, start, end) => [id, record({ calendar: 'c:a', title: id, start: `2026-03-18T${start}`, end: `2026-03-18T${end}`, tz: 'UTC' })];
  const days = week([at('a', '09:00', '11:00'), at('b', '09:30', '10:00'), at('c', '10:00', '10:30'), at('d', '13:00', '14:00')], 'UTC');
  const { timed } = placeDay(days.get('2026-03-18'), '2026-03-18', 'UTC', 30);
  assert.deepEqual(timed.map(row), [
    ['a', 540, 660, 0, 2],
    ['b', 570, 600, 1, 2],
    ['c', 600, 630, 1, 2],
    ['d', 780, 840, 0, 1],
  ]);
});

test('a short item is drawn at least `least` minutes tall, and that height counts as overlap', () => {
  const at = (id, start, end) => [id, record({ calendar: 'c:a', title: id, start: `2026-03-18T${start}`, end: `2026-03-18T${end}`, tz: 'UTC' })];
  const days = week([at('a', '09:00', '09:10'), at('b', '09:20', '09:40')], 'UTC');
  assert.deepEqual(placeDay(days.get('2026-03-18'), '2026-03-18', 'UTC', 15).timed.map((p) => p.lanes), [1, 1]);
  assert.deepEqual(placeDay(days.get('2026-03-18'), '2026-03-18', 'UTC', 48).timed.map((p) => [p.lane, p.lanes]), [[0, 2], [1, 2]]);
});

test('a night shift is in both days it touches, cut at midnight; one ending at midnight is not in the next', () => {
  const days = week([
    ['night', record({ calendar: 'c:a', title: 'Night', start: '2026-03-18T22:00', end: '2026-03-19T06:00', tz: 'UTC' })],
    ['late', record({ calendar: 'c:a', title: 'Late', start: '2026-03-20T22:00', end: '2026-03-21T00:00', tz: 'UTC' })],
  ], 'UTC');
  assert.deepEqual(placeDay(days.get('2026-03-18'), '2026-03-18', 'UTC').timed.map(row), [['Night', 1320, 1440, 0, 1]]);
  assert.deepEqual(placeDay(days.get('2026-03-19'), '2026-03-19', 'UTC').timed.map(row), [['Night', 0, 360, 0, 1]]);
  assert.deepEqual(placeDay(days.get('2026-03-20'), '2026-03-20', 'UTC').timed.map(row), [['Late', 1320, 1440, 0, 1]]);
  assert.deepEqual(placeDay(days.get('2026-03-21'), '2026-03-21', 'UTC').timed, []);
});

test('a phone\'s week is three days from the focused one', () => {
  assert.deepEqual(rangeOf('week', '2026-03-19', true), ['2026-03-19', '2026-03-22']);
  assert.deepEqual(rangeOf('week', '2026-03-19', false), ['2026-03-16', '2026-03-23']);
});
