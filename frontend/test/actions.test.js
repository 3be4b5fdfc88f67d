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

/** A send worker stand-in (sync/sender.js's interface): answers as the script says. */
function fakeSender({ fail = null } = {}) {
  const sent = [];
  const wrote = (changes) => (fail ? Promise.reject(fail) : Promise.resolve({ mutations: changes.map((c, i) => ({ mid: 100 + i, hlc: '1-00000-d1', ...c })) }));
  return {
    sent,
    ready: true,
    send(changes, wallMs, metaEntries, supersede, limit, request) {
      const done = wrote(changes);
      const first = done.then(({ mutations }) => ({ pending: mutations, cursors: {}, reply: Promise.resolve({}) }));
      first.catch(() => {});
      sent.push({ changes, limit, request });
      return { wrote: done, first };
    },
    write(changes) {
      sent.push({ changes, limit: 0 });
      return wrote(changes);
    },
  };
}

function withSender(sender, { sendNow = true, replicaFails = null, onStorageError = () => {} } = {}) {
  const store = new Store();
  store.load({ records: [], outbox: [], failed: [], meta: { user: 'U1', device: 'd1' } });
  const queries = new Queries(store);
  const onPage = [];
  const replica = {
    async write(changes) {
      onPage.push('write');
      if (replicaFails) throw replicaFails;
      return changes.map((c, i) => ({ mid: i + 1, hlc: '1-00000-d1', ...c }));
    },
    async writeToSend(changes) {
      onPage.push('writeToSend');
      if (replicaFails) throw replicaFails;
      const mutations = changes.map((c, i) => ({ mid: i + 1, hlc: '1-00000-d1', ...c }));
      return { mutations, outgoing: { pending: mutations, cursors: {} } };
    },
  };
  const after = [];
  const started = [];
  const actions = new Actions({
    replica, queries, writing: store.writing, sendNow: () => sendNow, sender: () => sender, started: (first) => started.push(first), onStorageError,
    afterWrite: async (mutations, what) => { after.push(what); store.setOutbox(mutations); },
  });
  return { actions, onPage, after, started };
}

test('with a send worker, a send that leaves at once is written and sent there, and the engine told at once', async () => {
  const sender = fakeSender();
  const { actions, onPage, after, started } = withSender(sender);
  const sending = actions.sendMessage('C1', 'hello');
  assert.equal(started.length, 1, 'the engine hears of the request before the write is done');
  await sending;
  assert.deepEqual(onPage, []);
  assert.equal(sender.sent[0].limit > 0, true);
  assert.equal(after[0].sent, true, 'so afterWrite starts no sync of its own');
  assert.equal((await started[0]).pending[0].mid, 100);
});

test('with a send worker, a write that need not leave now is only written there', async () => {
  const sender = fakeSender();
  const { actions, onPage, after, started } = withSender(sender, { sendNow: false });
  await actions.sendMessage('C1', 'offline');
  assert.deepEqual(onPage, []);
  assert.deepEqual(sender.sent.map((s) => s.limit), [0]);
  assert.equal(started.length, 0);
  assert.equal(after[0].sent, false);
});

test('a send worker that cannot write leaves the write to the page; a full disk there is told', async () => {
  const broken = fakeSender({ fail: new Error('worker gone') });
  const first = withSender(broken);
  await first.actions.sendMessage('C1', 'hello');
  assert.deepEqual(first.onPage, ['writeToSend'], 'written once, on the page');
  assert.equal(first.after[0].sent, false, 'and the engine is triggered as without a worker');

  const full = Object.assign(new Error('The disk is full'), { name: 'StorageError', kind: 'quota' });
  const errors = [];
  const second = withSender(fakeSender({ fail: full }), { sendNow: false, replicaFails: full, onStorageError: (e) => errors.push(e.kind) });
  await assert.rejects(second.actions.sendMessage('C1', 'kept'), /disk is full/);
  assert.deepEqual(second.onPage, ['write'], 'tried on the page too, which fails the same way');
  assert.deepEqual(errors, ['quota'], 'and the banner is told');
});
