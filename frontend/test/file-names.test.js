// Displayed file names against the shared vectors (Python runs them too: tests/unit/test_file_names.py).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { displayName } from '../src/lib/file-names.js';

const cases = JSON.parse(readFileSync(new URL('../../sync_protocol/vectors/file_names.json', import.meta.url), 'utf8'));
const text = (c, key) => (c[`${key}_repeat`] ? c[`${key}_repeat`][0].repeat(c[`${key}_repeat`][1]) : c[key]);

for (const c of cases) {
  test(c.comment, () => assert.equal(displayName(text(c, 'given')), text(c, 'expected')));
}
