// sync_protocol/vectors/recurrence.json against the browser's expansion (the `rrule` package).
// Python runs the same file (tests/unit/test_recurrence_vectors.py). Each row of `expected` is
// [start in the event's zone, UTC instant, start in the viewer's zone, title].
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { expand, split, wallIn, isAllDay } from '../src/lib/recurrence.js';

const CASES = JSON.parse(readFileSync(new URL('../../sync_protocol/vectors/recurrence.json', import.meta.url), 'utf8'));
const at = (/** @type {string} */ text) => Date.parse(text.replace('Z', ':00Z'));

/** @param {import('../src/lib/recurrence.js').Occurrence[]} found @param {string} view */
const rows = (found, view) => found.map((o) => [
  o.start,
  `${new Date(o.at).toISOString().slice(0, 16)}Z`,
  isAllDay(o.start) ? o.start : wallIn(o.at, view),
  o.title,
]);

for (const c of CASES) {
  test(c.comment, () => {
    const after = at(c.after);
    const before = at(c.before);
    let found;
    if (c.at) {
      const [oldRule, newRule] = split(c.event, c.at);
      assert.deepEqual([oldRule, newRule], c.expected_rrules);
      const old = { ...c.event, rrule: oldRule };
      const fresh = { ...c.event, rrule: newRule, start: c.new_start, end: c.new_end };
      found = [...expand('e1', old, [], after, before), ...expand('e2', fresh, [], after, before)];
    } else {
      found = expand('e1', c.event, c.exceptions ?? [], after, before);
    }
    assert.deepEqual(rows(found, c.view_tz), c.expected);
  });
}
