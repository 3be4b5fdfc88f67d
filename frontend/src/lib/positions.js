/**
 * Positions of board cards and checklist items: fractional indexes from the npm
 * `fractional-indexing` package (rocicorp), the algorithm sync_protocol/positions.py ports.
 * Both pass sync_protocol/vectors/positions.json.
 *
 * Rule 2. A move writes one key, between the new neighbours, into the moved record only.
 * Rule 3. Order is by (position, id): equal keys minted on two offline devices sort the same
 *         everywhere. A record without a key sorts last, by id.
 *
 * Pure functions: no DOM, no I/O.
 */

import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing';

export const keyBetween = (a, b) => generateKeyBetween(a ?? null, b ?? null);
export const keysBetween = (a, b, n) => generateNKeysBetween(a ?? null, b ?? null, n);

/** Compare two [id, fields] entries by position, then id (code-point order, as Python). */
export function comparePositioned([idA, a], [idB, b], field = 'position') {
  const pa = typeof a?.[field] === 'string' && a[field] ? a[field] : null;
  const pb = typeof b?.[field] === 'string' && b[field] ? b[field] : null;
  if ((pa === null) !== (pb === null)) return pa === null ? 1 : -1;
  if (pa !== pb) return pa < pb ? -1 : 1; // keys are ASCII: UTF-16 order is code-point order
  return idA < idB ? -1 : idA > idB ? 1 : 0;
}

/** Record ids in display order (Rule 3). @param {Iterable<[string, object]>} entries */
export function ordered(entries, field = 'position') {
  return [...entries].sort((x, y) => comparePositioned(x, y, field)).map(([id]) => id);
}

/**
 * The key for an item dropped at `index` of `ids` (display order, without the moved item):
 * between its new neighbours, so only the moved item changes. When neighbours hold equal keys
 * (two offline inserts), no key fits between them without moving one of them: the item goes
 * just after the run of equal keys instead, still one change.
 * @param {string[]} ids @param {(id: string) => string | null} positionOf @param {number} index
 */
export function keyAt(ids, positionOf, index) {
  const before = index > 0 ? positionOf(ids[index - 1]) : null;
  let next = index;
  while (before !== null && next < ids.length && (positionOf(ids[next]) ?? '~') <= before) next += 1;
  const after = next < ids.length ? positionOf(ids[next]) : null;
  return keyBetween(before, after);
}
