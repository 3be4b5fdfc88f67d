/**
 * The collection registry as the browser reads it: the table the server exports from
 * sync_protocol/collections.py into sync_protocol/vectors/registry.json (a Python test fails
 * when the two differ). Nothing here is kept by hand: scopes, derived ids, field limits and the
 * names of the rights rules all come from that table.
 *
 * Rule 1. Scope rules are data: `workspace` (always `ws`), `field` (a prefix and a field's value),
 *         `own` (a prefix and the record's id, or `ws` when a field holds `workspace_if`).
 * Rule 2. A derived id joins its parts with `:`; a part `name/hex` is the field's code points in
 *         lowercase hex joined by `-`.
 * Rule 3. Rights are rule names. What the UI offers asks `ruleFor` which rule guards an operation,
 *         and frontend/src/sync/rights.js evaluates the few rules a screen can judge locally;
 *         the server decides in the end.
 *
 * Pure: no DOM, no I/O.
 */

import TABLE from '../../../sync_protocol/vectors/registry.json' with { type: 'json' };

export const WORKSPACE = 'ws';
export const REGISTRY = TABLE;

/** The record's fields do not determine a scope (a required field is missing). */
export class ScopeError extends Error {
  name = 'ScopeError';
}

/**
 * @typedef {{type: string, limit?: number, server?: boolean, immutable?: boolean, required?: boolean,
 *   choices?: string[], only?: unknown[]}} FieldSpec
 */

/**
 * @param {string} collection
 * @returns {{fields: Record<string, FieldSpec>, scope: {rule: string, field?: string, prefix?: string, workspace_if?: string}, derived_id?: string[], rights?: {create?: string, delete?: string, fields: Record<string, string>}}}
 */
export function spec(collection) {
  const entry = Object.hasOwn(TABLE, collection) ? TABLE[collection] : undefined;
  if (!entry) throw new ScopeError(`unknown collection ${JSON.stringify(collection)}`);
  return entry;
}

/**
 * The scope of a record, from its (immutable) fields; throws ScopeError when they do not say.
 * @param {string} collection
 * @param {string} recordId
 * @param {Record<string, unknown>} fields
 */
export function scopeOf(collection, recordId, fields) {
  const { scope } = spec(collection);
  if (scope.rule === 'workspace') return WORKSPACE;
  const value = Object.hasOwn(fields, scope.field) ? fields[scope.field] : undefined;
  if (typeof value !== 'string') throw new ScopeError(`${collection} need a ${scope.field}`);
  if (scope.rule === 'field') return `${scope.prefix ?? ''}${value}`;
  return value === scope.workspace_if ? WORKSPACE : `${scope.prefix ?? ''}${recordId}`;
}

/**
 * The id a collection derives from its fields, so two devices minting it offline meet in one record.
 * @param {string} collection
 * @param {Record<string, unknown>} fields
 */
export function derivedId(collection, fields) {
  const parts = spec(collection).derived_id;
  if (!parts) throw new Error(`${collection} ids are not derived`);
  return parts
    .map((part) => {
      const [name, transform] = part.split('/');
      const value = String(fields[name]);
      return transform === 'hex' ? [...value].map((c) => c.codePointAt(0).toString(16)).join('-') : value;
    })
    .join(':');
}

/**
 * The name of the rule that guards an operation: 'create', 'delete', or a field's name (null: nobody).
 * @param {string} collection
 * @param {string} operation
 */
export function ruleFor(collection, operation) {
  const rights = spec(collection).rights;
  if (!rights) return null;
  if (operation === 'create') return rights.create ?? null;
  if (operation === 'delete') return rights.delete ?? null;
  return Object.hasOwn(rights.fields, operation) ? rights.fields[operation] : null;
}

/**
 * The limit of a field (longest string, greatest integer), or null.
 * @param {string} collection
 * @param {string} field
 */
export function fieldLimit(collection, field) {
  return spec(collection).fields[field]?.limit ?? null;
}
