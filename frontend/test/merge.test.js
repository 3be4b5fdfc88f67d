// The merge module's clock order, which every clock comparison in the client goes through
// (the rest of merge.js is driven by the shared vectors in vectors.test.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareClocks, laterClock } from '../src/sync/merge.js';

const A = '1764172800000-00003-devA';
const B = '1764172800000-00004-devA';
const C = '1764172800001-00000-dev0';

test('clocks order by wall time, then counter, then device', () => {
  assert.equal(compareClocks(A, B), -1);
  assert.equal(compareClocks(C, B), 1);
  assert.equal(compareClocks(A, A), 0);
  assert.equal(compareClocks('1764172800000-00003-devB', A), 1);
});

test('laterClock takes the later clock; a missing one loses', () => {
  assert.equal(laterClock(A, B), B);
  assert.equal(laterClock(C, B), C);
  assert.equal(laterClock(null, A), A);
  assert.equal(laterClock(A, ''), A);
  assert.equal(laterClock(undefined, null), null);
});
