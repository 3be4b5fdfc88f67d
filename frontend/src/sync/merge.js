/**
 * The merge rule for records: a last-writer-wins register per field, ordered by HLC.
 * A port of sync_protocol/merge.py; both pass sync_protocol/vectors/merge.json.
 *
 * Law 1. Idempotent:   apply(apply(s, c), c) equals apply(s, c).
 * Law 2. Commutative:  applying a set of changes in any order gives the same state.
 * Law 3. Deterministic tie-break: when two writes carry the same HLC (which honest devices never
 *        produce), the one whose value has the greater canonical JSON encoding wins, so even
 *        forged duplicates converge. Text compares by Unicode code point, as Python does, and
 *        never with JS's `<`, which compares UTF-16 units and puts an emoji below U+E000-U+FFFF.
 *
 * A record is a plain object `{fields: {}, clocks: {}}`: the current value of each field and
 * the HLC of the write that set it. A record is deleted by writing its tombstone field
 * `deleted: true`; like any field, the write with the greater clock wins. Field names are data
 * (a field may be called `constructor` or `__proto__`), so lookups use own properties only.
 *
 * Pure functions: no DOM, no I/O, inputs never mutated. The module does not know whether it runs
 * in a page, a worker or a test.
 */

/** @typedef {string | number | boolean | null} Value */
/** @typedef {{fields: Record<string, Value>, clocks: Record<string, string>}} RecordState */

/**
 * The encoding the tie-break compares; Python's `canonical` gives the same text.
 * @param {Value} value
 */
export function canonical(value) {
  return JSON.stringify(value);
}

/**
 * Order two strings by Unicode code point (-1, 0, 1): the order of their UTF-8 bytes and of
 * Python's `<` on str.
 * @param {string} a
 * @param {string} b
 */
export function compareCodePoints(a, b) {
  const shorter = Math.min(a.length, b.length);
  for (let i = 0; i < shorter; ) {
    const x = /** @type {number} */ (a.codePointAt(i));
    const y = /** @type {number} */ (b.codePointAt(i));
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * Order two encoded clocks (-1, 0, 1). The encoding sorts as the clock does (hlc.js, Rule 1);
 * every comparison of clocks goes through here, so no caller depends on how JS's `<` treats
 * strings.
 * @param {string} a
 * @param {string} b
 * @returns {number}
 */
export function compareClocks(a, b) {
  return compareCodePoints(a, b);
}

/**
 * The later of two clocks; a missing one (null, undefined, '') loses to any clock.
 * @param {string | null | undefined} a
 * @param {string | null | undefined} b
 * @returns {string | null}
 */
export function laterClock(a, b) {
  if (!a) return b || null;
  if (!b) return a;
  return compareClocks(a, b) >= 0 ? a : b;
}

/**
 * True when a write (newHlc, newValue) replaces the held (oldHlc, oldValue).
 * @param {string} newHlc
 * @param {Value} newValue
 * @param {string | null | undefined} oldHlc null or undefined when the field was never written
 * @param {Value | undefined} oldValue
 */
export function wins(newHlc, newValue, oldHlc, oldValue) {
  if (oldHlc === null || oldHlc === undefined) return true;
  const byClock = compareClocks(newHlc, oldHlc);
  if (byClock !== 0) return byClock > 0;
  return compareCodePoints(canonical(newValue), canonical(oldValue ?? null)) > 0;
}

/**
 * Merge one change into a record's state and return the new state (the input is untouched).
 * @param {RecordState | null | undefined} state
 * @param {Record<string, Value>} fields
 * @param {string} hlc
 * @returns {RecordState}
 */
export function apply(state, fields, hlc) {
  // Spreading copies own properties as data, `__proto__` included.
  const merged = { fields: { ...state?.fields }, clocks: { ...state?.clocks } };
  for (const [name, value] of Object.entries(fields)) {
    if (wins(hlc, value, own(merged.clocks, name), own(merged.fields, name))) {
      setOwn(merged.fields, name, value);
      setOwn(merged.clocks, name, hlc);
    }
  }
  return merged;
}

/**
 * A record snapshot (each field with its own clock) as the changes that wrote it: fields grouped by
 * clock, in order of first appearance. A field without a clock is not part of any change.
 * Shared vectors: sync_protocol/vectors/snapshot.json.
 * @param {Record<string, Value>} fields
 * @param {Record<string, string>} clocks
 * @returns {{fields: Record<string, Value>, hlc: string}[]}
 */
export function snapshotChanges(fields, clocks) {
  const grouped = new Map();
  for (const [name, value] of Object.entries(fields ?? {})) {
    const hlc = own(clocks ?? {}, name);
    if (hlc === null) continue;
    if (!grouped.has(hlc)) grouped.set(hlc, {});
    setOwn(grouped.get(hlc), name, value);
  }
  return [...grouped].map(([hlc, group]) => ({ fields: group, hlc }));
}

/**
 * The subset of `fields` that would win against `state` (what a change really alters).
 * @param {RecordState | null | undefined} state
 * @param {Record<string, Value>} fields
 * @param {string} hlc
 * @returns {Record<string, Value>}
 */
export function changedFields(state, fields, hlc) {
  if (state === null || state === undefined) return { ...fields };
  const changed = {};
  for (const [name, value] of Object.entries(fields)) {
    if (wins(hlc, value, own(state.clocks, name), own(state.fields, name))) setOwn(changed, name, value);
  }
  return changed;
}

/** `object[name]` if it is the object's own property, else null (Python's dict.get). */
function own(object, name) {
  return Object.hasOwn(object, name) ? object[name] : null;
}

/** `object[name] = value`, except that `__proto__` becomes a field instead of a prototype. */
function setOwn(object, name, value) {
  // Only `__proto__` has a setter on Object.prototype; any other name assigns an own property, and
  // plain assignment keeps the object in V8's fast mode (defineProperty for every field made each
  // merged record a dictionary, slow to read and to clone into IndexedDB).
  if (name === '__proto__') Object.defineProperty(object, name, { value, writable: true, enumerable: true, configurable: true });
  else object[name] = value;
}
