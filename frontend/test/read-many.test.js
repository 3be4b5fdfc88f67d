// readMany (replica/read-many.js) on a real IndexedDB (fake-indexeddb): the same records as one
// get per key, whether the keys' span is read at once or, when others crowd it, key by key.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDB } from 'idb';
import { MIN_SPAN, SPREAD, readMany } from '../src/replica/read-many.js';

let n = 0;
async function storeWith(records) {
  const db = await openDB(`read-many-${++n}`, 1, {
    upgrade(d) {
      d.createObjectStore('records', { keyPath: ['collection', 'id'] });
    },
  });
  const tx = db.transaction('records', 'readwrite');
  for (const r of records) tx.store.put(r);
  await tx.done;
  return db;
}

const id = (i) => `M${String(i).padStart(5, '0')}`;
const record = (collection, i) => ({ collection, id: id(i), fields: { n: i } });

async function bothWays(db, keys) {
  const tx = db.transaction('records');
  const many = await readMany(tx.store, keys);
  const one = await Promise.all(keys.map((k) => tx.store.get(k)));
  await tx.done;
  return [many, one];
}

test('a span of one collection is read at once and gives what one get per key gives, absent keys included', async () => {
  const db = await storeWith([...Array(40).keys()].map((i) => record('messages', 2 * i)));
  const keys = [...Array(40).keys()].map((i) => ['messages', id(i)]); // half of them absent
  const [many, one] = await bothWays(db, keys);
  assert.ok(keys.length >= MIN_SPAN);
  assert.deepEqual(many, one);
  assert.equal(many.filter(Boolean).length, 20);
});

test('a span crowded with other records falls back to reading key by key, with the same result', async () => {
  const db = await storeWith([...Array(2000).keys()].map((i) => record('messages', i)));
  const keys = [...Array(MIN_SPAN).keys()].map((i) => ['messages', id(i * SPREAD * 10)]);
  const [many, one] = await bothWays(db, keys);
  assert.deepEqual(many, one);
  assert.equal(many.filter(Boolean).length, MIN_SPAN);
});

test('keys of several collections keep their order, and a record of another collection never answers', async () => {
  const db = await storeWith([
    ...[...Array(30).keys()].map((i) => record('messages', i)),
    ...[...Array(30).keys()].map((i) => record('reactions', i)),
  ]);
  const keys = [...Array(30).keys()].flatMap((i) => [
    ['reactions', id(29 - i)],
    ['messages', id(i)],
  ]);
  keys.push(['tasks', id(3)]);
  const [many, one] = await bothWays(db, keys);
  assert.deepEqual(many, one);
  assert.equal(many.at(-1), undefined);
  assert.equal(many[0].collection, 'reactions');
});

test('a reply of 500 own messages costs one request, not 500', async () => {
  const db = await storeWith([...Array(500).keys()].map((i) => record('messages', i)));
  const tx = db.transaction('records');
  const calls = { get: 0, getAll: 0 };
  const counted = {
    get: (key) => (calls.get++, tx.store.get(key)),
    getAll: (range, count) => (calls.getAll++, tx.store.getAll(range, count)),
  };
  const found = await readMany(counted, [...Array(500).keys()].map((i) => ['messages', id(i)]));
  await tx.done;
  assert.equal(found.length, 500);
  assert.deepEqual(calls, { get: 0, getAll: 1 });
});

test('a live frame of many messages (a device back online, heard by another) reads its records at once', async () => {
  const { Replica } = await import('../src/replica/replica.js');
  const replica = await Replica.open(`read-many-live-${++n}`);
  await replica.setSession({ user: { id: 'U1', name: 'Ada' }, device: 'dev1', workspace: { name: 'W' } });
  await replica.applyResponse({ server_time: 1_764_172_800_000, cursors: { 'c:C1': 10 }, scopes: ['ws', 'c:C1'] }, 1_764_172_800_000);
  const changes = [...Array(200).keys()].map((i) => ({
    seq: 11 + i,
    scope: 'c:C1',
    collection: 'messages',
    id: id(i),
    hlc: `1764172800000-${String(i).padStart(5, '0')}-dev2`,
    author: 'U2',
    fields: { channel: 'C1', text: `m${i}`, n: i + 1 },
  }));
  const gets = { count: 0 };
  const original = IDBObjectStore.prototype.get;
  IDBObjectStore.prototype.get = function (...args) {
    gets.count++;
    return original.apply(this, args);
  };
  try {
    const result = await replica.applyLive({ t: 'changes', scope: 'c:C1', prev: 10, changes }, 1_764_172_800_000);
    assert.equal(result.applied, true);
    assert.equal(result.records.length, 200);
  } finally {
    IDBObjectStore.prototype.get = original;
  }
  assert.ok(gets.count < 20, `${gets.count} gets for a frame of 200 (the meta entries and one getAll, not one get each)`);
  assert.equal((await replica.snapshot()).records.length, 200);
});
