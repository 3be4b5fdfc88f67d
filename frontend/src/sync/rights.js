/**
 * What the UI offers: the registry names the rule that guards each operation
 * (./registry.js), and the roles come from the server's rule table
 * (sync_protocol/vectors/rights.json, written from backend/access.py). The server decides in the
 * end; this only keeps the UI from offering what it would refuse.
 *
 * Rule 1. Deny by default: an operation with no rule, or a rule this module cannot judge from
 *         what the device holds, is not offered.
 * Rule 2. Each rule here mirrors the rule of the same name in backend/access.py, judged from
 *         facts the replica has: who I am, my role, the record, my membership, the channel.
 *         Both pass sync_protocol/vectors/offer.json (Python against the real rules and store).
 *
 * Pure: no DOM, no I/O.
 */

import RIGHTS from '../../../sync_protocol/vectors/rights.json' with { type: 'json' };
import { ruleFor } from './registry.js';

const ADMIN = new Set(RIGHTS.roles.admin);

/** @param {string | undefined | null} role */
export function isAdmin(role) {
  return ADMIN.has(role ?? '');
}

/** Invites: the same roles as administration (backend/access.py `may_invite`). */
export const mayInvite = isAdmin;

/**
 * @typedef {object} Facts
 * @property {string | null} me        my user id
 * @property {string | null | undefined} role  my workspace role
 * @property {Record<string, unknown>} fields  the record's fields as held (empty when creating)
 * @property {boolean} member          am I a member of the record's channel
 * @property {boolean} archived        is that channel archived
 * @property {boolean} creating        is this a new record
 */

/** @type {Record<string, (f: Facts) => boolean>} */
const RULES = {
  fixed: () => true,
  own: (f) => f.fields.user === f.me,
  self: (f) => !f.creating && f.fields.id === f.me,
  admin: (f) => isAdmin(f.role),
  channel_editor: (f) => f.creating || f.member || isAdmin(f.role),
  channel_owner: (f) => f.creating || isAdmin(f.role) || f.fields.created_by === f.me,
  channel_poster: (f) => f.member && !f.archived,
  message_author: (f) => (f.creating || f.fields.author === f.me) && f.member && !f.archived,
  message_deleter: (f) => f.fields.author === f.me || (isAdmin(f.role) && f.member),
  // tasks: members of a writable channel; the task's other records follow it (backend/access.py)
  task_editor: (f) => f.member && !f.archived,
  task_deleter: (f) => f.member && !f.archived && (isAdmin(f.role) || f.fields.created_by === f.me),
  task_part: (f) => f.member && !f.archived,
};

/**
 * May I do `operation` ('create', 'delete' or a field's name) to a record of `collection`?
 * @param {string} collection
 * @param {string} operation
 * @param {Facts} facts
 */
export function may(collection, operation, facts) {
  const rule = ruleFor(collection, operation);
  const judge = rule === null ? undefined : RULES[rule];
  return judge ? judge(facts) : false;
}

/** The rules this module judges (a test checks each is one the server has). */
export const JUDGED = Object.keys(RULES);
