// The send worker's cached stamp state (replica/outbox.js writeToSend with a StampCache) on a real
// IndexedDB (fake-indexeddb): a write that leaves at once puts its mutation and reads its request
// in the same round trip as the check of the stamp state, and the check catches every writer that
// would make a mid used twice or a stamp below a clock the device has seen.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from '../src/replica/replica.js';

let dbCounter = 0;
const T0 = 1_764_172_800_000;
const msg = (id) => ({ collection: 'messages', id, fields: { channel: 'C1', text: id } });

async function fresh() {
  const replica = await Replica.open(`send-stamps-${++dbCounter}`);
  await replica.setSession({ user: { id: 'U1', name: 'Ada' }, device: 'dev1', workspace: { name: 'W' } });
  return replica;
}

/** A write through the cache; the cache is warm after the first one that committed. */
const send = (replica, cache, id, at) => replica.writeToSend([msg(id)], at, {}, [], 500, cache);

/**
 * Record, in order, each put made on `meta` and each answer a `get` on `meta` got, while `work` runs.
 * @param {() => Promise<any>} work
 */
async function traced(work) {
  const seen = [];
  const store = globalThis.IDBObjectStore.prototype;
  const { get, put } = store;
  store.get = function (...args) {
    const request = get.apply(this, args);
    if (this.name === 'meta') request.addEventListener('success', () => seen.push(`answer ${args[0]}`));
    return request;
  };
  store.put = function (...args) {
    if (this.name === 'meta') seen.push(`put ${args[1]}`);
    return put.apply(this, args);
  };
  try {
    return { result: await work(), seen };
  } finally {
    Object.assign(store, { get, put });
  }
}

test('with the stamp state cached, the write puts before any read answers: one round trip before the commit', async () => {
  const r = await fresh();
  const cache = { state: null };
  await send(r, cache, 'M1', T0);
  assert.ok(cache.state, 'the first write leaves its stamp state for the next');
  const { result, seen } = await traced(() => send(r, cache, 'M2', T0 + 1));
  const firstAnswer = seen.findIndex((s) => s.startsWith('answer'));
  const lastPut = seen.findLastIndex((s) => s.startsWith('put'));
  assert.ok(lastPut >= 0 && firstAnswer > lastPut, `every put made before the first answer: ${seen.join(', ')}`);
  assert.deepEqual(result.mutations.map((m) => m.mid), [2]);
  assert.deepEqual(result.outgoing.pending.map((m) => [m.mid, m.id]), [[1, 'M1'], [2, 'M2']], 'the request takes all queued');
  const meta = await r.meta();
  assert.equal(meta.nextMid, 3);
  assert.equal(meta.hlc, result.mutations[0].hlc);
});

test('cached and read stamp states give the same mids and ever-greater clocks', async () => {
  const r = await fresh();
  const cache = { state: null };
  const mids = [];
  const clocks = [];
  for (let i = 0; i < 10; i++) {
    const { mutations } = await send(r, cache, `M${i}`, T0 + (i % 3)); // a wall clock that stalls
    mids.push(mutations[0].mid);
    clocks.push(mutations[0].hlc);
  }
  assert.deepEqual(mids, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual([...clocks].sort(), clocks);
  assert.equal(new Set(clocks).size, clocks.length);
  assert.deepEqual((await r.pending()).map((m) => m.mid), mids);
});

test('another writer took the next mid: the cached write is aborted and written again after it, no mid used twice', async () => {
  const r = await fresh();
  const cache = { state: null };
  await send(r, cache, 'M1', T0);
  const other = await Replica.open(`send-stamps-${dbCounter}`); // the page, or another tab
  const theirs = await other.write([msg('T1')], T0 + 5);
  assert.equal(theirs[0].mid, 2);
  const { mutations, outgoing } = await send(r, cache, 'M2', T0 + 6);
  assert.equal(mutations[0].mid, 3, 'the check saw the other write');
  assert.ok(mutations[0].hlc > theirs[0].hlc);
  assert.deepEqual(outgoing.pending.map((m) => [m.mid, m.id]), [[1, 'M1'], [2, 'T1'], [3, 'M2']]);
  assert.equal((await send(r, cache, 'M3', T0 + 7)).mutations[0].mid, 4, 'cached again');
  other.close();
});

test('a reply that moved the clock above the cached one makes the write stamp above it', async () => {
  const r = await fresh();
  const cache = { state: null };
  await send(r, cache, 'M1', T0);
  const ahead = `${T0 + 30_000}-00000-devX`;
  const reply = { server_time: T0, changes: [{ seq: 1, scope: 'c:C1', collection: 'messages', id: 'R1', hlc: ahead, fields: { channel: 'C1', text: 'x' } }], cursors: { 'c:C1': 1 } };
  await r.applyResponse(reply, T0);
  const { mutations } = await send(r, cache, 'M2', T0 + 1);
  assert.ok(mutations[0].hlc > ahead, 'never below a clock the device has seen');
  assert.equal(mutations[0].mid, 2);
});

test('a reply that moved the clock below the next stamp leaves the cached way open', async () => {
  const r = await fresh();
  const cache = { state: null };
  await send(r, cache, 'M1', T0);
  const behind = `${T0 + 5}-00000-devX`; // another device's message, stamped before this send
  const reply = { server_time: T0, changes: [{ seq: 1, scope: 'c:C1', collection: 'messages', id: 'R1', hlc: behind, fields: { channel: 'C1', text: 'x' } }], cursors: { 'c:C1': 1 } };
  await r.applyResponse(reply, T0 + 10);
  const { result, seen } = await traced(() => send(r, cache, 'M2', T0 + 20));
  assert.ok(seen.indexOf('put nextMid') < seen.findIndex((s) => s.startsWith('answer')), 'put before any answer: cached');
  assert.ok(result.mutations[0].hlc > behind);
  assert.equal((await r.meta()).hlc, result.mutations[0].hlc);
});

test('a new device after signing in again, or a wiped replica, is never stamped from the cache', async () => {
  const r = await fresh();
  const cache = { state: null };
  await send(r, cache, 'M1', T0);
  await r.setSession({ user: { id: 'U1', name: 'Ada' }, device: 'dev2', workspace: { name: 'W' } });
  const { mutations } = await send(r, cache, 'M2', T0 + 1);
  assert.match(mutations[0].hlc, /-dev2$/);
  await r.clear();
  await r.setSession({ user: { id: 'U1', name: 'Ada' }, device: 'dev3', workspace: { name: 'W' } });
  const again = await send(r, cache, 'M3', T0 + 2);
  assert.equal(again.mutations[0].mid, 1, 'the wiped counter starts again');
  assert.match(again.mutations[0].hlc, /-dev3$/);
});

test('a write that cannot be stored through the cache stores nothing and is reported', async () => {
  const r = await fresh();
  const cache = { state: null };
  await send(r, cache, 'M1', T0);
  const bad = { collection: 'messages', id: 'X', fields: { channel: 'C1', text: () => 1 } }; // not cloneable
  await assert.rejects(r.writeToSend([msg('M2'), bad], T0 + 1, {}, [], 500, cache));
  assert.deepEqual((await r.pending()).map((m) => m.id), ['M1'], 'neither change of the failed write');
  assert.equal((await r.meta()).nextMid, 2);
  assert.equal((await send(r, cache, 'M3', T0 + 2)).mutations[0].mid, 2);
});
