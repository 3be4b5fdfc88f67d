// Dropping what this device no longer holds, following sync_protocol/replica.py (Rules 3, 4, 6 of
// replica.js): a reply's part for a scope applies only while the device still holds the scope as far
// as its request said (`holdsSince`), and a scope the server no longer lists leaves `records` and
// `held` in the reply's transaction. The outbox is never touched here (Rule 4): a pending change to
// a lost scope is refused by the server and moves to `failed`.

import { keyOf } from './records.js';

/** @typedef {import('./replica.js').SyncReply} SyncReply */

/**
 * May a reply's part for `scope` be applied? Yes when its request pulled the scope from the start,
 * or when the device still holds the scope at least as far as the request's cursor said.
 * The same rule as sync_protocol/replica.py `holds_since`; both pass vectors/replica.json.
 * @param {Record<string, number>} held the cursors stored now
 * @param {Record<string, number>} sent the cursors the request carried
 * @param {string} scope
 */
export function holdsSince(held, sent, scope) {
  return !Object.hasOwn(sent, scope) || (Object.hasOwn(held, scope) && held[scope] >= sent[scope]);
}

/**
 * The reply without its parts for scopes no longer held as far as its request said.
 * @param {SyncReply} response
 * @param {Record<string, number>} held
 * @param {Record<string, number>} sent
 * @returns {SyncReply}
 */
export function stillHeld(response, held, sent) {
  const keep = (/** @type {string} */ scope) => holdsSince(held, sent, scope);
  return {
    ...response,
    changes: (response.changes ?? []).filter((c) => keep(c.scope)),
    records: (response.records ?? []).filter((r) => keep(r.scope)),
    cursors: Object.fromEntries(Object.entries(response.cursors ?? {}).filter(([scope]) => keep(scope))),
  };
}

/**
 * Does this device hold a record or a held chunk of a scope not in `visible`, that is, anything
 * `dropScopesExcept` would drop? One round trip: a count of the `scope` index between each two
 * visible scopes (and below the first, above the last; IndexedDB orders string keys by code
 * unit, as `sort` does) and the held chunks' keys.
 * @param {any} tx
 * @param {Set<string>} visible
 */
export async function holdsOthers(tx, visible) {
  const index = tx.objectStore('records').index('scope');
  const scopes = [...visible].sort();
  const gaps = [IDBKeyRange.upperBound(scopes[0], true), IDBKeyRange.lowerBound(scopes[scopes.length - 1], true)];
  for (let i = 1; i < scopes.length; i++) gaps.push(IDBKeyRange.bound(scopes[i - 1], scopes[i], true, true));
  const [counts, chunks] = await Promise.all([Promise.all(gaps.map((range) => index.count(range))), tx.objectStore('held').getAllKeys()]);
  return counts.some((n) => n > 0) || chunks.some(([scope]) => !visible.has(scope));
}

/**
 * Remove every confirmed record and held chunk of a scope not in `visible`, in the caller's
 * transaction (which must cover `records` and `held`).
 * @param {any} tx
 * @param {Set<string>} visible
 * @returns {Promise<string[]>} the keys of the records dropped
 */
export async function dropScopesExcept(tx, visible) {
  const index = tx.objectStore('records').index('scope');
  const dropped = [];
  let cursor = await index.openKeyCursor(null, 'nextunique');
  const lost = [];
  while (cursor) {
    if (!visible.has(cursor.key)) lost.push(cursor.key);
    cursor = await cursor.continue();
  }
  // Held chunks go with their scope (replica.js, Rule 6): a scope may be held only there.
  const held = tx.objectStore('held');
  for (const scope of new Set((await held.getAllKeys()).map(([scope]) => scope))) {
    if (visible.has(scope)) continue;
    const range = IDBKeyRange.bound([scope, -Infinity], [scope, Infinity]);
    for (const chunk of await held.getAll(range)) for (const r of chunk.records) dropped.push(keyOf(r.collection, r.id));
    held.delete(range);
    if (!lost.includes(scope)) lost.push(scope);
  }
  for (const scope of lost) {
    let row = await index.openCursor(IDBKeyRange.only(scope));
    while (row) {
      dropped.push(keyOf(row.value.collection, row.value.id));
      row.delete();
      row = await row.continue();
    }
  }
  return dropped;
}
