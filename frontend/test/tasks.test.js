// Tasks' shared vectors (positions.json, tasks.json) against the JS code; Python runs the same
// files in tests/unit/test_task_vectors.py.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { keyAt, keyBetween, keysBetween, ordered } from '../src/lib/positions.js';
import { dueMatches, splitTaskFilters, statusMatches } from '../src/lib/task-query.js';
import * as tasks from '../src/lib/tasks.js';
import { apply } from '../src/sync/merge.js';

const load = (name) =>
  JSON.parse(readFileSync(new URL(`../../sync_protocol/vectors/${name}.json`, import.meta.url), 'utf8'));

describe('positions.json', () => {
  for (const c of load('positions')) {
    test(c.comment, () => {
      if (c.between) {
        const [a, b] = c.between;
        if (c.error) assert.throws(() => keyBetween(a, b));
        else if ('n' in c) assert.deepEqual(keysBetween(a, b, c.n), c.expected);
        else assert.equal(keyBetween(a, b), c.expected);
      } else if (c.drop) {
        const { ids, positions, index } = c.drop;
        assert.equal(keyAt(ids, (id) => positions[id] ?? null, index), c.expected);
      } else if (c.moves) {
        for (const moves of [c.moves, [...c.moves].reverse()]) {
          const states = Object.fromEntries(
            Object.entries(c.cards).map(([id, p]) => [id, apply(null, { position: p }, '1780000000000-00000-seed')]),
          );
          for (const m of moves) states[m.id] = apply(states[m.id], { position: m.position }, m.hlc);
          assert.deepEqual(ordered(Object.entries(states).map(([id, s]) => [id, s.fields])), c.expected);
        }
      } else {
        assert.deepEqual(ordered(Object.entries(c.order).map(([id, p]) => [id, { position: p }])), c.expected);
      }
    });
  }
});

/** Part records after the changes of two devices: separate records merge per field. */
function mergedRecords(spec, changes) {
  const states = Object.fromEntries(Object.entries(spec.held).map(([id, f]) => [id, apply(null, f, '1780000000000-00000-seed')]));
  for (const c of changes) states[c.id] = apply(states[c.id] ?? null, c.fields, c.hlc);
  return Object.fromEntries(Object.entries(states).map(([id, s]) => [id, s.fields]));
}

describe('tasks.json', () => {
  for (const c of load('tasks')) {
    test(c.comment, () => {
      if (c.records) {
        for (const changes of [c.records.changes, [...c.records.changes].reverse()]) {
          const held = mergedRecords(c.records, changes);
          if (c.records.kind === 'items') {
            assert.deepEqual(tasks.checklist(held), c.expected.order);
            assert.deepEqual(tasks.progress(held), c.expected.progress);
            assert.deepEqual(c.expected.order.map((id) => held[id].text), c.expected.texts);
          } else {
            const derive = c.records.kind === 'assignees' ? tasks.assignees : tasks.labels;
            assert.deepEqual(derive(Object.values(held)), c.expected);
          }
        }
      } else if (c.assignees) assert.deepEqual(tasks.assignees(c.assignees), c.expected);
      else if (c.labels) assert.deepEqual(tasks.labels(c.labels), c.expected);
      else if (c.items) {
        assert.deepEqual(tasks.checklist(c.items), c.expected.order);
        assert.deepEqual(tasks.progress(c.items), c.expected.progress);
      } else if ('seen' in c) assert.equal(tasks.changedSinceSeen(c.task, c.seen, c.me), c.expected);
      else assert.equal(tasks.dueGroup(c.due, c.due_tz, c.now, c.zone), c.expected);
    });
  }
});

describe('task_query.json', () => {
  for (const c of load('task_query')) {
    test(c.comment, () => {
      const [filters, rest] = splitTaskFilters(c.query);
      if (c.filters) {
        assert.deepEqual(filters, c.filters);
        assert.equal(rest, c.rest);
      }
      if ('status_matches' in c) assert.equal(statusMatches(filters, c.status), c.status_matches);
      if ('due_matches' in c) assert.equal(dueMatches(filters, c.due, c.group), c.due_matches);
    });
  }
});
