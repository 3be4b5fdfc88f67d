// Observable queries over tasks: what the task views read, each a computed signal over the
// replica mirror (dispatch/queries.js), so a view re-renders when its data changes and never
// keeps a copy. The rules themselves are lib/tasks.js (shared vectors with Python).
//
// A channel's board: its tasks that are not deleted, in columns by status (the default
// statuses, then the custom ones of the channel's task lists, then any status a task holds that
// no list names), each column in position order (ties by id). My tasks: open tasks assigned to
// me, grouped by due date in my zone.

import { computed } from '@preact/signals';
import { ordered } from '../lib/positions.js';
import { changedSinceSeen, dueGroup, GROUPS, progress, checklist } from '../lib/tasks.js';
import { dueMatches, splitTaskFilters, statusMatches, taskText } from '../lib/task-query.js';
import { parseQuery, personNamed, textMatches } from '../lib/search-query.js';
import { derivedId } from '../sync/registry.js';

export const DEFAULT_STATUSES = ['todo', 'doing', 'blocked', 'done'];
export const PRIORITIES = ['none', 'low', 'medium', 'high', 'urgent'];
export const zone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** Group records of a part collection by their task: task id -> [[id, fields]]. */
function byTask(collection) {
  const out = new Map();
  for (const [id, record] of collection) {
    const task = record.fields.task;
    if (!out.has(task)) out.set(task, []);
    out.get(task).push([id, record.fields]);
  }
  return out;
}

export class TaskQueries {
  #q;
  #boards = new Map();

  /** @param {import('./queries.js').Queries} queries */
  constructor(queries) {
    this.#q = queries;
    const q = queries;
    this.tasks = q.collection('tasks');
    this.byChannel = computed(() => {
      const out = new Map();
      for (const [id, record] of this.tasks.value) {
        const f = record.fields;
        if (f.deleted === true) continue;
        if (!out.has(f.channel)) out.set(f.channel, []);
        out.get(f.channel).push([id, f]);
      }
      return out;
    });
    this.assignees = computed(() => byTask(q.collection('task_assignees').value));
    this.labels = computed(() => byTask(q.collection('task_labels').value));
    this.items = computed(() => byTask(q.collection('task_items').value));
    this.mine = computed(() => {
      const me = q.me.value;
      const ids = [];
      for (const [, record] of q.collection('task_assignees').value) {
        if (record.fields.user === me && record.fields.on === true) ids.push(record.fields.task);
      }
      return ids;
    });
    /** My open tasks by due group: {overdue: [[id, fields]], today: ..., ...}. */
    this.myTasks = computed(() => {
      const groups = Object.fromEntries(GROUPS.map((g) => [g, []]));
      const now = Date.now();
      const here = zone();
      const tasks = this.tasks.value;
      for (const id of this.mine.value) {
        const f = tasks.get(id)?.fields;
        if (!f || f.deleted === true || f.status === 'done') continue;
        groups[dueGroup(f.due, f.due_tz, now, here)].push([id, f]);
      }
      for (const g of GROUPS) groups[g].sort(([a, fa], [b, fb]) => (String(fa.due ?? '') < String(fb.due ?? '') ? -1 : String(fa.due ?? '') > String(fb.due ?? '') ? 1 : a < b ? -1 : 1));
      return groups;
    });
    this.overdueCount = computed(() => this.myTasks.value.overdue.length);
  }

  task(id) {
    return this.tasks.value.get(id)?.fields ?? null;
  }

  /** The statuses of a channel's board: defaults, then its lists' custom ones, then strays. */
  statuses(channel) {
    const out = [...DEFAULT_STATUSES];
    for (const [, record] of this.#q.collection('task_lists').value) {
      const f = record.fields;
      if (f.channel !== channel || f.deleted) continue;
      for (const s of String(f.statuses ?? '').split('\n').map((x) => x.trim()).filter(Boolean)) if (!out.includes(s)) out.push(s);
    }
    return out;
  }

  /** A channel's board, as a computed signal: {statuses, columns: Map<status, string[]>}. */
  board(channel) {
    let board = this.#boards.get(channel);
    if (!board) {
      board = computed(() => {
        const statuses = this.statuses(channel);
        const groups = new Map(statuses.map((s) => [s, []]));
        for (const entry of this.byChannel.value.get(channel) ?? []) {
          const status = entry[1].status || 'todo';
          if (!groups.has(status)) {
            groups.set(status, []);
            statuses.push(status);
          }
          groups.get(status).push(entry);
        }
        const columns = new Map();
        for (const [status, entries] of groups) columns.set(status, ordered(entries));
        return { statuses, columns };
      });
      this.#boards.set(channel, board);
    }
    return board;
  }

  assigneesOf(task) {
    return (this.assignees.value.get(task) ?? []).filter(([, f]) => f.on === true).map(([, f]) => f.user).sort();
  }

  labelsOf(task) {
    return [...new Set((this.labels.value.get(task) ?? []).filter(([, f]) => f.on === true).map(([, f]) => f.label))].sort();
  }

  /** Checklist item ids in order, and the items by id. */
  checklistOf(task) {
    const items = Object.fromEntries(this.items.value.get(task) ?? []);
    return { order: checklist(items), items, progress: progress(items) };
  }

  seenAt(task) {
    const me = this.#q.me.value;
    return this.#q.record('task_seen', derivedId('task_seen', { user: me, task }))?.fields.at ?? null;
  }

  /** The dot: someone else changed the task since I last opened it. */
  changed(task) {
    const f = this.task(task);
    return f ? changedSinceSeen(f, this.seenAt(task), this.#q.me.value) : false;
  }

  /**
   * Offline search of tasks with the shared syntax (is:task, assignee:, status:, due:, words);
   * null when the query asks nothing of tasks.
   */
  search(query, { limit = 50 } = {}) {
    const [filters, rest] = splitTaskFilters(query);
    if (!filters.tasks) return null;
    const parsed = parseQuery(rest);
    const me = this.#q.me.value;
    const named = (value, id) => {
      if (value.toLowerCase() === 'me') return id === me;
      const u = this.#q.user(id) ?? {};
      return personNamed(value, id, u.name, u.email);
    };
    const now = Date.now();
    const here = zone();
    const results = [];
    for (const [, entries] of this.byChannel.value) {
      for (const [id, f] of entries) {
        if (!textMatches(parsed, taskText(f.title, f.description))) continue;
        if (!statusMatches(filters, f.status)) continue;
        if (filters.due && !dueMatches(filters, f.due ?? null, dueGroup(f.due, f.due_tz, now, here))) continue;
        if (filters.assignees.length) {
          const who = this.assigneesOf(id);
          if (!filters.assignees.some((v) => who.some((p) => named(v, p)))) continue;
        }
        results.push({ id, channel: f.channel, title: f.title, status: f.status ?? null, due: f.due ?? null, changed: f.changed ?? 0 });
      }
    }
    results.sort((a, b) => b.changed - a.changed);
    return { results: results.slice(0, limit), total: results.length };
  }
}
