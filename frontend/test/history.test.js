// Long histories: snapshot records merge field by field; older pages and exact gap fills.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from '../src/replica/replica.js';
import { Store } from '../src/dispatch/store.js';
import { Queries } from '../src/dispatch/queries.js';
import { History } from '../src/dispatch/history.js';

const T0 = 1_764_172_800_000;
const hlc = (ms, device = 'srv') => `${String(ms).padStart(13, '0')}-00000-${device}`;
let counter = 0;

async function setup() {
  const replica = await Replica.open(`history-${++counter}`);
  await replica.setSession({ user: { id: 'U1', name: 'Ada' }, device: 'd1', workspace: { name: 'W' } });
  const store = new Store();
  store.load(await replica.snapshot());
  const queries = new Queries(store);
  return { replica, store, queries };
}

const snap = (n, extra = {}) => {
  const fields = { channel: 'C1', text: `m${n}`, author: 'U2', n, at: T0 + n, ...extra };
  return {
    scope: 'c:C1',
    collection: 'messages',
    id: `M${String(n).padStart(4, '0')}`,
    fields,
    clocks: Object.fromEntries(Object.keys(fields).map((k) => [k, hlc(T0 + n)])),
  };
};

test('a snapshot record merges field by field, each with its own clock', async () => {
  const { replica } = await setup();
  await replica.applyResponse(
    {
      server_time: T0,
      changes: [{ seq: 1, scope: 'c:C1', collection: 'messages', id: 'M1', hlc: hlc(T0 + 50), author: 'U2', fields: { channel: 'C1', text: 'newer text', n: 1 } }],
      records: [{
        scope: 'c:C1', collection: 'messages', id: 'M1',
        fields: { channel: 'C1', text: 'older text', n: 1, pinned: true },
        clocks: { channel: hlc(T0), text: hlc(T0 + 10), n: hlc(T0), pinned: hlc(T0 + 99) },
      }],
      cursors: { 'c:C1': 5 },
    },
    T0,
  );
  const [[, record]] = await replica.getRecords(['messages/M1']);
  assert.equal(record.fields.text, 'newer text', 'the text with the later clock wins');
  assert.equal(record.fields.pinned, true, 'a field only the snapshot has is kept');
  assert.equal(record.clocks.pinned, hlc(T0 + 99));
  assert.equal((await replica.meta()).cursors['c:C1'], 5);
});

test('holding only the newest messages is not a gap; a hole between held numbers is', async () => {
  const { replica, store, queries } = await setup();
  await replica.applyRecords([51, 52, 57, 58].map((n) => snap(n)), T0);
  store.load(await replica.snapshot());
  const numbers = queries.numbers('C1');
  assert.equal(numbers.low, 51);
  assert.equal(numbers.contiguous, 52, 'nothing past the hole counts as read');
  assert.deepEqual(numbers.gaps, [{ after: 52, before: 57 }]);
});

test('gaps are fetched exactly (before/limit cover the hole), older pages from the lowest held', async () => {
  const { replica, store, queries } = await setup();
  await replica.applyRecords([51, 52, 57, 58].map((n) => snap(n)), T0);
  store.load(await replica.snapshot());
  const asked = [];
  const transport = {
    history: async (request) => {
      asked.push(request);
      const numbers = [];
      for (let n = request.before - 1; n >= Math.max(1, request.before - request.limit); n--) numbers.push(n);
      return { records: numbers.map((n) => snap(n)), complete: numbers.includes(1) };
    },
  };
  const history = new History({
    replica, transport, queries,
    onApplied: async (keys) => store.refresh(replica, { keys }),
  });
  await history.fillAllGaps();
  assert.deepEqual(asked, [{ channel: 'C1', before: 57, limit: 4 }]);
  assert.deepEqual(queries.numbers('C1').gaps, []);
  assert.equal(queries.numbers('C1').contiguous, 58);

  assert.ok(history.hasOlder('C1'));
  await history.loadOlder('C1', 30);
  assert.deepEqual(asked[1], { channel: 'C1', before: 51, limit: 30 });
  assert.equal(queries.numbers('C1').low, 21);
  await history.loadOlder('C1', 500);
  assert.equal(queries.numbers('C1').low, 1);
  assert.ok(!history.hasOlder('C1'));
  assert.equal(queries.messages('C1').length, 58);
});

test('a big gap is fetched in pages of at most 500, from the top of the hole down', async () => {
  const { replica, store, queries } = await setup();
  await replica.applyRecords([1, 1202].map((n) => snap(n)), T0);
  store.load(await replica.snapshot());
  const asked = [];
  const transport = {
    history: async (request) => {
      asked.push({ ...request });
      const records = [];
      for (let n = request.before - 1; n >= request.before - request.limit; n--) records.push(snap(n));
      return { records, complete: false };
    },
  };
  const history = new History({ replica, transport, queries, onApplied: async (keys) => store.refresh(replica, { keys }) });
  await history.fillGaps('C1');
  assert.deepEqual(asked.map((r) => [r.before, r.limit]), [[1202, 500], [702, 500], [202, 200]]);
  assert.deepEqual(queries.numbers('C1').gaps, []);
});

test('threads, reactions, deletes and mentions as the views see them', async () => {
  const { replica, store, queries } = await setup();
  await replica.applyRecords(
    [
      { scope: 'ws', collection: 'channels', id: 'C1', fields: { name: 'general', kind: 'public' }, clocks: { name: hlc(T0), kind: hlc(T0) } },
      { scope: 'c:C1', collection: 'members', id: 'C1:U1', fields: { channel: 'C1', user: 'U1' }, clocks: { channel: hlc(T0), user: hlc(T0) } },
      snap(1, { replies: 1, repliers: 'U2', mentions: 'U1' }),
      snap(2, { deleted: true, text: null }),
      { ...snap(0), id: 'R1', fields: { channel: 'C1', text: 'reply', thread: 'M0001', tn: 1, author: 'U2', at: T0 + 5 }, clocks: { channel: hlc(T0), text: hlc(T0), thread: hlc(T0), tn: hlc(T0), author: hlc(T0), at: hlc(T0) } },
      { scope: 'c:C1', collection: 'reactions', id: 'M0001:U2:1f44d', fields: { message: 'M0001', channel: 'C1', user: 'U2', emoji: '👍', on: true }, clocks: { message: hlc(T0), channel: hlc(T0), user: hlc(T0), emoji: hlc(T0), on: hlc(T0) } },
    ],
    T0,
  );
  store.load(await replica.snapshot());
  const items = queries.messages('C1');
  assert.deepEqual(items.map((m) => [m.n, m.deleted, m.text]), [[1, false, 'm1'], [2, true, '']]);
  assert.deepEqual(queries.replies('C1', 'M0001').map((r) => r.text), ['reply']);
  assert.deepEqual([...queries.reactions('M0001')], [['👍', ['U2']]]);
  assert.deepEqual(queries.mentions.value.map((m) => [m.id, m.unread]), [['M0001', true]]);
  const local = queries.searchLocal('m1 in:#general');
  assert.deepEqual(local.results.map((r) => r.id), ['M0001']);
});
