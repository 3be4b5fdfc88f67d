// Actions: a write counts as pending from the moment it is asked for, not only once IndexedDB
// has committed it — so "nothing pending" can never show while a sent message is on its way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../src/dispatch/store.js';
import { Queries } from '../src/dispatch/queries.js';
import { Actions } from '../src/dispatch/actions.js';

function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((ok, fail) => { resolve = ok; reject = fail; });
  return { promise, resolve, reject };
}

function setup() {
  const store = new Store();
  store.load({ records: [], outbox: [], failed: [], meta: { user: 'U1', device: 'd1' } });
  const queries = new Queries(store);
  const commit = deferred();
  const replica = {
    async write(changes) {
      await commit.promise;
      return changes.map((c, i) => ({ mid: i + 1, hlc: `1-00000-d1`, ...c }));
    },
  };
  const afterWrite = async (mutations) => { store.setOutbox(mutations); };
  const actions = new Actions({ replica, queries, afterWrite, writing: store.writing });
  return { store, queries, actions, commit };
}

test('a message being written counts as pending until the outbox holds it', async () => {
  const { queries, actions, commit } = setup();
  const sending = actions.sendMessage('C1', 'hello');
  assert.equal(queries.pendingCount.value, 1, 'pending while the transaction runs');
  commit.resolve();
  await sending;
  assert.equal(queries.pendingCount.value, 1, 'now counted once, from the outbox');
});

test('a failed write stops counting as pending', async () => {
  const { queries, actions, commit } = setup();
  const sending = actions.sendMessage('C1', 'hello');
  commit.reject(Object.assign(new Error('full'), { name: 'StorageError' }));
  await assert.rejects(sending, /full/);
  assert.equal(queries.pendingCount.value, 0);
});

test('reading a thread records how far on my follows record, keeping whether I follow it', async () => {
  const { store, queries } = setup();
  const written = [];
  store.patch([['messages/M1', { collection: 'messages', id: 'M1', fields: { channel: 'C1', author: 'U1', n: 1 }, clocks: {} }]]);
  const replica = { write: async (changes) => { written.push(...changes); return []; } };
  const reader = new Actions({ replica, queries, afterWrite: async () => {}, writing: store.writing });
  assert.equal(await reader.markThreadRead('C1', 'M1', 3), true);
  assert.deepEqual(written, [{ collection: 'follows', id: 'U1:M1', fields: { message: 'M1', channel: 'C1', user: 'U1', on: true, read: 3 } }]);
  assert.equal(await reader.markThreadRead('C1', 'M1', 2), false, 'never moves back, never asks twice');
  assert.equal(written.length, 1);
});

test('read cursors are lazy writes, each replacing my previous unsent one; a message is not lazy', async () => {
  const store = new Store();
  store.load({
    records: [1, 2, 3, 4, 5].map((n) => ({ collection: 'messages', id: `M${n}`, scope: 'c:C1', fields: { channel: 'C1', text: 't', n, author: 'U2' }, clocks: {} })),
    outbox: [], failed: [], meta: { user: 'U1', device: 'd1' },
  });
  const queries = new Queries(store);
  let mid = 0;
  const calls = [];
  const replica = {
    async write(changes, wallMs, meta, supersede) {
      calls.push({ supersede });
      return changes.map((c) => ({ mid: ++mid, hlc: `${mid}-00000-d1`, ...c }));
    },
  };
  const told = [];
  const afterWrite = async (mutations, what) => {
    told.push(what);
    store.wrote(mutations, what.metaEntries, what.superseded);
  };
  const actions = new Actions({ replica, queries, afterWrite });
  await actions.markRead('C1', 3);
  await actions.markRead('C1', 5);
  await actions.sendMessage('C1', 'hello');
  assert.deepEqual(calls.map((c) => c.supersede), [[], [1], []]);
  assert.deepEqual(told.map((w) => w.lazy), [true, true, false]);
  assert.deepEqual(store.pending().map((m) => [m.mid, m.collection]), [[2, 'reads'], [3, 'messages']]);
  assert.equal(queries.unread('C1'), 0);
});

test('reading past my own messages only writes no cursor: nothing there is unread to me', async () => {
  const store = new Store();
  store.load({
    records: [1, 2].map((n) => ({ collection: 'messages', id: `M${n}`, scope: 'c:C1', fields: { channel: 'C1', text: 't', n, author: n === 1 ? 'U2' : 'U1' }, clocks: {} })),
    outbox: [], failed: [], meta: { user: 'U1', device: 'd1' },
  });
  const queries = new Queries(store);
  const written = [];
  const replica = { write: async (changes) => { written.push(...changes); return []; } };
  const actions = new Actions({ replica, queries, afterWrite: async () => {} });
  store.patch([['reads/U1:C1', { collection: 'reads', id: 'U1:C1', scope: 'u:U1', fields: { channel: 'C1', user: 'U1', n: 1 }, clocks: {} }]]);
  assert.equal(await actions.markRead('C1', 2), false);
  assert.deepEqual(written, []);
  store.patch([['messages/M3', { collection: 'messages', id: 'M3', scope: 'c:C1', fields: { channel: 'C1', text: 't', n: 3, author: 'U2' }, clocks: {} }]]);
  assert.equal(await actions.markRead('C1', 3), true);
  assert.deepEqual(written.map((c) => c.fields.n), [3]);
});
