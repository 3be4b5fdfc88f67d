// Replica#applyLive (replica/replies.js): what any faster apply must keep. A frame for a record
// already held merges field by field through the merge rule; its clock moves the device's; a frame
// that does not continue the cursor writes nothing (the caller pulls the gap); a frame of many
// messages (read by span, read-many.js) applies each once.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from '../src/replica/replica.js';

let dbCounter = 0;
const T0 = 1_764_172_800_000;

async function fresh() {
  const replica = await Replica.open(`live-apply-${++dbCounter}`);
  await replica.setSession({ user: { id: 'U1', name: 'Ada' }, device: 'dev1', workspace: { name: 'W' } });
  await replica.applyResponse({ server_time: T0, cursors: { 'c:C1': 4 }, scopes: ['ws', 'c:C1'] }, T0);
  return replica;
}

const change = (seq, id, hlc, fields) => ({ seq, scope: 'c:C1', collection: 'messages', id, hlc, author: 'U2', fields });

test('a live frame for a message already held merges into it, field by field', async () => {
  const r = await fresh();
  const text = `${T0 + 50}-00000-dev2`;
  await r.applyLive({ t: 'changes', scope: 'c:C1', prev: 4, changes: [change(5, 'M1', text, { channel: 'C1', text: 'edited' })] }, T0);
  // An older change to `text` (it lost) with a field the record lacks (it is taken).
  const older = change(6, 'M1', `${T0 + 10}-00000-dev2`, { text: 'first', pinned: true });
  const result = await r.applyLive({ t: 'changes', scope: 'c:C1', prev: 5, changes: [older] }, T0);
  assert.equal(result.applied, true);
  const [[, record]] = result.records;
  assert.deepEqual(record.fields, { channel: 'C1', text: 'edited', pinned: true });
  assert.equal(record.clocks.text, text);
  const [stored] = (await r.snapshot()).records;
  assert.deepEqual(stored.fields, record.fields);
  assert.deepEqual((await r.meta()).cursors, { 'c:C1': 6 });
});

test("a live frame's clock moves the device's: the next write is stamped after it", async () => {
  const r = await fresh();
  const ahead = `${T0 + 60_000}-00003-dev2`; // a minute ahead of this device's time
  await r.applyLive({ t: 'changes', scope: 'c:C1', prev: 4, changes: [change(5, 'M1', ahead, { channel: 'C1', text: 'hi' })] }, T0);
  const meta = await r.meta();
  assert.equal(meta.hlcSeen, ahead);
  const [mine] = await r.write([{ collection: 'messages', id: 'M2', fields: { channel: 'C1', text: 'reply' } }], T0);
  assert.ok(mine.hlc > ahead, `${mine.hlc} after ${ahead}`);
});

test('a frame that skips past the cursor is a gap: nothing is written, and the next one in order applies', async () => {
  const r = await fresh();
  const before = await r.meta();
  const gap = await r.applyLive({ t: 'changes', scope: 'c:C1', prev: 5, changes: [change(6, 'M6', `${T0}-00000-dev2`, { channel: 'C1', text: 'x' })] }, T0);
  assert.equal(gap.applied, false);
  assert.deepEqual(await r.meta(), before);
  assert.deepEqual((await r.snapshot()).records, []);
  const ok = await r.applyLive({ t: 'changes', scope: 'c:C1', prev: 4, changes: [change(5, 'M5', `${T0}-00000-dev2`, { channel: 'C1', text: 'y' })] }, T0);
  assert.equal(ok.applied, true);
});

test('a frame of many messages (read by span) applies them all once', async () => {
  const r = await fresh();
  const changes = Array.from({ length: 40 }, (_, i) => change(5 + i, `M${String(i).padStart(3, '0')}`, `${T0}-${String(i).padStart(5, '0')}-dev2`, { channel: 'C1', text: `m${i}` }));
  const result = await r.applyLive({ t: 'changes', scope: 'c:C1', prev: 4, changes }, T0);
  assert.equal(result.applied, true);
  assert.equal((await r.snapshot()).records.length, 40);
  assert.deepEqual((await r.meta()).cursors, { 'c:C1': 44 });
});
