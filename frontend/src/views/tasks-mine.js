// My tasks: open tasks assigned to me in every channel, grouped by due date in my zone
// (overdue, today, this week, later, no date: lib/tasks.js Rule 4), read from the replica.

import { useState } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { GROUPS } from '../lib/tasks.js';
import { MainHeader } from './header.js';
import { taskHref } from './router.js';
import { statusName } from './tasks-board.js';

const PAGE = 50;

/** The sidebar's count of my tasks changed by others since I opened them (a new assignment, ...). */
export function NewTasksBadge({ count }) {
  if (!count) return null;
  return html`<span class="badge badge--new-tasks">${count}<span class="visually-hidden"> ${t('tasks.newSuffix')}</span></span>`;
}

export function MyTasksView({ app }) {
  const groups = app.tasks.myTasks.value;
  const [shown, setShown] = useState({});
  const total = GROUPS.reduce((n, g) => n + groups[g].length, 0);
  return html`<section class="main main--my-tasks" aria-labelledby="main-title">
    <${MainHeader} app=${app} title=${t('tasks.mine')} />
    <div class="page my-tasks">
      ${total ? null : html`<p class="empty">${t('tasks.mineEmpty')}</p>`}
      ${GROUPS.filter((g) => groups[g].length).map((g) => html`<section key=${g} class="my-tasks__group" aria-labelledby=${`my-${g}`}>
        <h2 id=${`my-${g}`} class=${`my-tasks__title my-tasks__title--${g}`}>${t(`tasks.group.${g}`)} <span class="task-column__count">${groups[g].length}</span></h2>
        <ul class="my-tasks__list" role="list">
          ${groups[g].slice(0, shown[g] ?? PAGE).map(([id, f]) => html`<li key=${id} class="my-task">
            <a href=${taskHref(f.channel, id)}>
              ${app.tasks.changed(id, f) ? html`<span class="task-dot" role="img" aria-label=${t('tasks.changed')}></span>` : null}
              <span class="my-task__title">${f.title}</span>
            </a>
            <span class="my-task__meta">#${app.queries.record('channels', f.channel)?.fields.name ?? ''} · ${statusName(f.status || 'todo')}${f.due ? ` · ${f.due.replace('T', ' ')}` : ''}</span>
          </li>`)}
        </ul>
        ${groups[g].length > (shown[g] ?? PAGE)
          ? html`<button type="button" class="button button--small button--ghost" onClick=${() => setShown((was) => ({ ...was, [g]: (was[g] ?? PAGE) + PAGE }))}>
              ${t('tasks.showMore', { count: groups[g].length - (shown[g] ?? PAGE) })}</button>`
          : null}
      </section>`)}
    </div>
  </section>`;
}
