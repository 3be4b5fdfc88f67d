// Row heights of the windowed message list: measured rows keep their height by id, the others
// are estimated as the mean of the measured ones, and offsets follow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RowHeights } from '../src/lib/row-heights.js';

const rows = (ids) => ids.map((id) => ({ id }));

test('before anything is measured every row gets the fallback', () => {
  const h = new RowHeights(50);
  h.setRows(rows(['a', 'b', 'c']));
  assert.deepEqual([...h.offsets], [0, 50, 100, 150]);
  assert.equal(h.total, 150);
});

test('unmeasured rows are estimated as the mean of the measured ones', () => {
  const h = new RowHeights(50);
  h.setRows(rows(['a', 'b', 'c', 'd']));
  assert.equal(h.measure(0, 20), true);
  assert.equal(h.measure(1, 30), true);
  assert.equal(h.estimate, 25);
  assert.deepEqual([...h.offsets], [0, 20, 50, 75, 100]);
});

test('measuring the same height again changes nothing', () => {
  const h = new RowHeights();
  h.setRows(rows(['a']));
  assert.equal(h.measure(0, 24), true);
  assert.equal(h.measure(0, 24), false);
  assert.deepEqual([...h.offsets], [0, 24]);
  assert.equal(h.measure(0, 0), false, 'a row not laid out (0 px) is not a measurement');
});

test('a new page of older rows shifts indexes but keeps the heights measured by id', () => {
  const h = new RowHeights(40);
  h.setRows(rows(['c', 'd']));
  h.measure(0, 10);
  h.measure(1, 30);
  h.setRows(rows(['a', 'b', 'c', 'd']));
  assert.deepEqual([...h.offsets], [0, 20, 40, 50, 80]);
});

test('a re-measured row moves the mean by the difference', () => {
  const h = new RowHeights();
  h.setRows(rows(['a', 'b', 'c']));
  h.measure(0, 10);
  h.measure(1, 30);
  h.measure(1, 50);
  assert.equal(h.estimate, 30);
  assert.equal(h.total, 10 + 50 + 30);
});

test('indexAt finds the row spanning a position, clamped to the list', () => {
  const h = new RowHeights(10);
  h.setRows(rows(['a', 'b', 'c']));
  assert.equal(h.indexAt(-5), 0);
  assert.equal(h.indexAt(0), 0);
  assert.equal(h.indexAt(9.9), 0);
  assert.equal(h.indexAt(10), 1);
  assert.equal(h.indexAt(25), 2);
  assert.equal(h.indexAt(1000), 2);
  h.setRows([]);
  assert.equal(h.indexAt(10), 0);
  assert.equal(h.total, 0);
});

test('rows added page by page, older and newer, plan exactly as looking every row up by id', () => {
  // Rule 4 moves the known rows' heights within a buffer that grows: it must end where looking
  // every row up by id ends.
  const ids = Array.from({ length: 500 }, (_, i) => `m${i}`);
  const h = new RowHeights(40);
  const known = new Map();
  const measure = (list, i, px) => {
    h.measure(i, px);
    known.set(list[i], px);
  };
  const expected = (list) => {
    const mean = [...known.values()].reduce((a, b) => a + b, 0) / known.size;
    const out = [0];
    for (const id of list) out.push(out[out.length - 1] + (known.get(id) ?? mean));
    return out;
  };
  let list = ids.slice(400, 450);
  h.setRows(rows(list));
  list.forEach((_, i) => measure(list, i, 10 + (i % 7)));
  for (let low = 350; low >= 0; low -= 50) {
    list = ids.slice(low, 450);
    h.setRows(rows(list)); // a page of older rows
    assert.deepEqual([...h.offsets], expected(list));
    measure(list, 3, 31);
  }
  list = ids.slice(0, 460);
  h.setRows(rows(list)); // newer rows at the end
  assert.deepEqual([...h.offsets], expected(list));
  list = ids.slice(5, 460);
  h.setRows(rows(list)); // neither: some rows went
  assert.deepEqual([...h.offsets], expected(list));
  assert.equal(h.indexAt(h.total + 100), list.length - 1, 'indexAt clamps to the last row, not the buffer');
});
