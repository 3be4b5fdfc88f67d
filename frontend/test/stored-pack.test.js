// The bulk worker packs stored records for the page (replica/stored-pack.js): what the page
// unpacks must be the records, field by field and clock by clock, whatever their shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack, partsOf, unpack } from '../src/replica/stored-pack.js';

const C = '1796441230604-00000-8r9armgd6dsp';
const message = (n, extra = {}) => {
  const fields = { channel: 'C1', text: `m${n}`, author: n % 2 ? 'U1' : 'U2', at: 1_700_000_000_000 + n, n, ...extra };
  const clocks = Object.fromEntries(Object.keys(fields).map((k) => [k, C]));
  return [`messages/M${n}`, { collection: 'messages', id: `M${n}`, scope: 'c:C1', fields, clocks }];
};

test('records round-trip, shared strings become one instance per value', () => {
  const stored = [
    message(1),
    message(2),
    message(3, { thread: 'M1', tn: 1 }),
    message(4, { author: null, deleted: true }),
    message(5, { pinned_by: 7 }), // not a string in a shared field
    ['reactions/R1', { collection: 'reactions', id: 'R1', scope: 'c:C1', fields: { message: 'M1', emoji: '👍', on: true }, clocks: { message: C, emoji: C, on: C } }],
  ];
  // Clocks that differ, a clock missing for a field, a record with more keys, a `__proto__` field.
  const [, edited] = message(6);
  edited.clocks.text = '1796441239999-00000-8r9armgd6dsp';
  const [, partial] = message(7);
  delete partial.clocks.at;
  const [, extra] = message(8);
  const proto = { collection: 'messages', id: 'M9', scope: 'c:C1', fields: {}, clocks: {} };
  Object.defineProperty(proto.fields, '__proto__', { value: 'x', enumerable: true, writable: true, configurable: true });
  Object.defineProperty(proto.clocks, '__proto__', { value: C, enumerable: true, writable: true, configurable: true });
  stored.push(['messages/M6', edited], ['messages/M7', partial], ['messages/M8', { ...extra, pending: true }], ['messages/M9', proto]);
  const packed = pack(structuredClone(stored));
  const back = unpack(structuredClone(packed));
  assert.deepEqual(back, stored);
  assert.equal(Object.getPrototypeOf(back[9][1].fields), Object.prototype, 'a __proto__ field is a field, not a prototype');
  assert.deepEqual(Object.keys(back[9][1].fields), ['__proto__']);
  assert.ok(packed.rows.filter((r) => r.length > 2).length >= 6, 'the usual records go packed');
  assert.equal(packed.strings.filter((s) => s === 'C1').length, 1);
});

test('an empty part packs to nothing', () => {
  assert.deepEqual(unpack(pack([])), []);
});

test('parts keep the records in order and stay under the size limit unless one record is bigger', () => {
  const stored = Array.from({ length: 300 }, (_, i) => message(i, { text: 'x'.repeat(i === 7 ? 5000 : 100) }));
  const parts = partsOf(stored, 4096);
  assert.ok(parts.length > 10);
  assert.deepEqual(parts.flatMap((p) => unpack(p)), stored);
  const big = parts.find((p) => unpack(p).some(([, r]) => r.id === 'M7'));
  assert.equal(big.rows.length, 1, 'a record over the limit goes alone');
});
