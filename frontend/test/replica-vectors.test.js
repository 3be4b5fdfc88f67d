// sync_protocol/vectors/replica.json against the IndexedDB replica (fake-indexeddb): acks,
// rejections, cursors, dropped scopes, late replies and live frames. Python runs the same file
// against sync_protocol/replica.py (tests/unit/test_vectors.py).

import 'fake-indexeddb/auto';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { Replica } from '../src/replica/replica.js';

const T0 = 1_764_172_800_000;
const CASES = JSON.parse(readFileSync(new URL('../../sync_protocol/vectors/replica.json', import.meta.url), 'utf8'));
let dbs = 0;

describe('replica.json', () => {
  for (const { comment, steps, expected } of CASES) {
    test(comment, async () => {
      const replica = await Replica.open(`replica-vector-${++dbs}`);
      await replica.setSession({ user: { id: 'U1', name: 'Ada' }, device: 'dev1', workspace: { name: 'W' } });
      for (const step of steps) {
        if (step.write) await replica.write([step.write], T0);
        else if (step.reply) {
          const { sent = null, ...body } = step.reply;
          await replica.applyResponse({ v: 1, server_time: T0, ...body }, T0, sent);
        } else {
          const { applied } = await replica.applyLive(step.live, T0);
          assert.equal(applied, step.applied);
        }
      }
      const { records, outbox, failed, meta } = await replica.snapshot();
      assert.deepEqual(Object.fromEntries(records.map((r) => [`${r.collection}/${r.id}`, r.fields])), expected.records);
      assert.deepEqual(outbox.map((m) => m.mid), expected.pending);
      assert.deepEqual(Object.fromEntries(failed.map((f) => [String(f.mid), f.code])), expected.failed);
      assert.deepEqual(meta.cursors ?? {}, expected.cursors);
      replica.close();
    });
  }
});
