// A bulk page into the store: the message index merges many messages at once (placeMany) and must
// end exactly where placing them one by one ends: same order, same gaps, same numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../src/dispatch/store.js';
import { Queries } from '../src/dispatch/queries.js';

const T0 = 1_764_172_800_000;
const rec = (n, extra = {}) => {
  const fields = { channel: 'C1', text: `m${n}`, author: 'U2', n, at: T0 + n, ...extra };
  return [`messages/M${String(n).padStart(5, '0')}`, { scope: 'c:C1', collection: 'messages', id: `M${String(n).padStart(5, '0')}`, fields, clocks: {} }];
};

function fresh() {
  const store = new Store();
  store.load({ records: [], outbox: [], failed: [], meta: { user: 'U1' } });
  return { store, queries: new Queries(store) };
}

const view = (q) => ({ ns: q.messages('C1').map((m) => m.n), numbers: q.numbers('C1') });

test('a page patched at once equals the same messages patched one by one', () => {
  // Held: the newest 50 (951..1000) and a stray 400; the page brings 300..950 except 500..510.
  const held = [...Array.from({ length: 50 }, (_, i) => rec(951 + i)), rec(400)];
  const page = Array.from({ length: 651 }, (_, i) => rec(950 - i)).filter(([, r]) => r.fields.n < 500 || r.fields.n > 510);
  const bulk = fresh();
  const single = fresh();
  for (const s of [bulk, single]) s.store.patch(held);
  bulk.store.patch(page);
  for (const entry of page) single.store.patch([entry]);
  assert.deepEqual(view(bulk.queries), view(single.queries));
  assert.deepEqual(view(bulk.queries).numbers.gaps, [{ after: 499, before: 511 }]);
  assert.equal(view(bulk.queries).numbers.low, 300);
});

test('a bulk merge of a page that overlaps what is held keeps one item per message', () => {
  const { store, queries } = fresh();
  store.patch(Array.from({ length: 300 }, (_, i) => rec(i + 1)));
  store.patch(Array.from({ length: 300 }, (_, i) => rec(i + 1, { text: 'again' })));
  assert.equal(queries.messages('C1').length, 300);
  assert.equal(queries.messages('C1')[0].text, 'again');
});

test('older pages prepended keep the holes above them, and a list handed out never changes under its holder', () => {
  const { store, queries } = fresh();
  // Held: 901..1000 with a hole at 950; pages of older history arrive newest first, one leaving a hole.
  store.patch(Array.from({ length: 100 }, (_, i) => rec(901 + i)).filter(([, r]) => r.fields.n !== 950));
  const before = queries.messages('C1');
  const copy = before.slice();
  store.patch(Array.from({ length: 300 }, (_, i) => rec(900 - i))); // 601..900
  store.patch(Array.from({ length: 300 }, (_, i) => rec(590 - i)).filter(([, r]) => r.fields.n !== 400)); // 291..590, no 400
  assert.deepEqual(before, copy, 'the list a view held is not changed in place');
  const { ns, numbers } = view(queries);
  const expected = Array.from({ length: 710 }, (_, i) => 291 + i).filter((n) => ![400, 591, 592, 593, 594, 595, 596, 597, 598, 599, 600, 950].includes(n));
  assert.deepEqual(ns, expected);
  assert.deepEqual(numbers.gaps, [{ after: 399, before: 401 }, { after: 590, before: 601 }, { after: 949, before: 951 }]);
  assert.equal(queries.heldCount('C1'), expected.length);
  // A live message now: the shared list is copied, not spliced.
  const shown = queries.messages('C1');
  store.patch([rec(1001)]);
  assert.equal(shown.length, expected.length);
  assert.equal(queries.messages('C1').length, expected.length + 1);
});

test('pinned messages are kept by the index, in display order, without deleted ones', () => {
  const { store, queries } = fresh();
  store.patch(Array.from({ length: 400 }, (_, i) => rec(i + 1, { pinned: (i + 1) % 100 === 0 })));
  assert.deepEqual(queries.pinned('C1').map((m) => m.n), [100, 200, 300, 400]);
  store.patch([rec(200, { pinned: false }), rec(300, { pinned: true, deleted: true }), rec(50, { pinned: true })]);
  assert.deepEqual(queries.pinned('C1').map((m) => m.n), [50, 100, 400]);
  const same = queries.messages('C1').filter((m) => m.pinned && !m.deleted);
  assert.deepEqual(queries.pinned('C1'), same);
});
