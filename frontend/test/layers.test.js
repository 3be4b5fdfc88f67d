// The layers of ARCHITECTURE.md: views read from dispatch and write through actions; they never
// talk to the network themselves (no transport, fetch or socket in src/views/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';

const views = new URL('../src/views/', import.meta.url);

test('no view reaches the network directly', () => {
  const offenders = [];
  // Views live in src/views/ and its folders (src/views/calendar/ ...).
  const names = readdirSync(views).flatMap((name) =>
    statSync(new URL(name, views)).isDirectory() ? readdirSync(new URL(`${name}/`, views)).map((inner) => `${name}/${inner}`) : [name],
  );
  for (const name of names) {
    const source = readFileSync(new URL(name, views), 'utf8');
    for (const pattern of [/\btransport\b/i, /\bfetch\s*\(/, /\bWebSocket\b/, /sync\/(transport|live|round)\.js/]) {
      if (pattern.test(source)) offenders.push(`${name}: ${pattern}`);
    }
  }
  assert.deepEqual(offenders, []);
});
