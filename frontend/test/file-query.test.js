// Finding files by name against the shared vectors (Python runs them too: tests/unit/test_file_query.py).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { splitFileFilter, searchFiles } from '../src/lib/file-query.js';
import { parseQuery } from '../src/lib/search-query.js';

const cases = JSON.parse(readFileSync(new URL('../../sync_protocol/vectors/file_query.json', import.meta.url), 'utf8'));

for (const c of cases) {
  test(c.comment, () => {
    if ('split' in c) assert.deepEqual(splitFileFilter(c.split), [c.asks, c.rest]);
    else assert.deepEqual(searchFiles(parseQuery(c.query), c.files, c.channels, c.people), c.expected);
  });
}
