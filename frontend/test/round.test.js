// One sync against a scripted server: paging, pushes written meanwhile, and every error path.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from '../src/replica/replica.js';
import { syncUntilDone, changeIndex } from '../src/sync/round.js';
import { ApiError } from '../src/sync/transport.js';

const T0 = 1_764_172_800_000;
let n = 0;

async function fresh() {
  const r = await Replica.open(`round-${++n}`);
  await r.setSession({ user: { id: 'U1' }, device: 'dev1' });
  return r;
}

/** A transport that answers from a script: each entry is a reply object or an ApiError. */
function scripted(...replies) {
  const requests = [];
  return {
    requests,
    async sync(body) {
      requests.push(structuredClone(body));
      const next = replies.shift();
      if (typeof next === 'function') return next(body);
      if (next instanceof Error) throw next;
      return { v: 1, server_time: T0, acks: [], rejections: [], changes: [], cursors: {}, scopes: [], more: false, ...next };
    },
  };
}

const msg = (seq, id, n) => ({
  seq, scope: 'c:C1', collection: 'messages', id, hlc: `${T0}-0000${seq % 10}-x`, author: 'U2',
  fields: { channel: 'C1', text: id, n },
});

test('pulls page after page while the server says more', async () => {
  const r = await fresh();
  const t = scripted(
    { changes: [msg(1, 'M1', 1)], cursors: { 'c:C1': 1 }, more: true },
    { changes: [msg(2, 'M2', 2)], cursors: { 'c:C1': 2 }, more: false },
  );
  const result = await syncUntilDone(r, t, { now: () => T0 });
  assert.equal(t.requests.length, 2);
  assert.deepEqual(t.requests[1].cursors, { 'c:C1': 1 });
  assert.deepEqual([...result.keys], ['messages/M1', 'messages/M2']);
});

test('pushes the outbox oldest first with wire fields only, and drops what was acked', async () => {
  const r = await fresh();
  await r.write([{ collection: 'messages', id: 'A', fields: { channel: 'C1', text: 'a' } }], T0);
  await r.write([{ collection: 'messages', id: 'B', fields: { channel: 'C1', text: 'b' } }], T0);
  const t = scripted((body) => ({ v: 1, server_time: T0, acks: body.changes.map((c) => c.mid), cursors: {}, more: false }));
  await syncUntilDone(r, t, { now: () => T0 });
  assert.deepEqual(t.requests[0].changes.map((c) => c.id), ['A', 'B']);
  assert.deepEqual(Object.keys(t.requests[0].changes[0]).sort(), ['collection', 'fields', 'hlc', 'id', 'mid']);
  assert.equal(t.requests[0].v, undefined, 'the transport adds v');
  assert.equal(await r.pendingCount(), 0);
});

test('409 clock_ahead: adopt server time, restamp, retry', async () => {
  const r = await fresh();
  const ahead = T0 + 600_000;
  await r.write([{ collection: 'messages', id: 'A', fields: { channel: 'C1', text: 'a' } }], ahead);
  const t = scripted(
    new ApiError(409, { error: 'clock_ahead', detail: 'ahead', server_time: T0 }),
    (body) => ({ v: 1, server_time: T0, acks: body.changes.map((c) => c.mid) }),
  );
  await syncUntilDone(r, t, { now: () => ahead });
  assert.ok(t.requests[0].changes[0].hlc.startsWith(String(ahead)));
  assert.ok(t.requests[1].changes[0].hlc.startsWith(String(T0)));
  assert.equal(await r.pendingCount(), 0);
});

test('400 invalid_change names the change: it moves to failed and the rest goes through', async () => {
  const r = await fresh();
  await r.write([{ collection: 'messages', id: 'A', fields: { channel: 'C1', text: 'a' } }], T0);
  await r.write([{ collection: 'messages', id: 'B', fields: { channel: 'C1', text: 'x' } }], T0);
  const t = scripted(
    new ApiError(400, { error: 'invalid_change', detail: 'text is too long', field: 'changes[1].fields.text' }),
    (body) => ({ v: 1, server_time: T0, acks: body.changes.map((c) => c.mid) }),
  );
  const result = await syncUntilDone(r, t, { now: () => T0 });
  assert.equal(result.outbox, true);
  const snap = await r.snapshot();
  assert.deepEqual(snap.failed.map((f) => [f.id, f.code, f.reason]), [['B', 'invalid_change', 'text is too long']]);
  assert.deepEqual(t.requests[1].changes.map((c) => c.id), ['A']);
});

test('413 too_large: push fewer at a time', async () => {
  const r = await fresh();
  for (const id of ['A', 'B', 'C', 'D']) {
    await r.write([{ collection: 'messages', id, fields: { channel: 'C1', text: id } }], T0);
  }
  const ack = (body) => ({ v: 1, server_time: T0, acks: body.changes.map((c) => c.mid) });
  const t = scripted(new ApiError(413, { error: 'too_large', detail: 'big' }), ack, ack);
  await syncUntilDone(r, t, { now: () => T0 });
  assert.deepEqual(t.requests.map((q) => q.changes.length), [4, 2, 2]);
  assert.equal(await r.pendingCount(), 0);
});

test('network failures, 401 and 426 go to the caller with nothing lost', async () => {
  for (const error of [
    new ApiError(0, { error: 'network' }),
    new ApiError(401, { error: 'signed_out', detail: 'x' }),
    new ApiError(426, { error: 'update_required', detail: 'x' }),
  ]) {
    const r = await fresh();
    await r.write([{ collection: 'messages', id: 'A', fields: { channel: 'C1', text: 'a' } }], T0);
    await assert.rejects(syncUntilDone(r, scripted(error), { now: () => T0 }), (e) => e.status === error.status);
    assert.equal(await r.pendingCount(), 1);
  }
});

test('changeIndex reads the index out of an error field path', () => {
  assert.equal(changeIndex('changes[3].fields.text'), 3);
  assert.equal(changeIndex('$.changes[12].fields'), 12);
  assert.equal(changeIndex('cursors'), null);
  assert.equal(changeIndex(undefined), null);
});

test('a backlog: the next batch leaves before the last reply is applied, past its mids, with its cursors', async () => {
  const r = await fresh();
  const changes = Array.from({ length: 5 }, (_, i) => ({ collection: 'messages', id: `P${i}`, fields: { channel: 'C1', text: `p${i}` } }));
  for (const change of changes) await r.write([change], T0);
  const applying = [];
  const apply = r.applyResponse.bind(r);
  r.applyResponse = async (...args) => {
    applying.push(t.requests.length);
    return apply(...args);
  };
  let seq = 0;
  const t = scripted(...Array.from({ length: 3 }, () => (body) => ({
    v: 1, server_time: T0, acks: body.changes.map((c) => c.mid), rejections: [],
    changes: [msg(++seq, `S${seq}`, seq)], cursors: { 'c:C1': seq }, scopes: ['c:C1'], more: false,
  })));
  const result = await syncUntilDone(r, t, { now: () => T0, size: 2 });
  assert.deepEqual(t.requests.map((q) => q.changes.map((c) => c.id)), [['P0', 'P1'], ['P2', 'P3'], ['P4']]);
  // The second request was on its way before the first reply was applied, and carried the
  // cursor that reply leaves; each reply was applied once, in order.
  assert.deepEqual(applying, [2, 3, 3]);
  assert.deepEqual(t.requests.map((q) => q.cursors), [{}, { 'c:C1': 1 }, { 'c:C1': 2 }]);
  assert.equal(await r.pendingCount(), 0);
  assert.deepEqual(result.acked, [1, 2, 3, 4, 5]);
  assert.deepEqual([...result.keys].sort(), ['messages/S1', 'messages/S2', 'messages/S3']);
});

test('a backlog: each request leaves when the reply before it arrives, not once that reply is applied', async () => {
  const r = await fresh();
  for (let i = 0; i < 6; i++) await r.write([{ collection: 'messages', id: `P${i}`, fields: { channel: 'C1', text: `p${i}` } }], T0);
  // The first reply's apply is held until three requests have left.
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  const apply = r.applyResponse.bind(r);
  let applies = 0;
  r.applyResponse = async (...args) => {
    if (++applies === 1) await gate;
    return apply(...args);
  };
  let seq = 0;
  const t = scripted(...Array.from({ length: 3 }, () => (body) => {
    if (t.requests.length === 3) {
      releasedBy ??= 'the third request';
      release();
    }
    return { v: 1, server_time: T0, acks: body.changes.map((c) => c.mid), rejections: [], changes: [msg(++seq, `S${seq}`, seq)], cursors: { 'c:C1': seq }, scopes: ['c:C1'], more: false };
  }));
  let releasedBy = null;
  // Without chaining the third request waits for the first apply: fail after a while, never hang.
  const timer = setTimeout(() => {
    releasedBy ??= 'the timer';
    release();
  }, 2000);
  const result = await syncUntilDone(r, t, { now: () => T0, size: 2 });
  clearTimeout(timer);
  assert.equal(releasedBy, 'the third request', 'the third left while the first reply was still being applied');
  assert.deepEqual(t.requests.map((q) => q.changes.map((c) => c.id)), [['P0', 'P1'], ['P2', 'P3'], ['P4', 'P5']]);
  assert.deepEqual(t.requests.map((q) => q.cursors), [{}, { 'c:C1': 1 }, { 'c:C1': 2 }], 'each with the cursors the reply before leaves');
  assert.equal(applies, 3, 'each reply applied once');
  assert.equal(await r.pendingCount(), 0);
  assert.deepEqual(result.acked, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual((await r.meta()).cursors, { 'c:C1': 3 });
});

test('a backlog is read from the outbox once for many requests: no read waits between a reply and the next request', async () => {
  const r = await fresh();
  for (let i = 0; i < 8; i++) await r.write([{ collection: 'messages', id: `P${i}`, fields: { channel: 'C1', text: `p${i}` } }], T0);
  const reads = [];
  const outgoing = r.outgoing.bind(r);
  r.outgoing = async (...args) => {
    reads.push(t.requests.length);
    return outgoing(...args);
  };
  let seq = 0;
  const t = scripted(...Array.from({ length: 4 }, () => (body) => ({
    v: 1, server_time: T0, acks: body.changes.map((c) => c.mid), rejections: [],
    changes: [msg(++seq, `S${seq}`, seq)], cursors: { 'c:C1': seq }, scopes: ['c:C1'], more: false,
  })));
  const result = await syncUntilDone(r, t, { now: () => T0, size: 2 });
  assert.deepEqual(t.requests.map((q) => q.changes.map((c) => c.id)), [['P0', 'P1'], ['P2', 'P3'], ['P4', 'P5'], ['P6', 'P7']]);
  assert.deepEqual(t.requests.map((q) => q.cursors), [{}, { 'c:C1': 1 }, { 'c:C1': 2 }, { 'c:C1': 3 }]);
  // The first request's batch; then, while it is at the server, the batches after it; the last
  // read is past the last batch (is there more?). Not one read per request.
  assert.deepEqual(reads, [0, 1, 4]);
  assert.equal(await r.pendingCount(), 0);
  assert.deepEqual(result.acked, [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('a backlog read ahead still sends what was written meanwhile, after it', async () => {
  const r = await fresh();
  for (let i = 0; i < 4; i++) await r.write([{ collection: 'messages', id: `P${i}`, fields: { channel: 'C1', text: `p${i}` } }], T0);
  let seq = 0;
  const t = scripted(...Array.from({ length: 4 }, () => async (body) => {
    if (seq === 0) await r.write([{ collection: 'messages', id: 'LATE', fields: { channel: 'C1', text: 'late' } }], T0);
    return {
      v: 1, server_time: T0, acks: body.changes.map((c) => c.mid), rejections: [],
      changes: [msg(++seq, `S${seq}`, seq)], cursors: { 'c:C1': seq }, scopes: ['c:C1'], more: false,
    };
  }));
  await syncUntilDone(r, t, { now: () => T0, size: 2 });
  assert.deepEqual(t.requests.map((q) => q.changes.map((c) => c.id)), [['P0', 'P1'], ['P2', 'P3'], ['LATE']]);
  assert.equal(await r.pendingCount(), 0);
});

test("with onRound, a backlog's replies are handed over one by one as they are applied", async () => {
  const r = await fresh();
  for (let i = 0; i < 5; i++) await r.write([{ collection: 'messages', id: `P${i}`, fields: { channel: 'C1', text: `p${i}` } }], T0);
  let seq = 0;
  const t = scripted(...Array.from({ length: 3 }, () => (body) => ({
    v: 1, server_time: T0, acks: body.changes.map((c) => c.mid), rejections: [],
    changes: [msg(++seq, `S${seq}`, seq)], cursors: { 'c:C1': seq }, scopes: ['c:C1'], more: false,
  })));
  const parts = [];
  const result = await syncUntilDone(r, t, { now: () => T0, size: 2, onRound: (part) => parts.push(part) });
  // The first two replies had a request after them in flight: handed over; the last is the result.
  assert.deepEqual(parts.map((p) => p.acked), [[1, 2], [3, 4]]);
  assert.deepEqual(parts.map((p) => [...p.keys]), [['messages/S1'], ['messages/S2']]);
  assert.deepEqual(result.acked, [5]);
  assert.deepEqual([...result.keys], ['messages/S3']);
});

test('a request that already left (the send worker) is taken as the first round, not sent again', async () => {
  const r = await fresh();
  const written = await r.writeToSend([{ collection: 'messages', id: 'M1', fields: { channel: 'C1', text: 'hi' } }], T0);
  const t = scripted(); // any request made here would take an undefined reply and fail
  let answer;
  const reply = new Promise((resolve) => (answer = resolve));
  const first = Promise.resolve({ ...written.outgoing, reply });
  const running = syncUntilDone(r, t, { now: () => T0, first });
  answer({ v: 1, server_time: T0, acks: [written.mutations[0].mid], cursors: { 'c:C1': 1 }, scopes: [], more: false });
  const result = await running;
  assert.equal(t.requests.length, 0);
  assert.deepEqual(result.acked, [written.mutations[0].mid]);
  assert.equal(await r.pendingCount(), 0);
  assert.deepEqual((await r.meta()).cursors, { 'c:C1': 1 });
});

test('a first request whose write failed is ignored: the round reads the outbox and sends it itself', async () => {
  const r = await fresh();
  await r.write([{ collection: 'messages', id: 'M1', fields: { channel: 'C1', text: 'hi' } }], T0);
  const t = scripted((body) => ({ v: 1, server_time: T0, acks: body.changes.map((c) => c.mid), cursors: {}, scopes: [], more: false }));
  const first = Promise.reject(new Error('send worker failed'));
  const result = await syncUntilDone(r, t, { now: () => T0, first });
  assert.equal(t.requests.length, 1);
  assert.deepEqual(t.requests[0].changes.map((c) => c.id), ['M1']);
  assert.equal(result.acked.length, 1);
});

test("a first request's error is handled like any other: a refused change moves to failed", async () => {
  const r = await fresh();
  const written = await r.writeToSend([{ collection: 'messages', id: 'M1', fields: { channel: 'C1', text: 'hi' } }], T0);
  const t = scripted();
  const refused = new ApiError(400, { error: 'invalid_change', detail: 'no', field: 'changes[0].fields.text' });
  const reply = Promise.reject(refused);
  reply.catch(() => {});
  const result = await syncUntilDone(r, t, { now: () => T0, first: Promise.resolve({ ...written.outgoing, reply }) });
  assert.deepEqual(result.rejected, [written.mutations[0].mid]);
  assert.equal(await r.pendingCount(), 0);
  assert.equal((await r.snapshot()).failed[0].code, 'invalid_change');
});
