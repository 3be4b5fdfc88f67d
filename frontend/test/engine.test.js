// The engine's timing and reactions: sends at once, coalescing only while in flight, lazy cursors, backoff after failures, status, and
// what it tells the app about 401 / 426 / live frames.
//
// Time is fake (node:test's mock timers mock setTimeout only): the tests move the clock and
// never sleep. fake-indexeddb schedules with setImmediate, which stays real, so I/O still runs.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from '../src/replica/replica.js';
import { SyncEngine, Status } from '../src/sync/engine.js';
import { ApiError } from '../src/sync/transport.js';

const T0 = 1_764_172_800_000;
let n = 0;
const turn = () => new Promise((resolve) => setImmediate(resolve));

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

/** Move the fake clock `ms` milliseconds, one at a time, letting I/O run between steps. */
async function advance(ms) {
  for (let i = 0; i < ms; i++) {
    await turn();
    mock.timers.tick(1);
  }
  await turn();
}

/** Move the fake clock until `predicate` holds (at most `ms` fake milliseconds). */
async function until(predicate, ms = 2000) {
  for (let elapsed = 0; !predicate(); elapsed++) {
    if (elapsed > ms) throw new Error(`condition not met within ${ms} fake ms`);
    await advance(1);
  }
}

async function setup(replies, events = {}, gate = null) {
  const replica = await Replica.open(`engine-${++n}`);
  await replica.setSession({ user: { id: 'U1' }, device: 'dev1' });
  const calls = [];
  const statuses = [];
  const transport = {
    async sync(body) {
      calls.push(body);
      if (gate) await gate(body);
      const next = await (replies.length ? replies.shift() : {});
      if (next instanceof Error) throw next;
      return { v: 1, server_time: T0, acks: body.changes.map((c) => c.mid), cursors: {}, scopes: [], more: false, ...next };
    },
  };
  const engine = new SyncEngine({
    replica,
    transport,
    live: false,
    retryDelay: () => 5,
    lazyMs: 100,
    events: { onStatus: (s) => statuses.push(s), ...events },
  });
  return { replica, engine, calls, statuses };
}

const message = (id) => ({ collection: 'messages', id, fields: { channel: 'C1', text: id } });
const cursor = (n) => ({ collection: 'reads', id: 'U1:C1', fields: { channel: 'C1', user: 'U1', n } });

/** Run I/O (real setImmediate) without moving the fake clock, until `predicate` holds. */
async function settle(predicate) {
  for (let i = 0; !predicate(); i++) {
    if (i > 20000) throw new Error('condition not met without time passing');
    await turn();
  }
}

/** A transport gate: each request waits until the test opens it. */
function gated() {
  const waiting = [];
  return {
    gate: () => new Promise((resolve) => waiting.push(resolve)),
    open: () => waiting.splice(0).forEach((resolve) => resolve()),
    get waiting() {
      return waiting.length;
    },
  };
}

test('a send leaves at once with no fixed wait; sends during a request ride together in the next', async () => {
  const g = gated();
  const { replica, engine, calls } = await setup([], {}, g.gate);
  engine.start();
  await settle(() => g.waiting === 1);
  g.open();
  await settle(() => engine.status === Status.ONLINE);
  // No request in flight: the write goes now, without the fake clock moving at all.
  await replica.write([message('M1')], T0);
  engine.trigger();
  await settle(() => calls.length === 2);
  assert.deepEqual(calls[1].changes.map((c) => c.id), ['M1']);
  // While it is in flight, three more writes and triggers: one more request takes them all.
  for (const id of ['M2', 'M3', 'M4']) {
    await replica.write([message(id)], T0);
    engine.trigger();
  }
  assert.equal(calls.length, 2, 'nothing more while one is in flight');
  g.open();
  await settle(() => calls.length === 3);
  assert.deepEqual(calls[2].changes.map((c) => c.id), ['M2', 'M3', 'M4']);
  g.open();
  await settle(() => engine.status === Status.ONLINE && g.waiting === 0);
  await advance(300);
  assert.equal(calls.length, 3, 'and nothing after');
  engine.stop();
});

test('a send the send worker has made is the engine\'s request: it starts none of its own meanwhile', async () => {
  const g = gated();
  const { replica, engine, calls } = await setup([], {}, g.gate);
  engine.start();
  await settle(() => g.waiting === 1);
  g.open();
  await settle(() => engine.status === Status.ONLINE);
  // The worker's write and request: told to the engine synchronously, before either is done.
  let sent;
  const first = new Promise((resolve) => (sent = resolve));
  engine.trigger(first);
  assert.equal(engine.idle, false);
  engine.trigger(); // e.g. a live 'hello' meanwhile: it waits for this request
  const written = await replica.writeToSend([message('M1')], T0);
  sent({ ...written.outgoing, reply: Promise.resolve({ v: 1, server_time: T0, acks: [written.mutations[0].mid], cursors: {}, scopes: [], more: false }) });
  await settle(() => calls.length === 2);
  g.open();
  await settle(() => engine.status === Status.ONLINE && g.waiting === 0);
  assert.deepEqual(calls[1].changes, [], 'the trigger that came meanwhile pulls; M1 went once, by the worker');
  assert.equal(await replica.pendingCount(), 0);
  engine.stop();
});

test('a read cursor never syncs while a request is pending: it rides with the next one', async () => {
  const g = gated();
  const { replica, engine, calls } = await setup([], {}, g.gate);
  engine.start();
  await settle(() => g.waiting === 1);
  // A cursor written while the first request is in flight waits; a send then takes it along.
  await replica.write([cursor(3)], T0);
  engine.later();
  g.open();
  await settle(() => engine.status === Status.ONLINE);
  await advance(50);
  assert.equal(calls.length, 1, 'no request of its own within the lazy window');
  await replica.write([message('M1')], T0);
  engine.trigger();
  await settle(() => calls.length === 2);
  assert.deepEqual(calls[1].changes.map((c) => c.id), ['U1:C1', 'M1']);
  g.open();
  await settle(() => engine.status === Status.ONLINE && g.waiting === 0);
  await advance(300);
  assert.equal(calls.length, 2, 'the lazy timer died with the request that took the cursor');
  engine.stop();
});

test('a read cursor alone gets a request of its own after the lazy window', async () => {
  const { replica, engine, calls, statuses } = await setup([]);
  engine.start();
  await until(() => statuses.at(-1) === Status.ONLINE);
  await replica.write([cursor(3)], T0);
  engine.later();
  engine.later();
  await advance(90);
  assert.equal(calls.length, 1);
  await until(() => calls.length === 2, 50);
  assert.deepEqual(calls[1].changes.map((c) => c.id), ['U1:C1']);
  await advance(300);
  assert.equal(calls.length, 2);
  engine.stop();
});

test('a failed sync shows Offline and retries by itself until it works', async () => {
  const offline = new ApiError(0, { error: 'network' });
  const { replica, engine, calls, statuses } = await setup([offline, offline]);
  await replica.write([{ collection: 'messages', id: 'M1', fields: { channel: 'C1', text: 'x' } }], T0);
  engine.start();
  await until(() => statuses.at(-1) === Status.ONLINE && calls.length >= 3);
  assert.ok(statuses.includes(Status.OFFLINE));
  assert.ok(statuses.includes(Status.SYNCING));
  assert.equal(await replica.pendingCount(), 0);
  engine.stop();
});

test('a sync that ends after the browser went offline leaves the status Offline', async () => {
  let release = () => {};
  const gate = new Promise((resolve) => (release = resolve));
  // The reply is held until after the offline event: it was on its way when the network went.
  const { engine, statuses } = await setup([gate]);
  engine.start();
  await until(() => statuses.includes(Status.SYNCING));
  engine.offline();
  release({});
  await until(() => statuses.at(-1) !== Status.SYNCING && statuses.length > 2);
  assert.equal(statuses.at(-1), Status.OFFLINE);
  assert.equal(engine.status, Status.OFFLINE);
  engine.online();
  await until(() => statuses.at(-1) === Status.ONLINE);
  engine.stop();
});

test('426 asks for an update and stops; 401 says we are signed out', async () => {
  let update = 0;
  let signedOut = 0;
  const a = await setup([new ApiError(426, { error: 'update_required', detail: 'x' })], { onUpdateRequired: () => update++ });
  a.engine.start();
  await until(() => update === 1);
  await advance(30);
  assert.equal(a.calls.length, 1, 'no retries after update_required');

  const b = await setup([new ApiError(401, { error: 'signed_out', detail: 'x' })], { onSignedOut: () => signedOut++ });
  b.engine.start();
  await until(() => signedOut === 1);
  b.engine.stop();
});

test('an engine stopped while its request is in flight tells the app nothing more and leaves the replica alone (sign-out clears it)', async () => {
  const g = gated();
  const events = [];
  const { replica, engine, statuses } = await setup(
    [{ changes: [{ seq: 1, scope: 'ws', collection: 'channels', id: 'C1', hlc: `${T0}-00000-x`, author: 'U2', fields: { name: 'g', kind: 'public' } }], cursors: { ws: 1 } }],
    { onApplied: (r) => events.push(['applied', r]), onStorageError: (e) => events.push(['storage', e]) },
    g.gate,
  );
  engine.start();
  await settle(() => g.waiting === 1);
  const told = statuses.length;
  engine.stop(); // signed out while the request is at the server
  g.open();
  await advance(50);
  assert.deepEqual(events, [], 'no apply reaches the app after stop');
  assert.equal(statuses.length, told, 'no status after stop');
  const [[, held]] = await replica.getRecords(['channels/C1']);
  assert.equal(held, null, 'a reply that arrives after the stop is not applied: the cleared replica stays clear');
});

test('applied results reach the app with the changed keys', async () => {
  const applied = [];
  const { engine } = await setup(
    [
      {
        changes: [{ seq: 1, scope: 'ws', collection: 'channels', id: 'C1', hlc: `${T0}-00000-x`, author: 'U2', fields: { name: 'g', kind: 'public' } }],
        cursors: { ws: 1 },
      },
    ],
    { onApplied: (r) => applied.push(r) },
  );
  engine.start();
  await until(() => applied.length === 1);
  assert.deepEqual([...applied[0].keys], ['channels/C1']);
  engine.stop();
});

test('while the browser is offline, writes make no request each; the retry timer probes; online sends at once', async () => {
  const offline = new ApiError(0, { error: 'network' });
  const { replica, engine, calls, statuses } = await setup([offline, offline, offline, offline, offline]);
  engine.start();
  await until(() => statuses.at(-1) === Status.OFFLINE);
  engine.offline();
  const before = calls.length;
  for (const id of ['M1', 'M2', 'M3']) {
    await replica.write([message(id)], T0);
    engine.trigger();
  }
  await settle(() => true);
  assert.ok(calls.length <= before + 1, 'at most the scheduled probe, not one request per write');
  engine.online();
  await until(() => statuses.at(-1) === Status.ONLINE);
  assert.deepEqual(calls.at(-1).changes.map((c) => c.id), ['M1', 'M2', 'M3']);
  engine.stop();
});
