// The editor's repeat choices <-> RRULE (lib/repeat-rule.js), and that what it writes expands as
// meant (through lib/recurrence.js, which passes the shared vectors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RepeatError, noRepeat, repeatOf, ruleOf } from '../src/lib/repeat-rule.js';
import { expand } from '../src/lib/recurrence.js';

const TUESDAY = '2026-03-10T09:00'; // the 2nd Tuesday of March 2026
const form = (over) => ({ ...noRepeat(TUESDAY.slice(0, 10)), ...over });

test('each shape writes its rule and reads back to the same choices', () => {
  const cases = [
    [{ repeat: 'daily', interval: '2', count: '5' }, 'FREQ=DAILY;INTERVAL=2;COUNT=5'],
    [{ repeat: 'weekly', days: ['TH', 'TU'] }, 'FREQ=WEEKLY;BYDAY=TU,TH'],
    [{ repeat: 'monthlyDate', count: '3' }, 'FREQ=MONTHLY;BYMONTHDAY=10;COUNT=3'],
    [{ repeat: 'monthlyWeekday' }, 'FREQ=MONTHLY;BYDAY=2TU'],
    [{ repeat: 'yearly', interval: '4' }, 'FREQ=YEARLY;INTERVAL=4'],
  ];
  for (const [choices, rule] of cases) {
    assert.equal(ruleOf(form(choices), TUESDAY, 'Europe/Berlin'), rule);
    const back = repeatOf(rule, TUESDAY, 'Europe/Berlin');
    assert.equal(ruleOf(back, TUESDAY, 'Europe/Berlin'), rule);
    assert.equal(back.repeat, choices.repeat);
  }
});

test('an end date is inclusive, in the event\'s zone, written in UTC for a timed event', () => {
  const rule = ruleOf(form({ repeat: 'weekly', until: '2026-03-31' }), TUESDAY, 'Europe/Berlin');
  // 23:59:59 in Berlin on the 31st (summer time since the 29th) is 21:59:59 UTC.
  assert.equal(rule, 'FREQ=WEEKLY;BYDAY=TU;UNTIL=20260331T215959Z');
  const found = expand('e', { start: TUESDAY, end: '2026-03-10T09:30', tz: 'Europe/Berlin', rrule: rule }, [], 0, Date.UTC(2027, 0));
  assert.deepEqual(found.map((o) => o.start), ['2026-03-10T09:00', '2026-03-17T09:00', '2026-03-24T09:00', '2026-03-31T09:00']);
  assert.equal(repeatOf(rule, TUESDAY, 'Europe/Berlin').until, '2026-03-31');
  assert.equal(ruleOf(form({ repeat: 'daily', until: '2026-08-04' }), '2026-08-01', null), 'FREQ=DAILY;UNTIL=20260804');
});

test('what the form cannot say stays custom, as written', () => {
  for (const rule of ['FREQ=MONTHLY;BYDAY=-1FR', 'FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'FREQ=WEEKLY;WKST=SU;BYDAY=TU', 'FREQ=MONTHLY;BYDAY=3TU']) {
    const back = repeatOf(rule, TUESDAY, 'UTC');
    assert.equal(back.repeat, 'custom', rule);
    assert.equal(ruleOf(back, TUESDAY, 'UTC'), rule);
  }
});

test('a count and an end date together, or nonsense, are refused', () => {
  assert.throws(() => ruleOf(form({ repeat: 'daily', count: '3', until: '2026-04-01' }), TUESDAY, 'UTC'), RepeatError);
  assert.throws(() => ruleOf(form({ repeat: 'daily', interval: '0' }), TUESDAY, 'UTC'), RepeatError);
  assert.throws(() => ruleOf(form({ repeat: 'daily', until: '2026-03-01' }), TUESDAY, 'UTC'), RepeatError);
  assert.equal(ruleOf(form({}), TUESDAY, 'UTC'), '');
});
