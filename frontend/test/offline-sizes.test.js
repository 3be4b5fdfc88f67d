// Bytes held per channel (Settings → Offline, the budget): kept record by record as the store
// changes, they must always equal the sum over what the store holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../src/dispatch/store.js';
import { Queries } from '../src/dispatch/queries.js';
import { OfflineQueries, recordBytes } from '../src/dispatch/offline.js';

const rec = (collection, id, channel, text) => [
  `${collection}/${id}`,
  { collection, id, scope: `c:${channel}`, fields: { channel, text }, clocks: { channel: 'a', text: 'a' } },
];

function recount(store) {
  const per = new Map();
  let total = 0;
  for (const collection of ['messages', 'reactions']) {
    for (const [, record] of store.maps(collection).confirmed) {
      const bytes = recordBytes(record);
      per.set(record.fields.channel, (per.get(record.fields.channel) ?? 0) + bytes);
      total += bytes;
    }
  }
  return { per, total };
}

test('sizes follow records added, changed and removed, per channel', () => {
  const store = new Store();
  store.load({ records: [], outbox: [], failed: [], meta: { user: 'U1' } });
  const offline = new OfflineQueries(store, new Queries(store));
  store.patch([rec('messages', 'M1', 'C1', 'hello'), rec('messages', 'M2', 'C2', 'hi'), rec('reactions', 'R1', 'C1', 'x')]);
  store.patch([rec('messages', 'M1', 'C1', 'hello again, longer')]);
  store.patch([['messages/M2', null]]);
  const { per, total } = offline.sizes.value;
  const expected = recount(store);
  assert.equal(total, expected.total);
  assert.equal(per.get('C1'), expected.per.get('C1'));
  assert.equal(per.get('C2') ?? 0, 0);
});
