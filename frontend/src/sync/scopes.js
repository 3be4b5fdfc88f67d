/**
 * Which scope a record belongs to, and the ids derived from other ids.
 * The rules are the registry's (./registry.js, exported from sync_protocol/collections.py);
 * these are named helpers over them. Both languages pass sync_protocol/vectors/scopes.json.
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
import { WORKSPACE, ScopeError, derivedId, scopeOf } from './registry.js';

export { WORKSPACE, ScopeError, scopeOf };

/** @param {string} channelId */
export function channelScope(channelId) {
  return `c:${channelId}`;
}

/** @param {string} userId */
export function userScope(userId) {
  return `u:${userId}`;
}

/** Membership ids are derived, so two devices adding the same person converge on one record. */
export function memberId(channelId, userId) {
  return derivedId('members', { channel: channelId, user: userId });
}

export function readId(userId, channelId) {
  return derivedId('reads', { user: userId, channel: channelId });
}

/** A 1:1 DM's id is derived from both people, so both starting it offline meet in one DM. */
export function dmId(userA, userB) {
  const [low, high] = compareCodePoints(userA, userB) <= 0 ? [userA, userB] : [userB, userA];
  return `dm_${low}_${high}`;
}

/** One record per person and emoji: the emoji's code points in lowercase hex, joined by '-'. */
export function reactionId(messageId, userId, emoji) {
  return derivedId('reactions', { message: messageId, user: userId, emoji });
}

export function receiptId(channelId, userId) {
  return derivedId('receipts', { channel: channelId, user: userId });
}

export function followId(userId, messageId) {
  return derivedId('follows', { user: userId, message: messageId });
}

export function prefId(userId, channelId) {
  return derivedId('prefs', { user: userId, channel: channelId });
}
