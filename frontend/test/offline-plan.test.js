// The keep-offline planner on its vectors (test/offline-plan.vectors.json). A channel's messages
// may be written "SERIES:first:count:firstAt:bytes[:pending=n]" (n = first.., at = firstAt + i).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as plan from '../src/lib/offline-plan.js';

const vectors = JSON.parse(readFileSync(new URL('./offline-plan.vectors.json', import.meta.url), 'utf8'));

function series(spec) {
  const [, first, count, at, bytes, pending] = spec.split(':');
  const pendingN = pending ? Number(pending.split('=')[1]) : null;
  return Array.from({ length: Number(count) }, (_, i) => ({
    n: Number(first) + i,
    at: Number(at) + i,
    bytes: Number(bytes),
    ...(Number(first) + i === pendingN ? { pending: true } : {}),
  }));
}

function expand(value) {
  if (typeof value === 'string' && value.startsWith('SERIES:')) return series(value);
  if (Array.isArray(value)) return value.map(expand);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expand(v)]));
  return value;
}

describe('offline-plan.vectors.json', () => {
  for (const vector of vectors) {
    test(`${vector.fn}: ${vector.comment}`, () => {
      assert.deepEqual(plan[vector.fn](...expand(vector.given)), vector.expected);
    });
  }
});

test('every planner function has vectors', () => {
  const covered = new Set(vectors.map((v) => v.fn));
  for (const fn of ['defaultKeep', 'defaultBudget', 'nextStep', 'resumeAfter', 'evictionPlan', 'coverage']) assert.ok(covered.has(fn), fn);
});
