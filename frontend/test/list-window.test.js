// The message list's window (lib/list-window.js): which rows are mounted, and whether heights
// measured after a render change that plan (a second render) or not (a live message drawn once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RowHeights } from '../src/lib/row-heights.js';
import { planWindow, stillPlanned } from '../src/lib/list-window.js';

const MARGIN = 240;
const rows = (n) => Array.from({ length: n }, (_, i) => ({ id: `m${i}` }));

/** A list of `n` rows, all measured at `px`, viewed `height` px tall. */
function measured(n, px) {
  const h = new RowHeights(40);
  const items = rows(n);
  h.setRows(items);
  for (let i = 0; i < n; i++) h.measure(i, px);
  return { h, items };
}

test('a new message at the bottom whose height stays inside the window is drawn once', () => {
  const { h } = measured(100, 30);
  const items = rows(101); // the new row, not measured yet: estimated as the mean (30)
  h.setRows(items);
  const v = { top: 0, height: 300, atBottom: true, anchor: null };
  const drawn = planWindow(h, items, v, MARGIN);
  assert.deepEqual(drawn, { top: 2730, start: 83, end: 101, above: 2490, below: 0 });
  assert.equal(h.measure(100, 48), true, 'the new row measured taller than the estimate');
  const now = planWindow(h, items, v, MARGIN);
  assert.equal(now.top, 2748);
  assert.equal(stillPlanned(drawn, now, v.atBottom), true);
});

test('a measurement that moves the window draws again', () => {
  const { h } = measured(100, 30);
  const items = rows(101);
  h.setRows(items);
  const v = { top: 0, height: 300, atBottom: true, anchor: null };
  const drawn = planWindow(h, items, v, MARGIN);
  h.measure(100, 70); // 40 px more: the window's first row scrolls out of the margin
  const now = planWindow(h, items, v, MARGIN);
  assert.equal(now.start, 84);
  assert.equal(stillPlanned(drawn, now, v.atBottom), false);
});

test('a measurement that moves the mean under rows never shown changes a spacer: drawn again', () => {
  const h = new RowHeights(40);
  const items = rows(101);
  h.setRows(items);
  for (let i = 90; i < 100; i++) h.measure(i, 30); // only the last screen was ever shown
  const v = { top: 0, height: 300, atBottom: true, anchor: null };
  const drawn = planWindow(h, items, v, MARGIN);
  h.measure(100, 48);
  const now = planWindow(h, items, v, MARGIN);
  assert.notEqual(now.above, drawn.above);
  assert.equal(stillPlanned(drawn, now, v.atBottom), false);
});

test('away from the bottom, a row above the anchor measured again moves the top: drawn again', () => {
  const { h, items } = measured(100, 30);
  const v = { top: 1500, height: 300, atBottom: false, anchor: { id: 'm50', index: 50, delta: 0 } };
  const drawn = planWindow(h, items, v, MARGIN);
  assert.equal(drawn.top, 1500);
  h.measure(45, 36); // inside the window, above the anchor: the spacers stay, the anchor moves
  const now = planWindow(h, items, v, MARGIN);
  assert.equal(now.top, 1506);
  assert.equal(stillPlanned(drawn, now, false), false);
  assert.equal(stillPlanned(drawn, now, true), now.start === drawn.start && now.end === drawn.end);
});

test('the anchor is found again by id when rows before it came', () => {
  const { h } = measured(100, 30);
  const items = [...rows(100).map((r) => ({ id: `old-${r.id}` })).slice(0, 10), ...rows(100)];
  h.setRows(items);
  const v = { top: 0, height: 300, atBottom: false, anchor: { id: 'm50', index: 50, delta: 10 } };
  const plan = planWindow(h, items, v, 0);
  assert.equal(v.anchor.index, 60);
  assert.equal(plan.top, h.offsets[60] - 10);
});
