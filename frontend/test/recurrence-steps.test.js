// Daily and weekly series listed by arithmetic (recurrence.js `simpleSeries`) against the rrule
// package, which lists every other series: the same occurrences, on many rules and windows. Each
// simple rule is compared with the same rule plus BYHOUR/BYMINUTE of its own start, which names
// the same occurrences but is not simple, so the package lists it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expand, simpleSeries, wallIn, wallText } from '../src/lib/recurrence.js';

const DAY = 86_400_000;

/** A small deterministic generator, so a failure can be replayed. */
function random(seed) {
  let s = seed;
  return () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

const ZONES = [null, 'UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata'];
const DAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

function randomEvent(next) {
  const pick = (list) => list[Math.floor(next() * list.length)];
  const start0 = Date.UTC(2026, 0, 1) + Math.floor(next() * 800) * DAY;
  const allDay = next() < 0.2;
  const minutes = allDay ? 0 : Math.floor(next() * 96) * 15;
  const first = start0 + minutes * 60_000;
  const start = allDay ? wallText(first, '2000-01-01') : wallText(first, '2000-01-01T00:00');
  const end = allDay ? wallText(first + DAY * (1 + Math.floor(next() * 3)), '2000-01-01') : wallText(first + 45 * 60_000, '2000-01-01T00:00');
  const weekly = next() < 0.6;
  const parts = [`FREQ=${weekly ? 'WEEKLY' : 'DAILY'}`];
  if (next() < 0.5) parts.push(`INTERVAL=${1 + Math.floor(next() * 4)}`);
  const ending = next();
  if (ending < 0.4) parts.push(`COUNT=${1 + Math.floor(next() * 30)}`);
  else if (ending < 0.8) {
    const until = first + Math.floor(next() * 200) * DAY + Math.floor(next() * 4) * 3_600_000;
    const text = new Date(until).toISOString().replace(/[-:]/g, '').slice(0, 15);
    parts.push(allDay ? `UNTIL=${text.slice(0, 8)}` : next() < 0.5 ? `UNTIL=${text}Z` : `UNTIL=${text.slice(0, 8)}`);
  }
  if (weekly && next() < 0.3) parts.push(`BYDAY=${DAYS[new Date(first).getUTCDay()]}`);
  if (next() < 0.2) parts.push(`WKST=${pick(DAYS)}`);
  if (next() < 0.3) parts.reverse();
  return { title: 'Shift', start, end, tz: allDay ? null : pick(ZONES), rrule: parts.join(';') };
}

/** The same series as the package lists it (not simple: it names its start's hour and minute). */
const byPackage = (event) => ({ ...event, rrule: `${event.rrule};BYHOUR=${Number(event.start.slice(11, 13) || 0)};BYMINUTE=${Number(event.start.slice(14, 16) || 0)}` });

test('a simple series lists the occurrences the rrule package lists, in any window', () => {
  const next = random(12);
  for (let i = 0; i < 400; i++) {
    const event = randomEvent(next);
    assert.ok(simpleSeries(event), event.rrule);
    assert.equal(simpleSeries(byPackage(event)), null);
    const from = Date.parse(`${event.start.slice(0, 10)}T00:00Z`) + Math.floor((next() - 0.2) * 300) * DAY;
    const to = from + Math.floor(1 + next() * 60) * DAY;
    const shown = (list) => list.map((o) => [o.recurrence_id, o.start, o.end, o.at, o.until]);
    for (const [after, before] of [[from, to], [-8e15, 8e15]]) {
      assert.deepEqual(shown(expand('e', event, [], after, before)), shown(expand('e', byPackage(event), [], after, before)), `${event.start} ${event.tz} ${event.rrule}`);
    }
  }
});

test('an endless simple series is listed past its first four years as the package lists it', () => {
  const event = { title: 'Standup', start: '2026-03-17T09:00', end: '2026-03-17T09:15', tz: 'Europe/Berlin', rrule: 'FREQ=WEEKLY;INTERVAL=3' };
  const after = Date.UTC(2034, 0, 1);
  const before = Date.UTC(2034, 6, 1);
  const starts = (e) => expand('e', e, [], after, before).map((o) => o.start);
  assert.deepEqual(starts(event), starts(byPackage(event)));
  assert.equal(starts(event).length, 9);
});

test('only daily and weekly rules of steps are simple; the rest is left to the package', () => {
  const event = (rrule, start = '2026-03-17T09:00') => ({ start, end: start, tz: 'Europe/Berlin', rrule });
  assert.deepEqual(simpleSeries(event('FREQ=WEEKLY;COUNT=10')), { first: Date.UTC(2026, 2, 17, 9), step: 7 * DAY, count: 10, until: Date.UTC(10000, 0, 1) - 1 });
  assert.ok(simpleSeries(event('RRULE:INTERVAL=2;FREQ=DAILY;UNTIL=20260401T000000Z')));
  assert.ok(simpleSeries(event('FREQ=WEEKLY;BYDAY=TU;WKST=MO')));
  for (const rule of ['FREQ=MONTHLY', 'FREQ=WEEKLY;BYDAY=MO', 'FREQ=WEEKLY;BYDAY=TU,TH', 'FREQ=DAILY;BYDAY=TU', 'freq=weekly',
    'FREQ=WEEKLY;COUNT=0', 'FREQ=WEEKLY;INTERVAL=0', 'FREQ=WEEKLY;COUNT=2;COUNT=3', 'FREQ=WEEKLY;BYHOUR=9', 'FREQ=WEEKLY;X-NAME=1']) {
    assert.equal(simpleSeries(event(rule)), null, rule);
  }
});

test('an edited series is listed again: its new rule, start or end, not the old list', () => {
  const event = { title: 'Shift', start: '2026-03-17T09:00', end: '2026-03-17T10:00', tz: 'Europe/Berlin', rrule: 'FREQ=WEEKLY;COUNT=4' };
  const all = (e) => expand('e', e, [], -8e15, 8e15).map((o) => `${o.start}/${o.end}`);
  assert.equal(all(event).length, 4);
  const edited = { ...event, rrule: 'FREQ=DAILY;COUNT=2' };
  assert.deepEqual(all(edited), ['2026-03-17T09:00/2026-03-17T10:00', '2026-03-18T09:00/2026-03-18T10:00']);
  // The same fields object changed in place (records replace theirs, but a cache must not trust it).
  event.start = '2026-03-18T08:00';
  event.end = '2026-03-18T08:30';
  assert.deepEqual(all(event).slice(0, 2), ['2026-03-18T08:00/2026-03-18T08:30', '2026-03-25T08:00/2026-03-25T08:30']);
  event.rrule = 'FREQ=WEEKLY;COUNT=1';
  assert.deepEqual(all(event), ['2026-03-18T08:00/2026-03-18T08:30']);
});

test('wall times are written as toISOString writes them', () => {
  const next = random(7);
  for (let i = 0; i < 2000; i++) {
    const ms = Math.floor((next() - 0.3) * 2e13);
    for (const like of ['2000-01-01', '2000-01-01T00:00', '2000-01-01T00:00:00', '2000-01-01T0']) {
      assert.equal(wallText(ms, like), new Date(ms).toISOString().slice(0, like.length));
    }
  }
  assert.equal(wallText(Date.UTC(12000, 0, 1), '2000-01-01'), '+012000-01');
  assert.equal(wallIn(Date.UTC(2026, 9, 25, 0, 59), 'Europe/Berlin'), '2026-10-25T02:59');
  assert.equal(wallIn(Date.UTC(2026, 9, 25, 1, 0), 'Europe/Berlin'), '2026-10-25T02:00');
});
