// Opening a search result or a mention at its message: the link it follows, and the page of
// history fetched around a message older than the device holds (history.js, Rule 4).
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from '../src/replica/replica.js';
import { Store } from '../src/dispatch/store.js';
import { Queries } from '../src/dispatch/queries.js';
import { History } from '../src/dispatch/history.js';
import { messageHref } from '../src/views/router.js';

const T0 = 1_764_172_800_000;
const hlc = (ms) => `${String(ms).padStart(13, '0')}-00000-srv`;

const snap = (n) => {
  const fields = { channel: 'C1', text: `m${n}`, author: 'U2', n, at: T0 + n };
  const clocks = Object.fromEntries(Object.keys(fields).map((k) => [k, hlc(T0 + n)]));
  return { scope: 'c:C1', collection: 'messages', id: `M${String(n).padStart(4, '0')}`, fields, clocks };
};

test('a result links to its message: the channel at n, or the thread at the reply tn', () => {
  assert.equal(messageHref({ channel: 'C 1', thread: null, n: 42 }), '#/c/C%201/n/42');
  assert.equal(messageHref({ channel: 'C1', thread: 'M7', n: null, tn: 3 }), '#/c/C1/t/M7/n/3');
  assert.equal(messageHref({ channel: 'C1', thread: null }), '#/c/C1', 'no number: the channel');
});

test('a jump to a message older than held fetches the page around it; the hole left is a gap', async () => {
  const replica = await Replica.open('jump-1');
  await replica.setSession({ user: { id: 'U1', name: 'Ada' }, device: 'd1', workspace: { name: 'W' } });
  const store = new Store();
  await replica.applyRecords([501, 502].map(snap), T0);
  store.load(await replica.snapshot());
  const queries = new Queries(store);
  const asked = [];
  const transport = {
    history: async (request) => {
      asked.push(request);
      const records = [];
      for (let n = request.before - 1; n >= Math.max(1, request.before - request.limit); n--) records.push(snap(n));
      return { records, complete: records.some((r) => r.fields.n === 1) };
    },
  };
  const history = new History({ replica, transport, queries, onApplied: async (keys) => store.refresh(replica, { keys }) });

  await history.loadAround('C1', 200);
  assert.deepEqual(asked, [{ channel: 'C1', before: 250, limit: 100 }]);
  assert.ok(queries.messages('C1').some((m) => m.n === 200));
  assert.deepEqual(queries.numbers('C1').gaps, [{ after: 249, before: 501 }]);
  assert.equal(queries.numbers('C1').contiguous, 249, 'nothing past the hole counts as read');
  assert.ok(history.hasOlder('C1'));

  await history.loadAround('C1', 20);
  assert.ok(!history.hasOlder('C1'), 'a page that reaches message 1 completes the channel');
});
