// The store takes confirmed records by the merge rule: a snapshot that arrives late (a sync's
// reply read before a live frame, patched after it) never puts an overwritten value back.
// Issue 11: an offline title edit was shown as the old title on one side after reconnecting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store, join } from '../src/dispatch/store.js';

const T0 = 1_764_172_800_000;
const hlc = (ms, device = 'srv') => `${T0 + ms}-00000-${device}`;
const task = (fields, clocks) => ({ collection: 'tasks', id: 'T1', scope: 'c:C1', fields, clocks });

const created = task({ channel: 'C1', title: 'Fix the pump', status: 'todo' }, { channel: hlc(1), title: hlc(1), status: hlc(1) });
const statusChanged = task({ channel: 'C1', title: 'Fix the pump', status: 'doing', changed: 5 }, { channel: hlc(1), title: hlc(1), status: hlc(3, 'bob'), changed: hlc(4) });
const titleChanged = task(
  { channel: 'C1', title: 'Fix the pump at site B', status: 'doing', changed: 6 },
  { channel: hlc(1), title: hlc(2, 'ada'), status: hlc(3, 'bob'), changed: hlc(5) },
);

test('a late, older snapshot of a record does not undo a newer one already shown', () => {
  const store = new Store();
  store.patch([['tasks/T1', created]]);
  store.patch([['tasks/T1', titleChanged]]); // the live frame, applied and shown first
  store.patch([['tasks/T1', statusChanged]]); // the sync reply read before it, patched after
  const shown = store.shown('tasks', 'T1');
  assert.equal(shown.fields.title, 'Fix the pump at site B');
  assert.equal(shown.fields.status, 'doing');
  assert.equal(shown.fields.changed, 6);
});

test('an ack removes the pending title only once the confirmed record holds it, whatever the patch order', () => {
  const store = new Store();
  store.patch([['tasks/T1', statusChanged]]);
  store.addPending([{ mid: 1, collection: 'tasks', id: 'T1', fields: { title: 'Fix the pump at site B' }, hlc: hlc(2, 'ada') }]);
  assert.equal(store.shown('tasks', 'T1').fields.title, 'Fix the pump at site B');
  store.patch([['tasks/T1', titleChanged]]);
  store.removePending([1]);
  store.patch([['tasks/T1', statusChanged]]); // late
  assert.equal(store.shown('tasks', 'T1').fields.title, 'Fix the pump at site B');
});

test('join keeps the newer snapshot itself when it covers the held one, and picks per field otherwise', () => {
  assert.equal(join(created, titleChanged), titleChanged);
  const joined = join(titleChanged, statusChanged);
  assert.deepEqual(joined.fields, titleChanged.fields);
  assert.deepEqual(joined.clocks, titleChanged.clocks);
  // Concurrent snapshots (each holds a field the other lacks) meet in the middle.
  const a = task({ title: 'A', due: '2026-12-05' }, { title: hlc(9, 'ada'), due: hlc(1) });
  const b = task({ title: 'B', due: '2026-12-24' }, { title: hlc(2, 'bob'), due: hlc(7, 'bob') });
  assert.deepEqual(join(a, b).fields, { title: 'A', due: '2026-12-24' });
  assert.deepEqual(join(b, a).fields, { title: 'A', due: '2026-12-24' });
  // A field called __proto__ stays data.
  const odd = task(JSON.parse('{"__proto__": "x"}'), JSON.parse(`{"__proto__": "${hlc(9)}"}`));
  const joinedOdd = join(odd, task({}, {}));
  assert.ok(Object.hasOwn(joinedOdd.fields, '__proto__'));
  assert.equal(joinedOdd.fields.__proto__, 'x');
});
