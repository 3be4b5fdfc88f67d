// The engine's timing and reactions: debounced triggers, backoff after failures, status, and
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

async function setup(replies, events = {}) {
  const replica = await Replica.open(`engine-${++n}`);
  await replica.setSession({ user: { id: 'U1' }, device: 'dev1' });
  const calls = [];
  const statuses = [];
  const transport = {
    async sync(body) {
      calls.push(body);
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
    debounceMs: 10,
    events: { onStatus: (s) => statuses.push(s), ...events },
  });
  return { replica, engine, calls, statuses };
}

test('triggers within the debounce window collapse into one sync', async () => {
  const { engine, calls, statuses } = await setup([]);
  engine.start();
  await until(() => statuses.at(-1) === Status.ONLINE);
  const before = calls.length;
  engine.trigger();
  engine.trigger();
  engine.trigger();
  await advance(40);
  assert.equal(calls.length - before, 1);
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
