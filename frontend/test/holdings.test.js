// Bulk pages into IndexedDB (replica/holdings.js): one transaction per page with its resume point,
// merged by the merge rule, idempotent; eviction deletes confirmed records only.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from '../src/replica/replica.js';
import { Holdings } from '../src/replica/holdings.js';

const T0 = 1_764_172_800_000;
const hlc = (ms, device = 'srv') => `${String(ms).padStart(13, '0')}-00000-${device}`;
let counter = 0;

const snap = (n, text = `m${n}`, clock = T0 + n) => {
  const fields = { channel: 'C1', text, author: 'U2', n, at: T0 + n };
  return {
    scope: 'c:C1',
    collection: 'messages',
    id: `M${String(n).padStart(5, '0')}`,
    fields,
    clocks: Object.fromEntries(Object.keys(fields).map((k) => [k, hlc(clock)])),
  };
};

async function setup() {
  const name = `holdings-${++counter}`;
  const replica = await Replica.open(name);
  await replica.setSession({ user: { id: 'U1', name: 'Ada' }, device: 'd1', workspace: { name: 'W' } });
  return { replica, holdings: await Holdings.open(name) };
}

test('a bulk page lands whole, with its resume point, and moves the clock past what it saw', async () => {
  const { replica, holdings } = await setup();
  const page = Array.from({ length: 300 }, (_, i) => snap(300 - i));
  const stored = await holdings.applyPage(page, T0, 'C1', { low: 1, oldestAt: T0 + 1, last: 300 });
  assert.equal(stored.length, 300);
  const { records, meta } = await replica.snapshot();
  assert.equal(records.length, 300);
  assert.deepEqual(meta['offline:C1'], { low: 1, oldestAt: T0 + 1, last: 300 });
  assert.equal(meta.hlcSeen, hlc(T0 + 300));
  assert.ok(meta.hlc > hlc(T0 + 300), 'the device clock observed the newest clock');
  assert.deepEqual((await holdings.resumePoints()).get('C1'), { low: 1, oldestAt: T0 + 1, last: 300 });
});

test('a page over records already held merges field by field: applying it twice changes nothing', async () => {
  const { replica, holdings } = await setup();
  // Held: a newer edit of message 5 (from the sync feed); the page carries its older text.
  await replica.applyRecords([snap(5, 'edited later', T0 + 999)], T0);
  const page = Array.from({ length: 10 }, (_, i) => snap(10 - i));
  await holdings.applyPage(page, T0, 'C1', { low: 1, oldestAt: T0, last: 10 });
  const once = (await replica.snapshot()).records;
  await holdings.applyPage(page, T0, 'C1', { low: 1, oldestAt: T0, last: 10 });
  const twice = (await replica.snapshot()).records;
  assert.deepEqual(twice, once);
  assert.equal(once.find((r) => r.id === 'M00005').fields.text, 'edited later');
});

test('the page is read by key range, or by gets when the range holds far more', async () => {
  const { replica, holdings } = await setup();
  await holdings.applyPage(Array.from({ length: 200 }, (_, i) => snap(i + 1)), T0, 'C1', { low: 1, oldestAt: T0, last: 200 });
  // A sparse page across the whole range: the gets path; edits win by clock either way.
  const sparse = [snap(1, 'new one', T0 + 5000), snap(200, 'new two hundred', T0 + 5000)];
  await holdings.applyPage(sparse, T0, 'C1', { low: 1, oldestAt: T0, last: 200 });
  const records = (await replica.snapshot()).records;
  assert.equal(records.length, 200);
  assert.equal(records.find((r) => r.id === 'M00001').fields.text, 'new one');
  assert.equal(records.find((r) => r.id === 'M00200').fields.text, 'new two hundred');
});

test('eviction deletes confirmed records only and moves the resume point up', async () => {
  const { replica, holdings } = await setup();
  await holdings.applyPage(Array.from({ length: 20 }, (_, i) => snap(i + 1)), T0, 'C1', { low: 1, oldestAt: T0, last: 20 });
  await replica.write([{ collection: 'messages', id: 'M00002', fields: { text: 'pending edit' } }], T0);
  await holdings.evict(['messages/M00001', 'messages/M00002'], new Map([['C1', 3]]));
  const { records, outbox, meta } = await replica.snapshot();
  assert.equal(records.length, 18);
  assert.equal(outbox.length, 1, 'the outbox is never evicted');
  assert.equal(meta['offline:C1'].low, 3);
});
