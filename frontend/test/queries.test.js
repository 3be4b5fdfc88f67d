// Dispatch: what the views are shown, derived from confirmed state + outbox + failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../src/dispatch/store.js';
import { Queries } from '../src/dispatch/queries.js';

const T0 = 1_764_172_800_000;
const rec = (collection, id, fields, scope = 'ws', hlc = `${T0}-00000-srv`) => ({
  collection, id, scope, fields, clocks: Object.fromEntries(Object.keys(fields).map((k) => [k, hlc])),
});

function setup({ records = [], outbox = [], failed = [] } = {}) {
  const store = new Store();
  store.load({ records, outbox, failed, meta: { user: 'U1', device: 'd1' } });
  return { store, q: new Queries(store) };
}

const base = [
  rec('users', 'U1', { name: 'Ada' }),
  rec('users', 'U2', { name: 'Bob' }),
  rec('channels', 'C1', { name: 'general', kind: 'public' }),
  rec('channels', 'C2', { name: 'random', kind: 'public' }),
  rec('members', 'C1:U1', { channel: 'C1', user: 'U1' }, 'c:C1'),
  rec('members', 'C1:U2', { channel: 'C1', user: 'U2' }, 'c:C1'),
];

test('messages: sent by n, then pending in write order, then failed by write order, with reasons', () => {
  const { q } = setup({
    records: [
      ...base,
      rec('messages', 'M2', { channel: 'C1', text: 'second', n: 2, author: 'U2', at: T0 + 2 }, 'c:C1'),
      rec('messages', 'M1', { channel: 'C1', text: 'first', n: 1, author: 'U1', at: T0 + 1 }, 'c:C1'),
    ],
    outbox: [
      { mid: 7, collection: 'messages', id: 'P2', fields: { channel: 'C1', text: 'pending b' }, hlc: `${T0}-00002-d1` },
      { mid: 5, collection: 'messages', id: 'P1', fields: { channel: 'C1', text: 'pending a' }, hlc: `${T0}-00001-d1` },
    ],
    failed: [
      { mid: 6, collection: 'messages', id: 'F1', fields: { channel: 'C1', text: 'refused' }, hlc: 'x', code: 'forbidden', reason: 'no' },
    ],
  });
  const items = q.messages('C1');
  assert.deepEqual(items.map((m) => [m.text, m.state]), [
    ['first', 'sent'],
    ['second', 'sent'],
    ['pending a', 'pending'],
    ['refused', 'failed'],
    ['pending b', 'pending'],
  ]);
  assert.equal(items[3].reason, 'no');
});

test('unread = last n - my read cursor, never below zero, and it follows pending reads', () => {
  const messages = [1, 2, 3, 4, 5].map((n) => rec('messages', `M${n}`, { channel: 'C1', text: 't', n }, 'c:C1'));
  const { store, q } = setup({ records: [...base, ...messages, rec('reads', 'U1:C1', { channel: 'C1', user: 'U1', n: 2 }, 'u:U1')] });
  assert.equal(q.unread('C1'), 3);
  assert.equal(q.unread('C2'), 0);
  store.setOutbox([{ mid: 1, collection: 'reads', id: 'U1:C1', fields: { n: 5 }, hlc: `${T0 + 1}-00000-d1` }]);
  assert.equal(q.unread('C1'), 0);
});

test('my own messages are never unread to me, wherever I wrote them; numbers not held yet are', () => {
  const by = (n, author) => rec('messages', `M${n}`, { channel: 'C1', text: 't', n, author }, 'c:C1');
  const read = rec('reads', 'U1:C1', { channel: 'C1', user: 'U1', n: 1 }, 'u:U1');
  const { q } = setup({ records: [...base, by(1, 'U2'), by(2, 'U1'), by(3, 'U2'), by(4, 'U1'), by(6, 'U1'), read] });
  // Past the cursor: 2..6. Mine held: 2, 4, 6. Number 5 is not held: it counts.
  assert.equal(q.unread('C1'), 2);
  const { q: all } = setup({ records: [...base, by(1, 'U2'), by(2, 'U1'), read] });
  assert.equal(all.unread('C1'), 0);
});

test('the contiguous number stops at the first gap (nothing is read past a hole)', () => {
  const messages = [1, 2, 4].map((n) => rec('messages', `M${n}`, { channel: 'C1', text: 't', n }, 'c:C1'));
  const { q } = setup({ records: [...base, ...messages] });
  assert.deepEqual(q.numbers('C1'), { last: 4, low: 1, contiguous: 2, gaps: [{ after: 2, before: 4 }] });
});

test('my channels are the ones I am a member of (and did not leave); DMs are named after the other person', () => {
  const { store, q } = setup({
    records: [
      ...base,
      rec('channels', 'dm_U1_U2', { name: '', kind: 'dm' }, 'c:dm_U1_U2'),
      rec('members', 'dm_U1_U2:U1', { channel: 'dm_U1_U2', user: 'U1' }, 'c:dm_U1_U2'),
      rec('members', 'dm_U1_U2:U2', { channel: 'dm_U1_U2', user: 'U2' }, 'c:dm_U1_U2'),
    ],
  });
  assert.deepEqual(q.myChannels.value.map((c) => c.name), ['general']);
  assert.deepEqual(q.myDirectMessages.value.map((c) => c.name), ['Bob']);
  assert.deepEqual(q.publicChannels.value.map((c) => [c.name, c.joined]), [['general', true], ['random', false]]);
  store.setOutbox([{ mid: 1, collection: 'members', id: 'C1:U1', fields: { left: true }, hlc: `${T0 + 1}-00000-d1` }]);
  assert.deepEqual(q.myChannels.value.map((c) => c.name), []);
});

test('a mention in a thread reply is unread until the thread is read past it', () => {
  const { store, q } = setup({
    records: [
      ...base,
      rec('messages', 'M1', { channel: 'C1', text: 'plan', n: 1, author: 'U1', at: T0 }, 'c:C1'),
      rec('messages', 'R1', { channel: 'C1', thread: 'M1', text: 'ok', tn: 1, author: 'U2', at: T0 + 1 }, 'c:C1'),
      rec('messages', 'R2', { channel: 'C1', thread: 'M1', text: '@Ada?', tn: 2, author: 'U2', at: T0 + 2, mentions: 'U1' }, 'c:C1'),
      rec('reads', 'U1:C1', { channel: 'C1', user: 'U1', n: 1 }, 'u:U1'),
    ],
  });
  assert.deepEqual(q.mentions.value.map((m) => [m.id, m.unread]), [['R2', true]]);
  assert.equal(q.unreadMentions.value, 1);
  // Read up to reply 1 only: still unread. Up to 2: read.
  const follow = (read) => [{ mid: read, collection: 'follows', id: 'U1:M1', fields: { message: 'M1', channel: 'C1', user: 'U1', on: true, read }, hlc: `${T0 + 3}-00000-d1` }];
  store.setOutbox(follow(1));
  assert.equal(q.unreadMentions.value, 1);
  store.setOutbox(follow(2));
  assert.equal(q.threadRead('M1'), 2);
  assert.deepEqual(q.mentions.value.map((m) => [m.id, m.unread]), [['R2', false]]);
});

test('offline search: in:@person is the conversations with them, from: names people like the server does', () => {
  const { q } = setup({
    records: [
      ...base,
      rec('users', 'U2', { name: 'Bob Babbage', email: 'bob@example.com' }),
      rec('channels', 'dm_U1_U2', { name: '', kind: 'dm' }, 'c:dm_U1_U2'),
      rec('members', 'dm_U1_U2:U1', { channel: 'dm_U1_U2', user: 'U1' }, 'c:dm_U1_U2'),
      rec('members', 'dm_U1_U2:U2', { channel: 'dm_U1_U2', user: 'U2' }, 'c:dm_U1_U2'),
      rec('messages', 'M1', { channel: 'dm_U1_U2', text: 'budget, between us', n: 1, author: 'U2', at: T0 + 2 }, 'c:dm_U1_U2'),
      rec('messages', 'M2', { channel: 'C1', text: 'budget for all', n: 1, author: 'U2', at: T0 + 1 }, 'c:C1'),
    ],
  });
  const ids = (query) => q.searchLocal(query).results.map((r) => r.id);
  assert.deepEqual(ids('budget in:@bob'), ['M1']);
  assert.deepEqual(ids('budget in:@BobBabbage'), ['M1']);
  assert.deepEqual(ids('budget in:#general'), ['M2']);
  assert.deepEqual(ids('budget in:bob'), []);
  assert.deepEqual(ids('budget from:bob'), ['M1', 'M2']);
  assert.deepEqual(ids('budget from:babbage'), []);
});
