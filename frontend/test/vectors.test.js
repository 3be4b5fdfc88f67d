// The shared vectors in sync_protocol/vectors/, run against the JS sync core. Python runs the
// same files (tests/unit/test_vectors.py): a rule that lives in two languages is only trusted
// when both pass them. One test per case, named by its comment.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { Clock, encode, parse } from '../src/sync/hlc.js';
import { apply, changedFields, snapshotChanges } from '../src/sync/merge.js';
import * as scopes from '../src/sync/scopes.js';
import { unreadCount } from '../src/sync/unread.js';

const load = (name) =>
  JSON.parse(readFileSync(new URL(`../../sync_protocol/vectors/${name}.json`, import.meta.url), 'utf8'));

/** Freeze an object graph, so any attempt to mutate an input throws (modules are strict). */
function deepFreeze(value) {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function mergeAll(given, changes) {
  let state = given;
  for (const { hlc, fields } of changes) {
    const next = apply(state, fields, hlc);
    // Applying only the fields that win must give the same state as applying them all.
    assert.deepEqual(apply(state, changedFields(state, fields, hlc), hlc), next);
    assert.deepEqual(changedFields(next, fields, hlc), {}, 'a change already applied alters nothing');
    state = next;
  }
  return state;
}

describe('merge.json', () => {
  for (const { comment, given, changes, expected } of load('merge')) {
    test(comment, () => {
      deepFreeze(given);
      deepFreeze(changes);
      assert.deepEqual(mergeAll(given, changes), expected);
      assert.deepEqual(mergeAll(given, [...changes].reverse()), expected, 'in reverse order');
    });
  }
});

const SCOPE_FUNCTIONS = {
  dm_id: scopes.dmId,
  member_id: scopes.memberId,
  read_id: scopes.readId,
  channel_scope: scopes.channelScope,
  user_scope: scopes.userScope,
  reaction_id: scopes.reactionId,
  receipt_id: scopes.receiptId,
  follow_id: scopes.followId,
  pref_id: scopes.prefId,
};

describe('scopes.json', () => {
  for (const vector of load('scopes')) {
    test(vector.comment, () => {
      if (vector.derive !== undefined) {
        const derive = SCOPE_FUNCTIONS[vector.derive];
        assert.ok(derive, `no JS function for ${vector.derive}`);
        assert.equal(derive(...vector.args), vector.expected);
      } else if (vector.error !== undefined) {
        assert.throws(
          () => scopes.scopeOf(vector.collection, vector.id, vector.fields),
          (error) => error instanceof scopes.ScopeError && error.message.includes(vector.error),
        );
      } else {
        assert.equal(scopes.scopeOf(vector.collection, vector.id, vector.fields), vector.expected);
      }
    });
  }
});

describe('hlc.json', () => {
  for (const vector of load('hlc')) {
    test(vector.comment, () => {
      if (vector.op === 'parse') {
        if (vector.error !== undefined) {
          assert.throws(() => parse(vector.value), { message: new RegExp(`^${vector.error}`) });
        } else {
          assert.deepEqual(parse(vector.value), vector.expected);
          assert.equal(encode(parse(vector.value)), vector.value);
        }
        return;
      }
      const clock = new Clock(parse(vector.last).device, vector.last);
      assert.equal(clock.last, vector.last);
      if (vector.op === 'tick') {
        assert.equal(clock.tick(vector.wall), vector.expected);
      } else if (vector.op === 'observe') {
        clock.observe(vector.remote, vector.wall);
      } else {
        assert.fail(`unknown op ${vector.op}`);
      }
      assert.equal(clock.last, vector.expected);
    });
  }
});

describe('snapshot.json', () => {
  for (const { comment, given, snapshot, changes, expected } of load('snapshot')) {
    test(comment, () => {
      deepFreeze(given);
      deepFreeze(snapshot);
      assert.deepEqual(snapshotChanges(snapshot.fields, snapshot.clocks), changes);
      assert.deepEqual(mergeAll(given, changes), expected);
    });
  }
});

describe('unread.json', () => {
  for (const { comment, me, read, messages, unread } of load('unread')) {
    test(comment, () => {
      assert.equal(unreadCount(messages.map(([n, author]) => ({ n, author })), read, me), unread);
    });
  }
});
