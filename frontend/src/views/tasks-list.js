// The list: every task of the channel in a table, sortable by title, status, due date or
// priority, filterable by assignee, label, status and due group (lib/tasks.js Rule 4). "Deleted
// tasks" lists the channel's deleted ones instead: their panel offers "Restore task".

import { useState } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { GROUPS, dueGroup } from '../lib/tasks.js';
import { PRIORITIES, zone } from '../dispatch/task-queries.js';
import { statusName } from './tasks-board.js';

const SORTS = ['title', 'status', 'due', 'priority'];

function sortValue(task, by) {
  if (by === 'priority') return PRIORITIES.length - PRIORITIES.indexOf(task.priority ?? 'none');
  if (by === 'due') return task.due || '~';
  return String(task[by] ?? '').toLowerCase();
}

export function TaskList({ app, channelId, openHref }) {
  const tq = app.tasks;
  const [sort, setSort] = useState({ by: 'due', up: true });
  const [filter, setFilter] = useState({ assignee: '', label: '', status: '', due: '' });
  const [deleted, setDeleted] = useState(false);
  const entries = deleted ? tq.deletedOf(channelId) : tq.entriesOf(channelId);
  const statuses = tq.board(channelId).value.statuses;
  const members = app.queries.membersOf(channelId);
  const labels = [...new Set(entries.flatMap(([id]) => tq.labelsOf(id)))].sort();
  const now = Date.now();
  const here = zone();
  const rows = entries.filter(([id, f]) =>
    (!filter.assignee || tq.assigneesOf(id).includes(filter.assignee))
    && (!filter.label || tq.labelsOf(id).includes(filter.label))
    && (!filter.status || (f.status || 'todo') === filter.status)
    && (!filter.due || dueGroup(f.due, f.due_tz, now, here) === filter.due));
  rows.sort(([a, fa], [b, fb]) => {
    const x = sortValue(fa, sort.by);
    const y = sortValue(fb, sort.by);
    const order = x < y ? -1 : x > y ? 1 : a < b ? -1 : 1;
    return sort.up ? order : -order;
  });
  // Functional updates: drawing waits for the next frame, so two changes before it must both hold.
  const set = (name) => (e) => {
    const value = e.currentTarget.value;
    setFilter((was) => ({ ...was, [name]: value }));
  };
  const select = (name, label, options) => html`<div class="field field--inline">
    <label for=${`task-filter-${name}`}>${label}</label>
    <select id=${`task-filter-${name}`} value=${filter[name]} onChange=${set(name)}>
      <option value="">${t('tasks.any')}</option>
      ${options.map(([value, text]) => html`<option value=${value}>${text}</option>`)}
    </select>
  </div>`;
  return html`<div class="task-list">
    <div class="task-filters">
      ${select('assignee', t('tasks.assignee'), members.map((u) => [u, app.queries.userName(u) || u]))}
      ${select('label', t('tasks.label'), labels.map((l) => [l, l]))}
      ${select('status', t('tasks.statusLabel'), statuses.map((s) => [s, statusName(s)]))}
      ${select('due', t('tasks.due'), GROUPS.map((g) => [g, t(`tasks.group.${g}`)]))}
      <label class="task-check"><input type="checkbox" checked=${deleted} onChange=${(e) => setDeleted(e.currentTarget.checked)} />
        ${t('tasks.showDeleted')}</label>
    </div>
    <table class="task-table">
      <thead><tr>
        ${SORTS.map((by) => html`<th scope="col" aria-sort=${sort.by === by ? (sort.up ? 'ascending' : 'descending') : 'none'}>
          <button type="button" class="task-table__sort" onClick=${() => setSort((was) => ({ by, up: was.by === by ? !was.up : true }))}>${t(`tasks.sort.${by}`)}</button>
        </th>`)}
        <th scope="col">${t('tasks.assignees')}</th>
      </tr></thead>
      <tbody>
        ${rows.map(([id, f]) => html`<tr key=${id}>
          <td><a href=${openHref(id)}>${tq.changed(id) ? html`<span class="task-dot" role="img" aria-label=${t('tasks.changed')}></span>` : null}${f.title}</a></td>
          <td>${statusName(f.status || 'todo')}</td>
          <td>${f.due ? f.due.replace('T', ' ') : ''}</td>
          <td>${f.priority && f.priority !== 'none' ? t(`tasks.priority.${f.priority}`) : ''}</td>
          <td>${tq.assigneesOf(id).map((u) => app.queries.userName(u)).join(', ')}</td>
        </tr>`)}
      </tbody>
    </table>
    ${rows.length ? null : html`<p class="empty">${t('tasks.none')}</p>`}
  </div>`;
}
