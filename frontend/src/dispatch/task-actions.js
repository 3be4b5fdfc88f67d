// What a person does to tasks: each a change (or a few) through Actions#writeChanges, so tasks
// are offline-first like messages (the outbox, then sync). A move writes one change: the moved
// card's new position (and status, when it changes column), never its neighbours'.

import { ulid } from '../lib/ulid.js';
import { keyAt, keyBetween } from '../lib/positions.js';
import { derivedId } from '../sync/registry.js';

export class TaskActions {
  #actions;
  #queries;
  #tasks;
  #now;

  constructor({ actions, queries, tasks, now = Date.now }) {
    this.#actions = actions;
    this.#queries = queries;
    this.#tasks = tasks;
    this.#now = now;
  }

  #write(changes) {
    return this.#actions.writeChanges(changes);
  }

  /** A new task at the end of its status column. */
  async create(channel, { title, status = 'todo', message = null, description = '' }) {
    const id = ulid(this.#now());
    const column = this.#tasks.board(channel).value.columns.get(status) ?? [];
    const last = column.length ? this.#tasks.task(column[column.length - 1])?.position ?? null : null;
    const fields = { channel, title, status, position: keyBetween(last, null) };
    if (message) fields.message = message;
    if (description) fields.description = description;
    await this.#write([{ collection: 'tasks', id, fields }]);
    return id;
  }

  /** "Create task from message": the task keeps a link back to the message. */
  createFromMessage(messageId) {
    const m = this.#queries.record('messages', messageId)?.fields;
    if (!m) return null;
    const title = String(m.text ?? '').split('\n')[0].slice(0, 200) || '…';
    return this.create(m.channel, { title, message: messageId, description: String(m.text ?? '') });
  }

  update(id, fields) {
    return this.#write([{ collection: 'tasks', id, fields }]);
  }

  remove(id) {
    return this.#write([{ collection: 'tasks', id, fields: { deleted: true } }]);
  }

  /**
   * Move a task to `status` at `index` of that column (display order without the task).
   * Exactly one change: the task's position, and its status if it changes.
   */
  move(id, status, index) {
    const task = this.#tasks.task(id);
    if (!task) return null;
    const column = (this.#tasks.board(task.channel).value.columns.get(status) ?? []).filter((x) => x !== id);
    const position = keyAt(column, (x) => this.#tasks.task(x)?.position ?? null, Math.max(0, Math.min(index, column.length)));
    const fields = { position };
    if ((task.status || 'todo') !== status) fields.status = status;
    return this.#write([{ collection: 'tasks', id, fields }]);
  }

  /**
   * A custom status for a channel's board: one more line in the `statuses` of the channel's
   * task list (the first list by id; one is made, "Tasks", when the channel has none). Two lists
   * made at once on two offline devices both count: the board shows every list's statuses.
   */
  addStatus(channel, status) {
    const name = status.trim().slice(0, 40);
    if (!name || this.#tasks.statuses(channel).includes(name)) return null;
    const lists = [...this.#queries.collection('task_lists').value]
      .filter(([, r]) => r.fields.channel === channel && r.fields.deleted !== true)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    if (!lists.length) {
      return this.#write([{ collection: 'task_lists', id: ulid(this.#now()), fields: { channel, name: 'Tasks', statuses: name } }]);
    }
    const [id, record] = lists[0];
    const lines = String(record.fields.statuses ?? '').split('\n').map((x) => x.trim()).filter(Boolean);
    return this.#write([{ collection: 'task_lists', id, fields: { statuses: [...lines, name].join('\n').slice(0, 1000) } }]);
  }

  assign(task, user, on = true) {
    const channel = this.#tasks.task(task)?.channel;
    const id = derivedId('task_assignees', { task, user });
    const held = this.#queries.record('task_assignees', id);
    return this.#write([{ collection: 'task_assignees', id, fields: held ? { on } : { task, user, channel, on } }]);
  }

  label(task, label, on = true) {
    const channel = this.#tasks.task(task)?.channel;
    const id = derivedId('task_labels', { task, label });
    const held = this.#queries.record('task_labels', id);
    return this.#write([{ collection: 'task_labels', id, fields: held ? { on } : { task, channel, label, on } }]);
  }

  addItem(task, text) {
    const channel = this.#tasks.task(task)?.channel;
    const { order, items } = this.#tasks.checklistOf(task);
    const last = order.length ? items[order[order.length - 1]].position ?? null : null;
    const id = ulid(this.#now());
    return this.#write([{ collection: 'task_items', id, fields: { task, channel, text, position: keyBetween(last, null) } }]);
  }

  updateItem(id, fields) {
    return this.#write([{ collection: 'task_items', id, fields }]);
  }

  removeItem(id) {
    return this.#write([{ collection: 'task_items', id, fields: { deleted: true } }]);
  }

  /** Move a checklist item to `index` (order without it): one change. */
  moveItem(task, id, index) {
    const { order, items } = this.#tasks.checklistOf(task);
    const rest = order.filter((x) => x !== id);
    const position = keyAt(rest, (x) => items[x]?.position ?? null, Math.max(0, Math.min(index, rest.length)));
    return this.#write([{ collection: 'task_items', id, fields: { position } }]);
  }

  /** Opening a task: my cursor = the change stamp I saw (the dot goes on all my devices). */
  markSeen(task) {
    const f = this.#tasks.task(task);
    const me = this.#queries.me.value;
    if (!f || !Number.isInteger(f.changed) || !me) return null;
    const id = derivedId('task_seen', { user: me, task });
    const held = this.#queries.record('task_seen', id);
    if (held && held.fields.at >= f.changed) return null;
    return this.#write([{ collection: 'task_seen', id, fields: held ? { at: f.changed } : { task, channel: f.channel, user: me, at: f.changed } }]);
  }

  /** A comment: a message with an immutable `task`, numbered in the task (mentions as in chat). */
  comment(task, text) {
    const f = this.#tasks.task(task);
    if (!f) return null;
    return this.#actions.sendMessage(f.channel, text, { task });
  }
}
