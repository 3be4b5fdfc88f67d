// The registry as the browser reads it (sync_protocol/vectors/registry.json, exported by the
// server) and the UI's reading of its rights (sync/rights.js).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { REGISTRY, derivedId, fieldLimit, ruleFor, scopeOf } from '../src/sync/registry.js';
import { JUDGED, isAdmin, may } from '../src/sync/rights.js';

const OFFER = JSON.parse(readFileSync(new URL('../../sync_protocol/vectors/offer.json', import.meta.url), 'utf8'));
const RIGHTS = JSON.parse(readFileSync(new URL('../../sync_protocol/vectors/rights.json', import.meta.url), 'utf8'));

const facts = (over) => ({ me: 'ada', role: 'member', fields: {}, member: true, archived: false, creating: false, ...over });

describe('registry', () => {
  test('every collection has a scope rule the browser can run', () => {
    for (const [name, entry] of Object.entries(REGISTRY)) {
      assert.ok(['workspace', 'field', 'own'].includes(entry.scope.rule), name);
    }
  });

  test('a toy entry needs no code: scope and derived id come from the table', () => {
    assert.equal(scopeOf('members', 'c1:u1', { channel: 'c1', user: 'u1' }), 'c:c1');
    assert.equal(derivedId('reactions', { message: 'm', user: 'u', emoji: '👍🏽' }), 'm:u:1f44d-1f3fd');
    assert.equal(fieldLimit('messages', 'text'), 10000);
  });

  test('deny by default: no rule for server fields or unknown operations', () => {
    assert.equal(ruleFor('messages', 'author'), null);
    assert.equal(ruleFor('messages', 'no_such_field'), null);
    assert.equal(ruleFor('users', 'create'), null);
    assert.equal(may('messages', 'author', facts({ role: 'owner' })), false);
  });
});

describe('rights the UI offers', () => {
  test('every rule the browser judges is a rule the server has', () => {
    for (const rule of JUDGED) assert.ok(RIGHTS.rules.includes(rule), rule);
  });

  test('roles come from the server', () => {
    assert.deepEqual(RIGHTS.roles.admin.filter(isAdmin), RIGHTS.roles.admin);
    assert.equal(isAdmin('member'), false);
  });

  test('only the author edits; the author or an admin who is a member deletes', () => {
    const msg = { author: 'bob', channel: 'c1' };
    assert.equal(may('messages', 'text', facts({ fields: msg })), false);
    assert.equal(may('messages', 'text', facts({ me: 'bob', fields: msg })), true);
    assert.equal(may('messages', 'text', facts({ me: 'bob', fields: msg, archived: true })), false);
    assert.equal(may('messages', 'delete', facts({ fields: msg })), false);
    assert.equal(may('messages', 'delete', facts({ role: 'admin', fields: msg })), true);
    assert.equal(may('messages', 'delete', facts({ role: 'admin', fields: msg, member: false })), false);
  });

  test('the creator or an admin archives a channel', () => {
    assert.equal(may('channels', 'archived', facts({ fields: { created_by: 'bob' } })), false);
    assert.equal(may('channels', 'archived', facts({ fields: { created_by: 'ada' } })), true);
    assert.equal(may('channels', 'archived', facts({ role: 'owner', fields: { created_by: 'bob' } })), true);
  });
});

describe('offer.json: the UI offers what the server allows (Python runs it against the real rules)', () => {
  for (const { comment, collection, operation, facts, expected } of OFFER) {
    test(comment, () => {
      const fields = {
        author: facts.author === 'me' ? 'ada' : 'bob',
        created_by: facts.created_by === 'me' ? 'ada' : 'bob',
        channel: 'c1',
      };
      const judged = may(collection, operation, {
        me: 'ada', role: facts.role, fields, member: facts.member, archived: Boolean(facts.archived), creating: false,
      });
      assert.equal(judged, expected);
    });
  }
});
