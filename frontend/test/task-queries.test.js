// Tasks as the views read them: the board's columns and order, My tasks, the dot, offline
// search with the task filters, and comments kept out of the channel (listed like replies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../src/dispatch/store.js';
import { Queries } from '../src/dispatch/queries.js';
import { TaskQueries } from '../src/dispatch/task-queries.js';

const T0 = 1_764_172_800_000;
const rec = (collection, id, fields, scope = 'c:C1') => ({
  collection, id, scope, fields, clocks: Object.fromEntries(Object.keys(fields).map((k) => [k, `${T0}-00000-srv`])),
});

function setup(records, outbox = []) {
  const store = new Store();
  store.load({
    records: [
      rec('users', 'U1', { name: 'Ada' }, 'ws'),
      rec('users', 'U2', { name: 'Bob Babbage' }, 'ws'),
      rec('channels', 'C1', { name: 'site', kind: 'public' }, 'ws'),
      rec('members', 'C1:U1', { channel: 'C1', user: 'U1' }),
      ...records,
    ],
    outbox,
    failed: [],
    meta: { user: 'U1', device: 'd1' },
  });
  const q = new Queries(store);
  return { store, q, tq: new TaskQueries(q, store) };
}

const tasks = [
  rec('tasks', 'T1', { channel: 'C1', title: 'Pump', status: 'todo', position: 'a1', changed: 5, changed_by: 'U2', due: '2000-01-01' }),
  rec('tasks', 'T2', { channel: 'C1', title: 'Valve', status: 'todo', position: 'a0', description: 'near the pump' }),
  rec('tasks', 'T3', { channel: 'C1', title: 'Seal', status: 'qa', position: 'a0' }),
  rec('tasks', 'T4', { channel: 'C1', title: 'Gone', status: 'todo', position: 'Zz', deleted: true }),
  rec('task_assignees', 'T1:U1', { task: 'T1', user: 'U1', channel: 'C1', on: true }),
  rec('task_assignees', 'T2:U2', { task: 'T2', user: 'U2', channel: 'C1', on: true }),
];

test('the board: columns by status (strays after the defaults), cards by position, deleted ones gone', () => {
  const { tq } = setup(tasks);
  const board = tq.board('C1').value;
  assert.deepEqual(board.statuses, ['todo', 'doing', 'blocked', 'done', 'qa']);
  assert.deepEqual(board.columns.get('todo'), ['T2', 'T1']);
  assert.deepEqual(board.columns.get('qa'), ['T3']);
});

test('my tasks: assigned to me, open, grouped by due date; the overdue count', () => {
  const { tq } = setup(tasks);
  assert.deepEqual(tq.myTasks.value.overdue.map(([id]) => id), ['T1']);
  assert.equal(tq.overdueCount.value, 1);
});

test('the dot: changed by someone else since my cursor', () => {
  const { tq } = setup(tasks);
  assert.equal(tq.changed('T1'), true);
  const seen = setup([...tasks, rec('task_seen', 'U1:T1', { task: 'T1', channel: 'C1', user: 'U1', at: 5 }, 'u:U1')]);
  assert.equal(seen.tq.changed('T1'), false);
});

test('offline search: task filters and words over title and description', () => {
  const { tq } = setup(tasks);
  assert.equal(tq.search('pump'), null, 'no task filter: a message search');
  const ids = (q) => tq.search(q).results.map((r) => r.id).sort();
  assert.deepEqual(ids('is:task pump'), ['T1', 'T2']);
  assert.deepEqual(ids('assignee:@bob'), ['T2']);
  assert.deepEqual(ids('assignee:me due:overdue'), ['T1']);
  assert.deepEqual(ids('status:qa'), ['T3']);
});

test('a comment is listed under its task, never in the channel', () => {
  const { q } = setup([
    ...tasks,
    rec('messages', 'M1', { channel: 'C1', text: 'chat', n: 1, author: 'U1', at: T0 }),
    rec('messages', 'K1', { channel: 'C1', text: 'on it', task: 'T1', tn: 1, author: 'U2', at: T0 + 1 }),
  ]);
  assert.deepEqual(q.messages('C1').map((m) => m.id), ['M1']);
  assert.deepEqual(q.replies('C1', 'task:T1').map((m) => m.id), ['K1']);
});

test('the board after changes: moved, restatused, deleted and new cards land where a full regroup puts them', () => {
  const { store, q, tq } = setup(tasks);
  assert.deepEqual(tq.board('C1').value.columns.get('todo'), ['T2', 'T1']);
  const record = (id, fields) => [`tasks/${id}`, rec('tasks', id, { channel: 'C1', ...fields })];
  const steps = [
    [record('T1', { title: 'Pump', status: 'todo', position: 'Zz' })],
    [record('T3', { title: 'Seal', status: 'todo', position: 'a0V' })],
    [record('T2', { title: 'Valve', status: 'todo', position: 'a0', deleted: true }), record('T5', { title: 'New', status: 'done', position: 'a0' })],
    [record('T6', { title: 'Tie', status: 'todo', position: 'a0V' })],
  ];
  for (const entries of steps) {
    store.patch(entries);
    const incremental = tq.board('C1').value;
    const full = new TaskQueries(q, store).board('C1').value;
    assert.deepEqual([...incremental.columns].filter(([, ids]) => ids.length), [...full.columns].filter(([, ids]) => ids.length));
  }
  assert.deepEqual(tq.board('C1').value.columns.get('todo'), ['T1', 'T3', 'T6']);
  assert.deepEqual(tq.board('C1').value.columns.get('done'), ['T5']);
});

test('a tick or an assignment redraws what reads it (the part views are new values)', () => {
  const { store, tq } = setup(tasks);
  const item = (done) => [['task_items/I1', rec('task_items', 'I1', { task: 'T1', channel: 'C1', text: 'Valve', done })]];
  store.patch(item(false));
  const before = tq.items.value;
  assert.deepEqual(tq.checklistOf('T1').progress, [0, 1]);
  store.patch(item(true));
  assert.notEqual(tq.items.value, before);
  assert.deepEqual(tq.checklistOf('T1').progress, [1, 1]);
  store.patch([['task_assignees/T3:U1', rec('task_assignees', 'T3:U1', { task: 'T3', user: 'U1', channel: 'C1', on: true })]]);
  assert.deepEqual(tq.assigneesOf('T3'), ['U1']);
  assert.equal(tq.myTasks.value.none.some(([id]) => id === 'T3'), true);
});

test('a custom status: a line added to the channel task list, a list made when there is none', async () => {
  const { store, q, tq } = setup(tasks);
  const { TaskActions } = await import('../src/dispatch/task-actions.js');
  const written = [];
  const ta = new TaskActions({ actions: { writeChanges: async (c) => written.push(...c) }, queries: q, tasks: tq });
  await ta.addStatus('C1', ' review ');
  assert.equal(written.length, 1);
  assert.equal(written[0].collection, 'task_lists');
  assert.deepEqual(written[0].fields, { channel: 'C1', name: 'Tasks', statuses: 'review' });
  store.patch([['task_lists/L1', rec('task_lists', 'L1', { channel: 'C1', name: 'Tasks', statuses: 'review' })]]);
  assert.deepEqual(tq.board('C1').value.statuses, ['todo', 'doing', 'blocked', 'done', 'review', 'qa']);
  assert.equal(ta.addStatus('C1', 'review'), null); // already a column
  assert.equal(ta.addStatus('C1', 'todo'), null);
  await ta.addStatus('C1', 'waiting for parts');
  assert.deepEqual(written[1], { collection: 'task_lists', id: 'L1', fields: { statuses: 'review\nwaiting for parts' } });
});

test('new for me: an assignment by someone else counts until I open the task, on every device', () => {
  const { store, tq } = setup(tasks);
  // T1 is mine, changed last by U2 (who assigned me), never opened: new.
  assert.equal(tq.newForMe.value, 1);
  store.patch([['task_seen/U1:T1', rec('task_seen', 'U1:T1', { task: 'T1', channel: 'C1', user: 'U1', at: 5 }, 'u:U1')]]);
  assert.equal(tq.newForMe.value, 0);
  // Bob assigns me T2 (the server marks it changed by him): new again; my own change is not.
  store.patch([
    ['task_assignees/T2:U1', rec('task_assignees', 'T2:U1', { task: 'T2', user: 'U1', channel: 'C1', on: true })],
    ['tasks/T2', rec('tasks', 'T2', { channel: 'C1', title: 'Valve', status: 'todo', position: 'a0', changed: 9, changed_by: 'U2' })],
  ]);
  assert.equal(tq.newForMe.value, 1);
  store.patch([['tasks/T2', { ...rec('tasks', 'T2', { channel: 'C1', title: 'Valve', status: 'todo', position: 'a0', changed: 10, changed_by: 'U1' }), clocks: { changed: `${T0 + 1}-00000-srv`, changed_by: `${T0 + 1}-00000-srv` } }]]);
  assert.equal(tq.newForMe.value, 0);
});
