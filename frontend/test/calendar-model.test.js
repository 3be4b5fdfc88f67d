// The calendar's view model: ranges, calendars, occurrences placed on the viewer's days.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addMonths, byDay, calendarsOf, occurrencesIn, rangeOf, reminderMinutes } from '../src/lib/calendar-model.js';

const record = (fields) => ({ fields });

test('a month view is six whole weeks from the Monday before the 1st', () => {
  assert.deepEqual(rangeOf('month', '2026-03-17'), ['2026-02-23', '2026-04-06']);
  assert.deepEqual(rangeOf('week', '2026-03-19'), ['2026-03-16', '2026-03-23']);
  assert.equal(addMonths('2026-01-31', 1), '2026-02-28');
});

test('occurrences land on the viewer\'s days: 01:00 Berlin is the evening before in New York', () => {
  const events = new Map([
    ['late', record({ calendar: 'c:a', title: 'Night shift', start: '2026-03-17T01:00', end: '2026-03-17T02:00', tz: 'Europe/Berlin', rrule: 'FREQ=WEEKLY;COUNT=2' })],
    ['days', record({ calendar: 'c:a', title: 'Fair', start: '2026-03-18', end: '2026-03-21' })],
    ['hidden', record({ calendar: 'c:b', title: 'Hidden', start: '2026-03-18' })],
    ['gone', record({ calendar: 'c:a', title: 'Gone', start: '2026-03-18', deleted: true })],
  ]);
  const cancel = new Map([['x', record({ event: 'late', recurrence_id: '2026-03-24T01:00', cancelled: true })]]);
  const items = occurrencesIn(events.entries(), new Map().entries(), { from: '2026-03-16', to: '2026-03-30', zone: 'America/New_York', shown: new Set(['c:a']) });
  const days = byDay(items, '2026-03-16', '2026-03-30');
  const titles = (day) => days.get(day).map((o) => `${o.time} ${o.title}`.trim());
  assert.deepEqual(titles('2026-03-16'), ['20:00 Night shift']);
  assert.deepEqual(titles('2026-03-23'), ['20:00 Night shift']);
  assert.deepEqual(['2026-03-18', '2026-03-19', '2026-03-20', '2026-03-21'].map((d) => titles(d).length), [1, 1, 1, 0]);
  const without = occurrencesIn(events.entries(), cancel.entries(), { from: '2026-03-16', to: '2026-03-30', zone: 'UTC', shown: new Set(['c:a']) });
  assert.deepEqual(without.filter((o) => o.event === 'late').map((o) => o.start), ['2026-03-17T01:00']);
});

test('my calendars: personal first, then my channels, coloured, hidden by my prefs', () => {
  const found = calendarsOf({
    me: 'ada',
    channels: [{ id: 'c1', name: '#site' }],
    named: new Map([['c:c1', { name: 'Site shifts', color: '3' }]]),
    prefs: new Map([['c:c1', { hidden: true, in_feed: false }]]),
  });
  assert.deepEqual(found.map((c) => [c.id, c.name, c.color, c.hidden, c.inFeed]), [
    ['u:ada', '', 0, false, true],
    ['c:c1', 'Site shifts', 3, true, false],
  ]);
});

test('reminders are written in minutes, hours or days', () => {
  assert.deepEqual(reminderMinutes('10, 1h, 2D, x, 5w'), [10, 60, 2880]);
});
