// Stored records as the bulk worker hands them to the page (replica/bulk-worker.js -> WorkerPages
// in sync/bulk-pages.js). Pure: no I/O.
//
// A structured clone gives every record its own copy of every string: a backfilled message of
// #general carried five copies of the same clock, and its own copies of the collection, scope,
// channel and author, about 360 of its ~830 bytes in the page's heap. For 100,000 messages that
// is 36 MB more for the page's collector to copy and mark while the backfill runs, and its pauses
// were the backfill's slow frames (issue 16). So a part is packed:
//
// Rule 1. Strings that repeat across records (collection, scope, and the values of SHARED fields)
//         travel once, in a table; a record refers to them by index, and the page gets one
//         string instance for all of them.
// Rule 2. A record whose fields all carry the same clock (a message as first written: the usual
//         backfilled record) sends that clock once; the page's record gets a `clocks` object with
//         one entry per field, all the same string, as merge.js would have made it.
// Rule 3. Anything else (a record of another shape, clocks that differ from field to field) goes
//         as it is. unpack(pack(x)) equals x, field by field and clock by clock (a unit test).
// Rule 4. A part stays under ~64 KB as cloned (partsOf). V8 deserializes a message over 100 KB
//         straight into the old generation, where a packed part, garbage once unpacked, is freed
//         only by a full collection: at 500 records a part (~140 KB) made the page's heap grow
//         towards its next full collection by the size of every page it took in.

/** Fields whose string values repeat across a channel's records. */
const SHARED = new Set(['channel', 'author', 'thread', 'message', 'user', 'pinned_by']);
const RECORD_KEYS = ['collection', 'id', 'scope', 'fields', 'clocks'];

/**
 * @typedef {{collection: string, id: string, scope: string, fields: Record<string, any>, clocks: Record<string, string>}} Stored
 * @typedef {{strings: string[], shapes: string[][], rows: any[][]}} Packed
 */

/** Define a property: a field may be called `__proto__` (merge.js), which plain assignment would not make. */
function put(target, name, value) {
  if (name === '__proto__') Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
  else target[name] = value;
}

/** The one clock all of a record's fields carry, or null (Rule 2). */
function oneClock(names, clocks) {
  const keys = Object.keys(clocks);
  if (keys.length !== names.length || !names.length) return null;
  const first = clocks[names[0]];
  if (typeof first !== 'string') return null;
  for (const name of names) if (!Object.hasOwn(clocks, name) || clocks[name] !== first) return null;
  return first;
}

/** @param {string[]} a @param {string[]} b */
function sameNames(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * @param {[string, Stored][]} stored
 * @returns {Packed}
 */
export function pack(stored) {
  /** @type {Map<string, number>} */
  const index = new Map();
  /** @type {string[]} */
  const strings = [];
  const ref = (s) => {
    let i = index.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      index.set(s, i);
    }
    return i;
  };
  /** @type {Map<string, number>} */
  const shapeOf = new Map();
  /** @type {string[][]} */
  const shapes = [];
  const rows = [];
  let last = -1;
  for (const [key, record] of stored) {
    const keys = Object.keys(record);
    const plain =
      keys.length === RECORD_KEYS.length &&
      RECORD_KEYS.every((k) => Object.hasOwn(record, k)) &&
      typeof record.collection === 'string' &&
      typeof record.scope === 'string' &&
      key === `${record.collection}/${record.id}`;
    const names = plain ? Object.keys(record.fields) : [];
    const clock = plain ? oneClock(names, record.clocks) : null;
    if (!plain || clock === null) {
      rows.push([key, record]); // Rule 3
      continue;
    }
    // Records of a page mostly share one shape: compare with the last one before hashing names.
    let shape = last >= 0 && sameNames(shapes[last], names) ? last : shapeOf.get(names.join('\n'));
    if (shape === undefined) {
      shape = shapes.length;
      shapes.push(names);
      shapeOf.set(names.join('\n'), shape);
    }
    last = shape;
    const row = [ref(record.collection), record.id, ref(record.scope), shape, clock];
    for (const name of names) {
      const value = record.fields[name];
      // A shared field's string goes by index; anything else in it, wrapped, so the two never meet.
      row.push(SHARED.has(name) ? (typeof value === 'string' ? ref(value) : [value]) : value);
    }
    rows.push(row);
  }
  return { strings, shapes, rows };
}

/** Bytes a part stays under as cloned (Rule 4). */
export const PART_BYTES = 64 * 1024;

/** A record's size as cloned, on the high side: strings as two bytes a character. */
function clonedBytes(record) {
  let bytes = 64 + 2 * String(record.id).length;
  const fields = record.fields ?? {};
  for (const name in fields) {
    const value = fields[name];
    bytes += 12 + (typeof value === 'string' ? 2 * value.length : 0);
  }
  return bytes;
}

/**
 * Stored records packed in parts of at most `limit` bytes as cloned (Rule 4), in order.
 * @param {[string, Stored][]} stored
 * @returns {Packed[]}
 */
export function partsOf(stored, limit = PART_BYTES) {
  const parts = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < stored.length; i++) {
    const size = clonedBytes(stored[i][1]);
    if (i > from && bytes + size > limit) {
      parts.push(pack(stored.slice(from, i)));
      from = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (from < stored.length) parts.push(pack(stored.slice(from)));
  return parts;
}

/**
 * @param {Packed} packed
 * @returns {[string, Stored][]}
 */
export function unpack({ strings, shapes, rows }) {
  /** @type {[string, Stored][]} */
  const out = new Array(rows.length);
  const shared = shapes.map((names) => names.map((name) => SHARED.has(name)));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (row.length === 2) {
      out[r] = /** @type {[string, Stored]} */ (row);
      continue;
    }
    const collection = strings[row[0]];
    const id = row[1];
    const names = shapes[row[3]];
    const isShared = shared[row[3]];
    const clock = row[4];
    /** @type {Record<string, any>} */
    const fields = {};
    /** @type {Record<string, string>} */
    const clocks = {};
    for (let i = 0; i < names.length; i++) {
      const value = row[5 + i];
      put(fields, names[i], isShared[i] ? (typeof value === 'number' ? strings[value] : value[0]) : value);
      put(clocks, names[i], clock);
    }
    out[r] = [`${collection}/${id}`, { collection, id, scope: strings[row[2]], fields, clocks }];
  }
  return out;
}
