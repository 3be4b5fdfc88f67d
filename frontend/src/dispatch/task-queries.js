// Observable queries over tasks: what the task views read, each a computed signal over the
// replica mirror (dispatch/queries.js), so a view re-renders when its data changes and never
// keeps a copy. The rules themselves are lib/tasks.js (shared vectors with Python).
//
// A channel's board: its tasks that are not deleted, in columns by status (the default
// statuses, then the custom ones of the channel's task lists, then any status a task holds that
// no list names), each column in position order (ties by id). My tasks: open tasks assigned to
// me, grouped by due date in my zone.

import { batch, computed, signal } from '@preact/signals';
import { comparePositioned, ordered } from '../lib/positions.js';
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
  #store;
  #boards = new Map();
  /** channel -> Map(task id -> fields), tasks not deleted; kept in step as records change. */
  #byChannel = new Map();
  #channelOf = new Map();
  #channelVersions = new Map();
  /** task id -> Map(record id -> fields), per part collection. */
  #parts = { task_assignees: new Map(), task_labels: new Map(), task_items: new Map() };
  #partOf = new Map();
  /** The tasks assigned to me (ids). */
  #mine = new Set();
  /** channel -> task ids changed since its board was last worked out. */
  #dirty = new Map();
  #generation = 0;
  #mineVersion = signal(0);
  #partsVersion = signal(0);
  #allVersion = signal(0);

  /**
   * @param {import('./queries.js').Queries} queries
   * @param {import('./store.js').Store} store
   */
  constructor(queries, store) {
    this.#q = queries;
    this.#store = store;
    this.tasks = queries.collection('tasks');
    // Incremental, like the message index: a change to one task touches its channel's board
    // and, if it is mine, My tasks; never a pass over every task of every channel.
    store.subscribe({
      changed: (collection, ids) => this.#changed(collection, ids),
      reset: () => this.#rebuild(),
      failed: () => {},
    });
    this.#rebuild();
    this.byChannel = computed(() => {
      this.#allVersion.value;
      return new Map([...this.#byChannel].map(([channel, tasks]) => [channel, [...tasks]]));
    });
    // Each a new view per change (a signal passes on only a new value), over maps kept in place.
    const view = (map) => ({ get: (task) => map.get(task) });
    this.assignees = computed(() => (this.#partsVersion.value, view(this.#parts.task_assignees)));
    this.labels = computed(() => (this.#partsVersion.value, view(this.#parts.task_labels)));
    this.items = computed(() => (this.#partsVersion.value, view(this.#parts.task_items)));
    /** My open tasks by due group: {overdue: [[id, fields]], today: ..., ...}. */
    this.myTasks = computed(() => {
      this.#mineVersion.value;
      const groups = Object.fromEntries(GROUPS.map((g) => [g, []]));
      const now = Date.now();
      const here = zone();
      for (const id of this.#mine) {
        const f = this.#byChannel.get(this.#channelOf.get(id))?.get(id);
        if (!f || f.status === 'done') continue;
        groups[dueGroup(f.due, f.due_tz, now, here)].push([id, f]);
      }
      const byDue = ([a, fa], [b, fb]) => {
        const x = fa.due ?? '~';
        const y = fb.due ?? '~';
        return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
      };
      for (const g of GROUPS) groups[g].sort(byDue);
      return groups;
    });
    this.overdueCount = computed(() => this.myTasks.value.overdue.length);
    /**
     * My open tasks that someone else changed since I last opened them: a new assignment (the
     * assignee record marks the task changed by whoever assigned me), a comment, an edit. The
     * in-app notice of an assignment (the sidebar's "new" count); derived from my cursors, so
     * it agrees on all my devices and goes when I open the task.
     */
    this.newForMe = computed(() => {
      const groups = this.myTasks.value;
      this.#q.collection('task_seen').value;
      const me = this.#q.me.value;
      let count = 0;
      for (const g of GROUPS) {
        for (const [id, f] of groups[g]) if (f.changed_by !== me && changedSinceSeen(f, this.seenAt(id), me)) count += 1;
      }
      return count;
    });
  }

  #version(channel) {
    let v = this.#channelVersions.get(channel);
    if (!v) {
      v = signal(0);
      this.#channelVersions.set(channel, v);
    }
    return v;
  }

  #markDirty(channel, id) {
    if (!this.#dirty.has(channel)) this.#dirty.set(channel, new Set());
    this.#dirty.get(channel).add(id);
  }

  #placeTask(id, bumped) {
    const fields = this.#store.shown('tasks', id)?.fields;
    const before = this.#channelOf.get(id);
    const after = fields && fields.deleted !== true ? fields.channel : undefined;
    if (before !== undefined) this.#markDirty(before, id);
    if (after !== undefined) this.#markDirty(after, id);
    if (before !== undefined && before !== after) {
      this.#byChannel.get(before)?.delete(id);
      this.#channelOf.delete(id);
      bumped.add(before);
    }
    if (after !== undefined) {
      if (!this.#byChannel.has(after)) this.#byChannel.set(after, new Map());
      this.#byChannel.get(after).set(id, fields);
      this.#channelOf.set(id, after);
      bumped.add(after);
    }
  }

  #placePart(collection, id) {
    const fields = this.#store.shown(collection, id)?.fields;
    const task = fields?.task ?? this.#partOf.get(`${collection}/${id}`);
    if (task === undefined) return false;
    const parts = this.#parts[collection];
    if (!parts.has(task)) parts.set(task, new Map());
    if (fields) {
      parts.get(task).set(id, fields);
      this.#partOf.set(`${collection}/${id}`, task);
    } else parts.get(task).delete(id);
    if (collection === 'task_assignees' && fields && fields.user === this.#store.meta.peek().user) {
      if (fields.on === true) this.#mine.add(task);
      else this.#mine.delete(task);
      return true;
    }
    return false;
  }

  #changed(collection, ids) {
    if (collection === 'tasks') {
      const bumped = new Set();
      let mine = false;
      for (const id of ids) {
        this.#placeTask(id, bumped);
        if (this.#mine.has(id)) mine = true;
      }
      batch(() => {
        for (const channel of bumped) this.#version(channel).value += 1;
        this.#allVersion.value += 1;
        if (mine) this.#mineVersion.value += 1;
      });
    } else if (collection in this.#parts) {
      let mine = false;
      for (const id of ids) mine = this.#placePart(collection, id) || mine;
      batch(() => {
        this.#partsVersion.value += 1;
        if (mine) this.#mineVersion.value += 1;
      });
    }
  }

  #rebuild() {
    this.#dirty.clear();
    this.#generation += 1; // every board is worked out again in full
    this.#byChannel.clear();
    this.#channelOf.clear();
    this.#mine.clear();
    this.#partOf.clear();
    for (const parts of Object.values(this.#parts)) parts.clear();
    const bumped = new Set();
    for (const [id] of this.#store.shownEntries('tasks')) this.#placeTask(id, bumped);
    for (const collection of Object.keys(this.#parts)) {
      for (const [id] of this.#store.shownEntries(collection)) this.#placePart(collection, id);
    }
    batch(() => {
      for (const v of this.#channelVersions.values()) v.value += 1;
      this.#allVersion.value += 1;
      this.#partsVersion.value += 1;
      this.#mineVersion.value += 1;
    });
  }

  /** A channel's tasks (not deleted) as [id, fields] entries; reading it subscribes to that channel only. */
  entriesOf(channel) {
    this.#version(channel).value;
    return [...(this.#byChannel.get(channel) ?? [])];
  }

  /** A channel's deleted tasks as [id, fields] entries: where "Restore task" starts (the list). */
  deletedOf(channel) {
    const out = [];
    for (const [id, record] of this.tasks.value) {
      if (record.fields.channel === channel && record.fields.deleted === true) out.push([id, record.fields]);
    }
    return out;
  }

  /** One task's fields (deleted ones too), or null. Reading it subscribes to its channel's version. */
  task(id) {
    const channel = this.#channelOf.get(id);
    if (channel !== undefined) this.#version(channel).value;
    else this.#allVersion.value;
    return this.#store.shown('tasks', id)?.fields ?? null;
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
      let last = null;
      let generation = -1;
      board = computed(() => {
        const statuses = this.statuses(channel);
        this.#version(channel).value;
        const dirty = this.#dirty.get(channel);
        this.#dirty.delete(channel);
        // A few tasks changed (a remote edit, a move): place just them in the last columns,
        // so one card's change costs a binary search, not a regroup and sort of the channel.
        const same = generation === this.#generation;
        generation = this.#generation;
        if (same && last && dirty && dirty.size <= 64 && statuses.every((x) => last.statuses.includes(x))) {
          last = this.#placeOnBoard(channel, last, dirty);
          return last;
        }
        const groups = new Map(statuses.map((x) => [x, []]));
        for (const entry of this.entriesOf(channel)) {
          const status = entry[1].status || 'todo';
          if (!groups.has(status)) {
            groups.set(status, []);
            statuses.push(status);
          }
          groups.get(status).push(entry);
        }
        const columns = new Map();
        for (const [status, entries] of groups) columns.set(status, ordered(entries));
        last = { statuses, columns };
        return last;
      });
      this.#boards.set(channel, board);
    }
    return board;
  }

  /** The last board with the `dirty` tasks taken out of their columns and put back where they sort. */
  #placeOnBoard(channel, last, dirty) {
    const tasks = this.#byChannel.get(channel) ?? new Map();
    const columns = new Map(last.columns);
    const statuses = [...last.statuses];
    const touched = new Set();
    const copy = (status) => {
      if (!touched.has(status)) {
        columns.set(status, [...(columns.get(status) ?? [])]);
        touched.add(status);
      }
      return columns.get(status);
    };
    for (const id of dirty) {
      for (const [status, ids] of columns) {
        if (ids.includes(id)) copy(status).splice(columns.get(status).indexOf(id), 1);
      }
      const fields = tasks.get(id);
      if (!fields) continue;
      const status = fields.status || 'todo';
      if (!columns.has(status)) statuses.push(status);
      const ids = copy(status);
      const entry = /** @type {[string, any]} */ ([id, fields]);
      let low = 0;
      let high = ids.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (comparePositioned(/** @type {[string, any]} */ ([ids[mid], tasks.get(ids[mid])]), entry) < 0) low = mid + 1;
        else high = mid;
      }
      ids.splice(low, 0, id);
    }
    return { statuses, columns };
  }

  assigneesOf(task) {
    return [...(this.assignees.value.get(task)?.values() ?? [])].filter((f) => f.on === true).map((f) => f.user).sort();
  }

  labelsOf(task) {
    return [...new Set([...(this.labels.value.get(task)?.values() ?? [])].filter((f) => f.on === true).map((f) => f.label))].sort();
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

  /** The dot: someone else changed the task since I last opened it (`fields`: when held already). */
  changed(task, fields = this.task(task)) {
    return fields ? changedSinceSeen(fields, this.seenAt(task), this.#q.me.value) : false;
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
