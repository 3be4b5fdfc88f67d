// The IndexedDB replica (fake-indexeddb): outbox atomicity, applying replies, live frames,
// dropped scopes, restamping, retry/discard, and who owns the replica.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from '../src/replica/replica.js';
import { storageError, StorageError } from '../src/replica/db.js';

let dbCounter = 0;
const T0 = 1_764_172_800_000;
const session = (user = 'U1', device = 'dev1') => ({ user: { id: user, name: 'Ada' }, device, workspace: { name: 'W' } });

async function fresh(user = 'U1') {
  const replica = await Replica.open(`test-${++dbCounter}`);
  await replica.setSession(session(user));
  return replica;
}

const change = (seq, scope, collection, id, hlc, fields) => ({ seq, scope, collection, id, hlc, author: 'U2', fields });

test('a write puts every change in the outbox, in mid order, with increasing clocks', async () => {
  const r = await fresh();
  const m = await r.write(
    [
      { collection: 'channels', id: 'C1', fields: { name: 'ops', kind: 'public' } },
      { collection: 'members', id: 'C1:U1', fields: { channel: 'C1', user: 'U1' } },
    ],
    T0,
  );
  assert.deepEqual(m.map((x) => x.mid), [1, 2]);
  assert.ok(m[0].hlc < m[1].hlc);
  assert.match(m[0].hlc, /^\d{13}-\d{5}-dev1$/);
  const more = await r.write([{ collection: 'messages', id: 'M1', fields: { channel: 'C1', text: 'hi' } }], T0);
  assert.equal(more[0].mid, 3);
  assert.ok(more[0].hlc > m[1].hlc, 'the clock survives across writes');
  assert.deepEqual((await r.pending()).map((x) => x.mid), [1, 2, 3]);
  assert.equal(await r.pendingCount(), 3);
  // confirmed state is untouched by local writes
  assert.deepEqual((await r.snapshot()).records, []);
});

test('a reply acks, rejects, merges changes, advances cursors and keeps the offset', async () => {
  const r = await fresh();
  await r.write([{ collection: 'messages', id: 'M1', fields: { channel: 'C1', text: 'a' } }], T0);
  await r.write([{ collection: 'messages', id: 'M2', fields: { channel: 'C9', text: 'b' } }], T0);
  const result = await r.applyResponse(
    {
      v: 1,
      server_time: T0 + 5000,
      acks: [1],
      rejections: [{ mid: 2, code: 'forbidden', reason: 'you are not a member of this channel' }],
      changes: [
        change(7, 'c:C1', 'messages', 'M1', `${T0}-00000-dev1`, { channel: 'C1', text: 'a', n: 1, author: 'U1', at: T0 }),
      ],
      cursors: { 'c:C1': 7, ws: 3 },
      scopes: ['ws', 'u:U1', 'c:C1'],
      more: false,
    },
    T0,
  );
  assert.deepEqual(result.keys, ['messages/M1']);
  const snap = await r.snapshot();
  assert.deepEqual(snap.outbox, []);
  assert.equal(snap.failed.length, 1);
  assert.equal(snap.failed[0].mid, 2);
  assert.equal(snap.failed[0].reason, 'you are not a member of this channel');
  assert.equal(snap.records[0].fields.n, 1);
  assert.equal(snap.records[0].scope, 'c:C1');
  assert.deepEqual(snap.meta.cursors, { 'c:C1': 7, ws: 3 });
  assert.equal(snap.meta.offset, 5000);
  // later writes are stamped from corrected time
  const [m] = await r.write([{ collection: 'messages', id: 'M3', fields: { channel: 'C1', text: 'c' } }], T0 + 10);
  assert.ok(m.hlc.startsWith(String(T0 + 5010)));
});

test('cursors never move back, and scopes no longer listed are dropped with their records', async () => {
  const r = await fresh();
  await r.applyResponse(
    {
      server_time: T0,
      changes: [
        change(1, 'c:C1', 'messages', 'M1', `${T0}-00000-x`, { channel: 'C1', text: 'a', n: 1 }),
        change(2, 'c:C2', 'messages', 'M2', `${T0}-00001-x`, { channel: 'C2', text: 'b', n: 1 }),
      ],
      cursors: { 'c:C1': 1, 'c:C2': 2 },
      scopes: ['ws', 'c:C1', 'c:C2'],
    },
    T0,
  );
  // a pending write in the scope about to be lost stays in the outbox (never evicted)
  await r.write([{ collection: 'messages', id: 'M3', fields: { channel: 'C2', text: 'c' } }], T0);
  const result = await r.applyResponse({ server_time: T0, cursors: { 'c:C1': 0 }, scopes: ['ws', 'c:C1'] }, T0);
  assert.deepEqual(result.dropped, ['messages/M2']);
  const snap = await r.snapshot();
  assert.deepEqual(snap.records.map((x) => x.id), ['M1']);
  assert.deepEqual(snap.meta.cursors, { 'c:C1': 1 });
  assert.equal(snap.outbox.length, 1);
});

test('a scope lost between, below or above the scopes still listed is dropped; one still listed is kept', async () => {
  for (const [scopes, gone] of [
    [['c:A', 'c:C', 'ws'], 'c:B'],
    [['c:B', 'c:C', 'ws'], 'c:A'],
    [['c:A', 'c:B', 'c:C'], 'ws'],
  ]) {
    const r = await fresh();
    const held = ['c:A', 'c:B', 'c:C', 'ws'];
    await r.applyResponse(
      {
        server_time: T0,
        changes: held.map((scope, i) => change(i + 1, scope, 'messages', `M${i}`, `${T0}-0000${i}-x`, { channel: scope, text: 't', n: 1 })),
        cursors: Object.fromEntries(held.map((scope, i) => [scope, i + 1])),
        scopes: held,
      },
      T0,
    );
    const kept = await r.applyResponse({ server_time: T0, cursors: {}, scopes: held }, T0);
    assert.deepEqual(kept.dropped, [], 'every scope held is still listed: nothing dropped');
    const result = await r.applyResponse({ server_time: T0, cursors: {}, scopes }, T0);
    assert.deepEqual(result.dropped, [`messages/M${held.indexOf(gone)}`], `${gone} is dropped`);
    assert.deepEqual((await r.snapshot()).records.map((x) => x.scope).sort(), scopes);
  }
});

test('a live frame applies when it continues the cursor, and reports a gap otherwise', async () => {
  const r = await fresh();
  await r.applyResponse({ server_time: T0, cursors: { 'c:C1': 4 }, scopes: ['ws', 'c:C1'] }, T0);
  const gap = await r.applyLive(
    { t: 'changes', scope: 'c:C1', prev: 5, changes: [change(6, 'c:C1', 'messages', 'M6', `${T0}-00000-x`, { channel: 'C1', text: 'x', n: 3 })] },
    T0,
  );
  assert.equal(gap.applied, false);
  assert.equal((await r.snapshot()).records.length, 0);
  const ok = await r.applyLive(
    { t: 'changes', scope: 'c:C1', prev: 4, changes: [change(5, 'c:C1', 'messages', 'M5', `${T0}-00000-x`, { channel: 'C1', text: 'x', n: 2 })] },
    T0,
  );
  assert.equal(ok.applied, true);
  assert.deepEqual((await r.meta()).cursors, { 'c:C1': 5 });
});

test('merging keeps the newer field whatever the order of arrival', async () => {
  const r = await fresh();
  const newer = change(2, 'ws', 'channels', 'C1', `${T0 + 10}-00000-b`, { name: 'new-name' });
  const older = change(1, 'ws', 'channels', 'C1', `${T0}-00000-a`, { name: 'old-name', kind: 'public' });
  await r.applyResponse({ server_time: T0, changes: [newer, older] }, T0);
  const [record] = (await r.snapshot()).records;
  assert.equal(record.fields.name, 'new-name');
  assert.equal(record.fields.kind, 'public');
});

test('restamping after clock_ahead moves pending clocks back to corrected time, in order', async () => {
  const r = await fresh();
  const ahead = T0 + 3_600_000; // this device's clock runs an hour fast
  await r.write([{ collection: 'messages', id: 'M1', fields: { channel: 'C1', text: 'a' } }], ahead);
  await r.write([{ collection: 'messages', id: 'M2', fields: { channel: 'C1', text: 'b' } }], ahead);
  await r.restamp(T0, ahead);
  const pending = await r.pending();
  assert.ok(pending.every((m) => m.hlc.startsWith(String(T0))), pending.map((m) => m.hlc).join());
  assert.ok(pending[0].hlc < pending[1].hlc);
  assert.equal((await r.meta()).offset, T0 - ahead);
});

test('a failed mutation can be retried (as a new mutation) or discarded', async () => {
  const r = await fresh();
  await r.write([{ collection: 'messages', id: 'M1', fields: { channel: 'C1', text: 'a' } }], T0);
  await r.write([{ collection: 'messages', id: 'M2', fields: { channel: 'C1', text: 'b' } }], T0);
  await r.fail(1, 'invalid_change', 'too long', T0);
  await r.fail(2, 'forbidden', 'no', T0);
  const again = await r.retry(1, T0 + 1);
  assert.equal(again.mid, 3);
  assert.equal(again.id, 'M1');
  await r.discard(2);
  const snap = await r.snapshot();
  assert.deepEqual(snap.outbox.map((m) => m.mid), [3]);
  assert.deepEqual(snap.failed, []);
});

test('another person signing in on this browser gets a clean replica; the same person keeps theirs', async () => {
  const r = await fresh('U1');
  await r.write([{ collection: 'messages', id: 'M1', fields: { channel: 'C1', text: 'a' } }], T0);
  assert.equal(await r.setSession(session('U1', 'dev2')), false);
  assert.equal(await r.pendingCount(), 1);
  assert.equal((await r.meta()).device, 'dev2');
  assert.equal(await r.setSession(session('U2', 'dev3')), true);
  assert.equal(await r.pendingCount(), 0);
});

const channel = (id) => ({ scope: 'ws', collection: 'channels', id, fields: { name: id, kind: 'public' }, clocks: { name: `${T0}-00000-x`, kind: `${T0}-00000-x` } });

test('a replica with no one stored is cleared when someone signs in (nothing survives a sign-out\'s clear)', async () => {
  const r = await fresh('U1');
  await r.applyRecords([channel('C1')], T0);
  await r.clear();
  // A late write lands after the clear (a reply in flight at sign-out, before the engine's guard).
  await r.applyRecords([channel('C2')], T0);
  assert.equal((await r.snapshot()).records.length, 1, 'the late write is there');
  assert.equal(await r.setSession(session('U2', 'dev3')), false, 'no other person was stored');
  assert.deepEqual((await r.snapshot()).records, []);
});

test('storage failures become StorageErrors; quota is told apart', () => {
  const quota = storageError(new DOMException('full', 'QuotaExceededError'));
  assert.ok(quota instanceof StorageError);
  assert.equal(quota.kind, 'quota');
  assert.equal(storageError(new Error('boom')).kind, 'storage');
});

test('hlcSeen keeps the latest clock received, whatever order the changes arrive in', async () => {
  const r = await fresh();
  const late = `${T0 + 9000}-00002-devB`;
  const reply = (changes) => ({ v: 1, server_time: T0, acks: [], rejections: [], changes, cursors: {}, more: false });
  await r.applyResponse(
    reply([
      change(1, 'c:C1', 'messages', 'M1', late, { channel: 'C1', text: 'late' }),
      change(2, 'c:C1', 'messages', 'M2', `${T0}-00000-devC`, { channel: 'C1', text: 'early' }),
    ]),
    T0,
  );
  assert.equal((await r.meta()).hlcSeen, late);
  await r.applyResponse(reply([change(3, 'c:C1', 'messages', 'M3', `${T0 + 9000}-00001-devZ`, { text: 'x' })]), T0);
  assert.equal((await r.meta()).hlcSeen, late, 'a lower counter at the same ms does not win');
});

test('a newer read cursor replaces its unsent predecessor, keeping the fields that created the record', async () => {
  const r = await fresh();
  const cursor = (fields) => [{ collection: 'reads', id: 'U1:C1', fields }];
  const [first] = await r.write(cursor({ channel: 'C1', user: 'U1', n: 3 }), T0);
  const [second] = await r.write(cursor({ n: 5 }), T0, {}, [first.mid]);
  const pending = await r.pending();
  assert.deepEqual(pending.map((m) => [m.mid, m.fields]), [[second.mid, { channel: 'C1', user: 'U1', n: 5 }]]);
  // The predecessor already left (acked): the new write stands alone, nothing else is removed.
  await r.applyResponse({ server_time: T0, acks: [second.mid] }, T0);
  await r.write([{ collection: 'messages', id: 'M1', fields: { channel: 'C1', text: 'hi' } }], T0);
  const [third] = await r.write(cursor({ n: 7 }), T0, {}, [second.mid]);
  assert.deepEqual((await r.pending()).map((m) => [m.collection, m.fields]), [
    ['messages', { channel: 'C1', text: 'hi' }],
    ['reads', { n: 7 }],
  ]);
  assert.ok(third.mid > second.mid);
});

test('a reply touching one record several times merges them in order into one stored record', async () => {
  const r = await fresh();
  const changes = [
    change(1, 'c:C1', 'messages', 'M1', `${T0}-00000-srv`, { channel: 'C1', text: 'a', n: 1 }),
    change(2, 'c:C1', 'messages', 'M2', `${T0}-00001-srv`, { channel: 'C1', text: 'b', n: 2 }),
    change(3, 'c:C1', 'messages', 'M1', `${T0}-00002-srv`, { text: 'a, edited' }),
    change(4, 'c:C1', 'messages', 'M1', `${T0}-00001-srv`, { text: 'older, loses' }),
  ];
  const applied = await r.applyResponse({ server_time: T0, changes, cursors: { 'c:C1': 4 } }, T0);
  assert.deepEqual([...new Set(applied.keys)].sort(), ['messages/M1', 'messages/M2']);
  const records = (await r.snapshot()).records;
  assert.deepEqual(records.map((x) => [x.id, x.fields.text]), [['M1', 'a, edited'], ['M2', 'b']]);
});
