// Meetings as rows of a channel's message list: placed by when they started among the sent
// messages, before the unsent ones, numbered so the list stays sorted by n, and left out while
// they are older than the history the device holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelMeetings, withMeetings } from '../src/lib/meeting-timeline.js';

const sent = (n, at) => ({ id: `m${n}`, n, at, state: 'sent' });
const pending = (id) => ({ id, state: 'pending' });
const shape = (rows) => rows.map((r) => (r.kind === 'meeting' ? `${r.meeting}@${r.n}` : r.id));

test('no meeting: the same array comes back', () => {
  const items = [sent(1, 100), pending('p')];
  assert.equal(withMeetings(items, [], false), items);
});

test('a meeting goes after the last message accepted before it started, before unsent ones', () => {
  const items = [sent(1, 100), sent(2, 200), sent(3, 300), pending('p'), { id: 'f', state: 'failed' }];
  const rows = withMeetings(items, [{ id: 'A', started_at: 250 }, { id: 'B', started_at: 900 }], false);
  assert.deepEqual(shape(rows), ['m1', 'm2', 'A@2.5', 'm3', 'B@3.5', 'p', 'f']);
  assert.equal(rows[0], items[0], 'message rows are the same objects (the list re-renders none of them)');
  assert.deepEqual(rows[2], { id: 'meeting:A', kind: 'meeting', meeting: 'A', channel: undefined, state: 'meeting', n: 2.5, at: 250 });
});

test('a meeting at the same ms as a message goes after it; one before every message goes first', () => {
  const rows = withMeetings([sent(1, 100), sent(2, 200)], [{ id: 'A', started_at: 50 }, { id: 'B', started_at: 200 }], false);
  assert.deepEqual(shape(rows), ['A@0.5', 'm1', 'm2', 'B@2.5']);
});

test('n stays sorted, so a binary search for a message number still finds it', () => {
  const items = [sent(1, 100), sent(2, 200), sent(3, 300)];
  const rows = withMeetings(items, [{ id: 'A', started_at: 150 }, { id: 'B', started_at: 160 }], false);
  const ns = rows.map((r) => r.n);
  assert.deepEqual(ns, [1, 1.5, 1.5, 2, 3]);
  assert.ok(ns.every((n, i) => i === 0 || n >= ns[i - 1]));
  assert.ok(!rows.some((r) => r.kind === 'meeting' && Number.isInteger(r.n)));
});

test('an empty channel shows its meetings', () => {
  assert.deepEqual(shape(withMeetings([], [{ id: 'A', started_at: 5 }], false)), ['A@0.5']);
  assert.deepEqual(shape(withMeetings([pending('p')], [{ id: 'A', started_at: 5 }], false)), ['A@0.5', 'p']);
});

test('a meeting older than the history held waits for older pages to arrive', () => {
  const items = [sent(40, 4000), sent(41, 4100)];
  const meetings = [{ id: 'old', started_at: 100 }, { id: 'new', started_at: 4050 }];
  assert.deepEqual(shape(withMeetings(items, meetings, true)), ['m40', 'new@40.5', 'm41']);
  assert.equal(withMeetings(items, [{ id: 'old', started_at: 100 }], true), items);
  assert.deepEqual(shape(withMeetings(items, meetings, false)), ['old@0.5', 'm40', 'new@40.5', 'm41']);
});

test("a channel's meetings come from the collection, oldest first, others' left out", () => {
  const records = new Map([
    ['B', { fields: { channel: 'c1', started_at: 20 } }],
    ['A', { fields: { channel: 'c1', started_at: 10 } }],
    ['X', { fields: { channel: 'c2', started_at: 5 } }],
    ['Y', { fields: { channel: 'c1' } }],
  ]);
  assert.deepEqual(channelMeetings(records, 'c1'), [
    { id: 'A', channel: 'c1', started_at: 10 },
    { id: 'B', channel: 'c1', started_at: 20 },
  ]);
});
