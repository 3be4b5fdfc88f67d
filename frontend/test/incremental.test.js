// The store and the message grouping are maintained incrementally (issue 17). The reference here
// is the grouping rule written plainly (regroup everything from scratch); random sequences of
// confirmed changes, writes, acks and refusals must leave the incremental index equal to it, and
// a change to one message must touch one placement, however much is held.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../src/dispatch/store.js';
import { Queries } from '../src/dispatch/queries.js';
import { MessageIndex } from '../src/dispatch/message-index.js';

const T0 = 1_764_172_800_000;
const rec = (id, fields, hlc = `${T0}-00000-srv`) => ({
  collection: 'messages', id, scope: `c:${fields.channel}`, fields,
  clocks: Object.fromEntries(Object.keys(fields).map((k) => [k, hlc])),
});

/** The display rule from scratch: sent by n, then unsent (pending, failed) by mid; replies likewise. */
function reference(q, store, channel) {
  const shown = [...q.collection('messages').value.values()].filter((r) => r.fields.channel === channel);
  const top = shown.filter((r) => !r.fields.thread);
  const sent = top.filter((r) => typeof r.fields.n === 'number').sort((a, b) => a.fields.n - b.fields.n);
  const failedIds = new Set(store.failed.value.filter((f) => f.fields.channel === channel && !f.fields.thread
    && !(typeof store.confirmedRecord('messages', f.id)?.fields.n === 'number')).map((f) => `failed:${f.mid}`));
  const unsent = [
    ...top.filter((r) => typeof r.fields.n !== 'number' && !r.fields.deleted).map((r) => ({ key: r.id, mid: r.mid ?? 0 })),
    ...store.failed.value.filter((f) => failedIds.has(`failed:${f.mid}`)).map((f) => ({ key: `failed:${f.mid}`, mid: f.mid })),
  ].sort((a, b) => a.mid - b.mid);
  return [...sent.map((r) => r.id), ...unsent.map((u) => u.key)];
}

function referenceReplies(q, store, channel, parent) {
  const shown = [...q.collection('messages').value.values()].filter((r) => r.fields.channel === channel && r.fields.thread === parent);
  const sent = shown.filter((r) => typeof r.fields.tn === 'number').sort((a, b) => a.fields.tn - b.fields.tn);
  const unsent = [
    ...shown.filter((r) => typeof r.fields.tn !== 'number' && !r.fields.deleted).map((r) => ({ key: r.id, mid: r.mid ?? 0 })),
    ...store.failed.value
      .filter((f) => f.fields.thread === parent && !(typeof store.confirmedRecord('messages', f.id)?.fields.tn === 'number'))
      .map((f) => ({ key: `failed:${f.mid}`, mid: f.mid })),
  ].sort((a, b) => a.mid - b.mid);
  return [...sent.map((r) => r.id), ...unsent.map((u) => u.key)];
}

const shape = (items) => items.map((m) => (m.state === 'failed' ? `failed:${m.mid}` : m.id));

function gapsOf(ns) {
  const gaps = [];
  for (let i = 1; i < ns.length; i++) if (ns[i] > ns[i - 1] + 1) gaps.push({ after: ns[i - 1], before: ns[i] });
  return gaps;
}

test('random confirmed changes, writes, acks and refusals: the index equals a regroup from scratch', () => {
  let seed = 7;
  const rand = (k) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % k;
  };
  for (let run = 0; run < 20; run++) {
    const store = new Store();
    store.load({ records: [], outbox: [], failed: [], meta: { user: 'U1', device: 'd1' } });
    const q = new Queries(store);
    let mid = 1;
    let failed = [];
    for (let step = 0; step < 150; step++) {
      // Ids, channels and numbers as the server makes them: a message keeps its channel and n.
      const k = rand(40);
      const channel = `C${k % 2}`;
      const id = `M${k}`;
      // Ids 30..39 are replies in the thread of M0 (channel C0) or M1 (channel C1), numbered by tn.
      const reply = k >= 30 ? { thread: `M${k % 2}` } : {};
      const action = rand(5);
      if (action === 0) {
        store.patch([[`messages/${id}`, rec(id, { channel, text: `v${step}`, ...(k >= 30 ? { ...reply, tn: k - 29 } : { n: 1 + (k >> 1) }), author: `U${rand(3)}` }, `${T0 + step}-00000-srv`)]]);
      } else if (action === 1) {
        store.addPending([{ mid: mid++, collection: 'messages', id, fields: { channel, text: `p${step}`, ...reply }, hlc: `${T0 + step}-00000-d1` }]);
      } else if (action === 2) {
        const pending = store.pending();
        if (pending.length) store.removePending([pending[rand(pending.length)].mid]);
      } else if (action === 3) {
        failed = [...failed, { mid: mid++, collection: 'messages', id, fields: { channel, text: 'f', ...reply }, hlc: 'x', code: 'forbidden', reason: 'no' }];
        store.setFailed(failed);
      } else if (failed.length) {
        failed = failed.slice(1);
        store.setFailed(failed);
      }
      for (const c of ['C0', 'C1']) {
        assert.deepEqual(shape(q.messages(c)), reference(q, store, c), `run ${run} step ${step} ${c}`);
        const parent = `M${c.slice(1)}`;
        assert.deepEqual(shape(q.replies(c, parent)), referenceReplies(q, store, c, parent), `replies, run ${run} step ${step}`);
        const ns = q.messages(c).filter((m) => typeof m.n === 'number').map((m) => m.n);
        const numbers = q.numbers(c);
        assert.deepEqual(numbers.gaps, gapsOf(ns), `gaps, run ${run} step ${step}`);
        assert.equal(numbers.last, ns.at(-1) ?? 0);
        assert.equal(numbers.contiguous, numbers.gaps.length ? numbers.gaps[0].after : (ns.at(-1) ?? 0));
      }
    }
  }
});

test('one new message costs one placement, however many are held; other channels keep their arrays', () => {
  const records = [];
  for (let n = 1; n <= 20_000; n++) records.push(rec(`M${n}`, { channel: n % 2 ? 'C1' : 'C2', text: 't', n: Math.ceil(n / 2) }));
  const store = new Store();
  store.load({ records, outbox: [], failed: [], meta: { user: 'U1', device: 'd1' } });
  const q = new Queries(store);
  const before = q.messages('C2');
  assert.equal(q.messages('C1').length, 10_000);
  let placed = 0;
  const place = MessageIndex.prototype.place;
  MessageIndex.prototype.place = function counted(...args) {
    placed += 1;
    return place.apply(this, args);
  };
  try {
    store.patch([['messages/N1', rec('N1', { channel: 'C1', text: 'new', n: 10_001 })]]);
    store.addPending([{ mid: 1, collection: 'messages', id: 'P1', fields: { channel: 'C1', text: 'mine' }, hlc: `${T0 + 1}-00000-d1` }]);
    store.removePending([1]);
  } finally {
    MessageIndex.prototype.place = place;
  }
  assert.equal(placed, 3);
  assert.equal(q.messages('C1').at(-1).id, 'N1');
  assert.equal(q.messages('C2'), before, 'a channel that did not change keeps its array');
});

test('the pending overlay follows writes, acks and confirmed changes record by record', () => {
  const store = new Store();
  store.load({ records: [rec('M1', { channel: 'C1', text: 'old', n: 1 })], outbox: [], failed: [], meta: { user: 'U1' } });
  store.addPending([{ mid: 1, collection: 'messages', id: 'M1', fields: { text: 'edit 1' }, hlc: `${T0 + 1}-00000-d1` }]);
  store.addPending([{ mid: 2, collection: 'messages', id: 'M1', fields: { text: 'edit 2' }, hlc: `${T0 + 2}-00000-d1` }]);
  assert.equal(store.shown('messages', 'M1').fields.text, 'edit 2');
  assert.equal(store.outboxSize.value, 2);
  // The server confirms edit 1: the second edit still shows on top of it.
  store.patch([['messages/M1', rec('M1', { channel: 'C1', text: 'edit 1', n: 1 }, `${T0 + 1}-00000-d1`)]]);
  store.removePending([1]);
  assert.equal(store.shown('messages', 'M1').fields.text, 'edit 2');
  assert.equal(store.shown('messages', 'M1').pending, true);
  store.removePending([2]);
  assert.equal(store.shown('messages', 'M1').fields.text, 'edit 1');
  assert.equal(store.shown('messages', 'M1').pending, undefined);
  assert.equal(store.outboxSize.value, 0);
});

test('a re-read of the outbox that began before a local write does not hide that write', async () => {
  const store = new Store();
  store.load({ records: [rec('M1', { channel: 'C1', text: 'ship on friday', n: 1 })], outbox: [], failed: [], meta: {} });
  let release = () => {};
  const outboxRead = new Promise((resolve) => (release = resolve));
  // Another part of the app re-reads (a history page applied): its outbox read is slow.
  const replica = {
    getRecords: async () => [],
    snapshotPending: async () => ({ outbox: await outboxRead, failed: [], meta: {} }),
  };
  const refreshing = store.refresh(replica, { keys: [] });
  // Meanwhile the person edits offline: the write lands in the store.
  const edit = { mid: 1, collection: 'messages', id: 'M1', fields: { text: 'ship on monday' }, hlc: `${T0 + 5}-00000-dev1` };
  store.wrote([edit]);
  release([]); // the read began before the edit was written: the edit is not in it
  await refreshing;
  assert.equal(store.shown('messages', 'M1').fields.text, 'ship on monday');
  assert.equal(store.outboxSize.value, 1);
  // A read that began after the write and lacks it means the write left (another tab synced it).
  await store.refresh({ getRecords: async () => [], snapshotPending: async () => ({ outbox: [], failed: [], meta: {} }) }, { keys: [] });
  assert.equal(store.outboxSize.value, 0);
});

test("a sync's reply is told to the listeners once: acked messages move from pending to sent in one change", async () => {
  const store = new Store();
  store.load({ records: [], outbox: [], failed: [], meta: { user: 'U1', device: 'd1' } });
  const q = new Queries(store);
  const pending = [1, 2, 3].map((mid) => ({ mid, collection: 'messages', id: `P${mid}`, fields: { channel: 'C1', text: `p${mid}` }, hlc: `${T0 + mid}-00000-d1` }));
  store.addPending(pending);
  assert.deepEqual(q.messages('C1').map((m) => m.state), ['pending', 'pending', 'pending']);
  const told = [];
  store.subscribe({ changed: (collection, ids) => told.push([collection, [...ids]]), reset() {}, failed() {} });
  const records = pending.map((m) => [`messages/${m.id}`, rec(m.id, { ...m.fields, author: 'U1', n: m.mid }, m.hlc)]);
  const replica = { getRecords: async () => [], snapshotPending: async () => ({ failed: [], meta: { user: 'U1', device: 'd1' } }) };
  await store.refresh(replica, { keys: records.map(([key]) => key), records, acked: [1, 2, 3], rejected: [] });
  assert.deepEqual(told, [['messages', ['P1', 'P2', 'P3']]]);
  assert.deepEqual(q.messages('C1').map((m) => [m.id, m.state, m.n]), [['P1', 'sent', 1], ['P2', 'sent', 2], ['P3', 'sent', 3]]);
  assert.equal(store.outboxSize.value, 0);
  assert.deepEqual(shape(q.messages('C1')), reference(q, store, 'C1'));
});
