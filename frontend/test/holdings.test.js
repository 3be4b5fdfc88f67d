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
  const { stored, chunks } = await holdings.applyPage(page, T0, 'C1', { low: 1, oldestAt: T0 + 1, last: 300 });
  assert.equal(stored.length, 300);
  assert.deepEqual(chunks, [['c:C1', 0]], 'n 1-300 are one chunk: one put, not 300');
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

test('a sparse page merges into the chunks it lands in', async () => {
  const { replica, holdings } = await setup();
  await holdings.applyPage(Array.from({ length: 200 }, (_, i) => snap(i + 1)), T0, 'C1', { low: 1, oldestAt: T0, last: 200 });
  // A sparse page across the whole range: read back with its chunks; edits win by clock.
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

const reply = (id, thread, n, clock = T0 + n) => {
  const fields = { channel: 'C1', text: `reply ${id}`, author: 'U2', thread, tn: 1, at: T0 + n };
  return { scope: 'c:C1', collection: 'messages', id, fields, clocks: Object.fromEntries(Object.keys(fields).map((k) => [k, hlc(clock)])) };
};

test('pages land in chunks of BUCKET numbers; replies and reactions go with their message; a refetch adds no copy', async () => {
  const { replica, holdings } = await setup();
  const page = Array.from({ length: 1200 }, (_, i) => snap(1200 - i));
  page.push(reply('R1', 'M00003', 3), { scope: 'c:C1', collection: 'reactions', id: 'X1', fields: { message: 'R1', channel: 'C1', user: 'U2', emoji: '👍', on: true }, clocks: { message: hlc(T0), channel: hlc(T0), user: hlc(T0), emoji: hlc(T0), on: hlc(T0) } });
  const { chunks } = await holdings.applyPage(page, T0, 'C1', { low: 1, oldestAt: T0, last: 1200 });
  assert.deepEqual(chunks.map(([, b]) => b).sort(), [0, 1, 2]);
  await holdings.applyPage(page, T0, 'C1', { low: 1, oldestAt: T0, last: 1200 });
  const { records } = await replica.snapshot();
  assert.equal(records.length, 1202, 'the same records again: merged, not copied');
  const zero = await holdings.heldRecords('c:C1', [0]);
  assert.ok(zero.some(([key]) => key === 'messages/R1') && zero.some(([key]) => key === 'reactions/X1'), 'a thread and its reactions live with message 3');
});

test('a live edit of a held message merges into records; reading gives the whole record', async () => {
  const { replica, holdings } = await setup();
  await replica.setMeta('cursors', { 'c:C1': 10 });
  await holdings.applyPage(Array.from({ length: 10 }, (_, i) => snap(10 - i)), T0, 'C1', { low: 1, oldestAt: T0, last: 10 });
  const frame = { scope: 'c:C1', prev: 10, changes: [{ seq: 11, scope: 'c:C1', collection: 'messages', id: 'M00004', hlc: hlc(T0 + 500), fields: { text: 'fixed', edited: T0 + 500 } }] };
  const { applied, records: live } = await replica.applyLive(frame, T0);
  assert.ok(applied);
  // The live path does not read chunks: what it stored holds the edit only...
  assert.deepEqual(Object.keys(live[0][1].fields).sort(), ['edited', 'text']);
  // ...and the replica's confirmed state is the merge of both.
  const m4 = (await replica.snapshot()).records.find((r) => r.id === 'M00004');
  assert.equal(m4.fields.text, 'fixed');
  assert.equal(m4.fields.n, 4);
  assert.equal(m4.fields.author, 'U2');
});

test('a dropped scope takes its held chunks with it', async () => {
  const { replica, holdings } = await setup();
  await holdings.applyPage(Array.from({ length: 10 }, (_, i) => snap(10 - i)), T0, 'C1', { low: 1, oldestAt: T0, last: 10 });
  const applied = await replica.applyResponse({ server_time: T0, scopes: ['w', 'u:U1'] }, T0);
  assert.equal(applied.dropped.length, 10);
  assert.equal((await replica.snapshot()).records.length, 0);
});

test('eviction rewrites the chunk a cut falls in and deletes the chunks below it', async () => {
  const { replica, holdings } = await setup();
  await holdings.applyPage(Array.from({ length: 1100 }, (_, i) => snap(1100 - i)), T0, 'C1', { low: 1, oldestAt: T0, last: 1100 });
  const keys = Array.from({ length: 599 }, (_, i) => `messages/M${String(i + 1).padStart(5, '0')}`);
  await holdings.evict(keys, new Map([['C1', 600]]));
  const { records, meta } = await replica.snapshot();
  assert.equal(records.length, 501);
  assert.equal(Math.min(...records.map((r) => r.fields.n)), 600);
  assert.deepEqual(await holdings.heldRecords('c:C1', [0]), [], 'chunk 0 (n 1-499) is gone');
  assert.equal(meta['offline:C1'].low, 600);
});

test('the migration to held chunks keeps every record a version-1 replica held', async () => {
  const name = `holdings-v1-${++counter}`;
  const { openDB } = await import('idb');
  const { MIGRATIONS } = await import('../src/replica/db.js');
  const v1 = await openDB(name, 1, { upgrade: (db, _old, _new, tx) => MIGRATIONS[0](db, tx) });
  await v1.put('records', snap(7));
  v1.close();
  const replica = await Replica.open(name);
  assert.deepEqual((await replica.snapshot()).records, [snap(7)]);
});

test('the store merges a partial record into the one it holds', async () => {
  const { Store } = await import('../src/dispatch/store.js');
  const store = new Store();
  store.load({ records: [snap(4)], outbox: [], failed: [], meta: {} });
  store.patch([['messages/M00004', { collection: 'messages', id: 'M00004', scope: 'c:C1', fields: { text: 'fixed' }, clocks: { text: hlc(T0 + 500) } }]]);
  const m4 = store.confirmedRecord('messages', 'M00004');
  assert.equal(m4.fields.text, 'fixed');
  assert.equal(m4.fields.n, 4);
  // An older value never wins, whatever order it comes in.
  store.patch([['messages/M00004', snap(4)]]);
  assert.equal(store.confirmedRecord('messages', 'M00004').fields.text, 'fixed');
});
