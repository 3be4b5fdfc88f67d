// Grouped writes (replica/outbox.js, OutboxWriter) on a real IndexedDB (fake-indexeddb): writes of
// one task share a transaction, the cached stamp state is checked inside it, a write is stamped
// again (in order) when another writer moved the state, and a failed one is reported with its
// mutations. Also the store's side: failed writes that could not be stored still show.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from '../src/replica/replica.js';
import { Store } from '../src/dispatch/store.js';
import { Holdings } from '../src/replica/holdings.js';

let dbCounter = 0;
const T0 = 1_764_172_800_000;
const msg = (id, text = id) => ({ collection: 'messages', id, fields: { channel: 'C1', text } });

async function fresh() {
  const replica = await Replica.open(`groups-${++dbCounter}`);
  await replica.setSession({ user: { id: 'U1', name: 'Ada' }, device: 'dev1', workspace: { name: 'W' } });
  return replica;
}

/** Write one message in a task of its own and wait for its commit: the stamp state is then cached. */
async function warm(replica) {
  const { committed } = replica.enqueue([msg('M0')], T0);
  await committed;
}

test('writes made in one task share one transaction, in order, and each is told when it is stamped and committed', async () => {
  const r = await fresh();
  await warm(r);
  const jobs = [1, 2, 3].map((i) => r.enqueue([msg(`M${i}`)], T0 + i, i === 3 ? { 'draft:C1': null } : {}));
  assert.equal(r.enqueued, true, 'not committed yet');
  const stamped = await Promise.all(jobs.map((j) => j.stamped));
  assert.deepEqual(stamped.map(([m]) => m.mid), [2, 3, 4]);
  assert.ok(stamped[0][0].hlc < stamped[1][0].hlc && stamped[1][0].hlc < stamped[2][0].hlc);
  const committed = await Promise.all(jobs.map((j) => j.committed));
  assert.deepEqual(committed, stamped, 'nobody else wrote: stored as stamped');
  assert.equal(r.enqueued, false);
  assert.deepEqual((await r.pending()).map((m) => m.id), ['M0', 'M1', 'M2', 'M3']);
  const meta = await r.meta();
  assert.equal(meta.nextMid, 5);
  assert.equal(meta.hlc, stamped[2][0].hlc);
  assert.equal(meta['draft:C1'], null, 'the draft clear committed with its message');
});

test('writes made while a group commits wait for it, and then go together in one transaction', async () => {
  const r = await fresh();
  await warm(r);
  const before = r.writeStats;
  const jobs = [1, 2, 3, 4, 5].map((i) => r.enqueue([msg(`M${i}`)], T0 + i));
  const stored = await Promise.all(jobs.map((j) => j.committed));
  assert.deepEqual(stored.map(([m]) => m.mid), [2, 3, 4, 5, 6]);
  const after = r.writeStats;
  assert.equal(after.writes - before.writes, 5);
  assert.equal(after.groups - before.groups, 2, 'the first at once, the four made meanwhile together');
  assert.equal(after.rewrites, before.rewrites, 'nothing was read before its puts');
});

test('from a cold cache, writes made one after another read the stamp state once, then go the fast way', async () => {
  const r = await fresh(); // nothing cached yet
  for (let i = 0; i < 20; i++) await r.enqueue([msg(`M${i}`)], T0 + i).stamped;
  await r.enqueue([msg('last')], T0 + 20).committed;
  const stats = r.writeStats;
  assert.equal(stats.rewrites, 1, 'one read of the stamp state');
  assert.ok(stats.groups < stats.writes, `writes went together (${stats.writes} in ${stats.groups})`);
  assert.deepEqual((await r.pending()).map((m) => m.mid), Array.from({ length: 21 }, (_, i) => i + 1));
});

test('the stamp state is cached: a write after the first is stamped at once, before any IndexedDB answer', async () => {
  const r = await fresh();
  await warm(r);
  let stamped = null;
  r.enqueue([msg('M1')], T0).stamped.then((m) => (stamped = m));
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(stamped?.[0].mid, 2);
});

test('another writer moved the stamp state: the grouped write is stamped again after it, with no mid used twice', async () => {
  const r = await fresh();
  await warm(r); // cached: next mid 2
  const other = await Replica.open(`groups-${dbCounter}`); // another tab (or the send worker)
  const theirs = await other.write([msg('T1')], T0 + 5);
  assert.equal(theirs[0].mid, 2);
  const first = r.enqueue([msg('M1')], T0 + 6);
  const shown = await first.stamped;
  assert.equal(shown[0].mid, 2, 'stamped from the cache, which is stale');
  const stored = await first.committed;
  assert.equal(stored[0].mid, 3, 'the check saw the other write: stamped again after it');
  assert.ok(stored[0].hlc > theirs[0].hlc);
  const pending = await r.pending();
  assert.deepEqual(pending.map((m) => [m.mid, m.id]), [[1, 'M0'], [2, 'T1'], [3, 'M1']]);
  // The cache is good again: the next one goes straight through with the next mid.
  const next = r.enqueue([msg('M2')], T0 + 7);
  assert.equal((await next.stamped)[0].mid, 4);
  assert.equal((await next.committed)[0].mid, 4);
  other.close();
});

test('when a group is stamped again, every group after it is too, in order', async () => {
  const r = await fresh();
  await warm(r);
  const other = await Replica.open(`groups-${dbCounter}`);
  await other.write([msg('T1')], T0 + 5);
  const a = r.enqueue([msg('A')], T0 + 6);
  await new Promise((resolve) => setTimeout(resolve, 0)); // a later task: a second group
  const b = r.enqueue([msg('B')], T0 + 7);
  r.forgetStamp(); // a write went another way: the next one reads the stamp state, after A and B
  const c = r.enqueue([msg('C')], T0 + 8);
  const [sa, sb, sc] = [await a.committed, await b.committed, await c.committed];
  assert.ok(sa[0].mid < sb[0].mid && sb[0].mid < sc[0].mid, 'order kept');
  assert.deepEqual((await r.pending()).map((m) => m.id), ['M0', 'T1', 'A', 'B', 'C']);
  assert.equal(r.enqueued, false);
  other.close();
});

test('a clock moved by an applied reply makes the next grouped write stamp above it', async () => {
  const r = await fresh();
  await warm(r);
  const ahead = `${T0 + 60_000}-00000-devX`;
  await r.applyResponse({ server_time: T0, changes: [{ seq: 1, scope: 'c:C1', collection: 'messages', id: 'R1', hlc: ahead, fields: { channel: 'C1', text: 'x' } }], cursors: { 'c:C1': 1 } }, T0);
  const job = r.enqueue([msg('M1')], T0 + 1);
  const stored = await job.committed;
  assert.ok(stored[0].hlc > ahead, 'never below a clock the device has seen');
});

test('a clock moved by a history page makes the next grouped write stamp above it', async () => {
  const r = await fresh();
  await warm(r);
  const holdings = await Holdings.open(`groups-${dbCounter}`); // the replica fresh() just opened
  const ahead = `${T0 + 60_000}-00000-devX`;
  const fields = { channel: 'C1', text: 'old, edited far ahead', author: 'U2', n: 1, at: T0 };
  const page = [{ scope: 'c:C1', collection: 'messages', id: 'P1', fields, clocks: Object.fromEntries(Object.keys(fields).map((k) => [k, ahead])) }];
  await holdings.applyPage(page, T0, 'C1', { low: 1, oldestAt: T0, last: 1 });
  const job = r.enqueue([msg('P1', 'my edit')], T0 + 1);
  const stored = await job.committed;
  assert.ok(stored[0].hlc > ahead, 'my later edit must not lose to a clock the page showed this device');
  holdings.close();
});

test('signing in again on a new device id stamps the next grouped write with the new device and its own mids', async () => {
  const r = await fresh();
  await warm(r);
  await r.setSession({ user: { id: 'U1', name: 'Ada' }, device: 'dev2', workspace: { name: 'W' } });
  const stored = await r.enqueue([msg('M1')], T0 + 1).committed;
  assert.ok(stored[0].hlc.endsWith('-dev2'), `stamped by the device signed in now, not the last one: ${stored[0].hlc}`);
});

test('a grouped write that cannot be stored rejects with its mutations, and the draft stays', async () => {
  const r = await fresh();
  await warm(r);
  await r.setMeta('draft:C1', 'typed');
  const other = await Replica.open(`groups-${dbCounter}`);
  await other.setMeta('device', null); // the stamp state cannot be read any more
  await other.write([msg('T1')], T0).catch(() => {});
  await other.setMeta('stamp', 'moved');
  const job = r.enqueue([msg('M1', 'hello')], T0, { 'draft:C1': null });
  await job.stamped;
  await assert.rejects(job.committed, (error) => {
    assert.equal(error.name, 'StorageError');
    assert.equal(error.mutations[0].fields.text, 'hello');
    return true;
  });
  assert.equal((await r.meta())['draft:C1'], 'typed');
  assert.deepEqual((await r.pending()).map((m) => m.id), ['M0']);
  other.close();
});

test('failed writes the failed table could not hold still show, until retried or discarded', () => {
  const store = new Store();
  store.load({ records: [], outbox: [], failed: [], meta: {} });
  const entry = { mid: -1, collection: 'messages', id: 'M1', fields: { channel: 'C1', text: 'hello' }, hlc: 'h', code: 'storage', reason: 'full', failedAt: 0 };
  store.keepFailed([entry]);
  assert.deepEqual(store.failed.value.map((f) => f.id), ['M1']);
  store.setFailed([]); // a re-read of an empty `failed` table
  assert.deepEqual(store.failed.value.map((f) => f.id), ['M1'], 'kept');
  store.setFailed([entry]); // it was stored after all: shown once
  assert.equal(store.failed.value.length, 1);
  assert.equal(store.dropUnsaved(-1), true);
  store.setFailed([]);
  assert.deepEqual(store.failed.value, []);
});
