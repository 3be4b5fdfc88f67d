// The shared search-query vectors (sync_protocol/vectors/search_query.json) against the JS port.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parseQuery, textMatches, timeMatches, composeQuery, personNamed } from '../src/lib/search-query.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../sync_protocol/vectors/search_query.json', import.meta.url), 'utf8'),
);

describe('search_query.json', () => {
  for (const vector of vectors) {
    test(vector.comment, () => {
      if ('person' in vector) {
        const { id, name, email } = vector.person;
        assert.equal(personNamed(vector.name, id, name, email), vector.names_person);
        return;
      }
      const parsed = parseQuery(vector.query);
      if ('parsed' in vector) assert.deepEqual(parsed, vector.parsed);
      if ('matches' in vector) assert.equal(textMatches(parsed, vector.text), vector.matches);
      if ('time_matches' in vector) assert.equal(timeMatches(parsed, vector.at), vector.time_matches);
    });
  }
});

test('the search form composes the same syntax people type', () => {
  const q = composeQuery({ text: 'outage', channel: 'ops', person: 'ada@example.com', after: '2026-11-01' });
  assert.equal(q, 'outage in:#ops from:@ada@example.com after:2026-11-01');
  assert.deepEqual(parseQuery(q).channels, ['ops']);
});
