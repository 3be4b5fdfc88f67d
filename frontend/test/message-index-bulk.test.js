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
