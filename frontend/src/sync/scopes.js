/**
 * Which scope a record belongs to, and the ids derived from other ids.
 * A port of the scope half of sync_protocol/collections.py; both pass
 * sync_protocol/vectors/scopes.json.
 *
 * Rule 1. A scope is the unit of access control and of replication:
 *         `ws` the workspace (user profiles, public channels' records);
 *         `u:<user>` one user's private space (read cursors);
 *         `c:<channel>` one channel, public or not: its members and messages, and the channel
 *         record itself unless the channel is public.
 * Rule 2. A record's scope follows from its immutable fields, so it never moves.
 * Rule 3. Ids that two devices may mint offline for the same thing (a membership, a read cursor,
 *         a 1:1 DM) are derived from what they name, so both devices meet on one record.
 *
 * Pure functions: no DOM, no I/O.
 */

import { compareCodePoints } from './merge.js';

export const WORKSPACE = 'ws';

/** Collections whose records live in their channel's scope, and in their user's private scope. */
export const CHANNEL_COLLECTIONS = new Set(['members', 'messages', 'reactions', 'receipts']);
export const PRIVATE_COLLECTIONS = new Set(['reads', 'follows', 'prefs']);

/** The record's fields do not determine a scope (a required field is missing). */
export class ScopeError extends Error {
  name = 'ScopeError';
}

/** @param {string} channelId */
export function channelScope(channelId) {
  return `c:${channelId}`;
}

/** @param {string} userId */
export function userScope(userId) {
  return `u:${userId}`;
}

/**
 * The scope of a record, from its (immutable) fields; throws ScopeError when they do not say.
 * @param {string} collection
 * @param {string} recordId
 * @param {Record<string, unknown>} fields
 */
export function scopeOf(collection, recordId, fields) {
  if (collection === 'users') return WORKSPACE;
  if (collection === 'channels') {
    const kind = field(fields, 'kind');
    if (kind === null) throw new ScopeError('channels need a kind');
    return kind === 'public' ? WORKSPACE : channelScope(recordId);
  }
  if (CHANNEL_COLLECTIONS.has(collection)) {
    const channel = field(fields, 'channel');
    if (typeof channel !== 'string') throw new ScopeError(`${collection} need a channel`);
    return channelScope(channel);
  }
  if (PRIVATE_COLLECTIONS.has(collection)) {
    const user = field(fields, 'user');
    if (typeof user !== 'string') throw new ScopeError(`${collection} need a user`);
    return userScope(user);
  }
  throw new ScopeError(`unknown collection ${JSON.stringify(collection)}`);
}

/** Membership ids are derived, so two devices adding the same person converge on one record. */
export function memberId(channelId, userId) {
  return `${channelId}:${userId}`;
}

export function readId(userId, channelId) {
  return `${userId}:${channelId}`;
}

/** A 1:1 DM's id is derived from both people, so both starting it offline meet in one DM. */
export function dmId(userA, userB) {
  const [low, high] = compareCodePoints(userA, userB) <= 0 ? [userA, userB] : [userB, userA];
  return `dm_${low}_${high}`;
}

/** One record per person and emoji: the emoji's code points in lowercase hex, joined by '-'. */
export function reactionId(messageId, userId, emoji) {
  return `${messageId}:${userId}:${[...emoji].map((c) => c.codePointAt(0).toString(16)).join('-')}`;
}

export function receiptId(channelId, userId) {
  return `${channelId}:${userId}`;
}

export function followId(userId, messageId) {
  return `${userId}:${messageId}`;
}

export function prefId(userId, channelId) {
  return `${userId}:${channelId}`;
}

/** An own field's value, or null when absent (Python's dict.get). */
function field(fields, name) {
  return Object.hasOwn(fields, name) ? (fields[name] ?? null) : null;
}
