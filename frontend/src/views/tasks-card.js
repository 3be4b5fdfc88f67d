// A task shared in chat: a message whose text links to a task (…#/c/<channel>/tasks/<task>)
// shows the task as a card under the text, read live from the replica, so a status change or a
// tick elsewhere redraws it. Tasks the device does not hold (another channel) show nothing.

import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { taskHref } from './router.js';
import { statusName } from './tasks-board.js';

const LINK = /#\/c\/([^/\s)]+)\/tasks\/([0-9A-Za-z_-]{1,120})/g;

/** The task ids a message's text links to, in order, once each. */
export function linkedTasks(text) {
  return [...new Set([...String(text ?? '').matchAll(LINK)].map((m) => decodeURIComponent(m[2])))];
}

export function TaskEmbeds({ app, text }) {
  if (!app.tasks || !String(text ?? '').includes('/tasks/')) return null;
  const cards = linkedTasks(text).map((id) => [id, app.tasks.task(id)]).filter(([, f]) => f && f.deleted !== true);
  if (!cards.length) return null;
  return html`<ul class="task-embeds" role="list">
    ${cards.map(([id, f]) => {
      const [done, total] = app.tasks.checklistOf(id).progress;
      const who = app.tasks.assigneesOf(id).map((u) => app.queries.userName(u)).join(', ');
      return html`<li key=${id} class="task-embed">
        <a class="task-embed__title" href=${taskHref(f.channel, id)}>${t('tasks.card')}: ${f.title}</a>
        <span class="task-embed__meta">${statusName(f.status || 'todo')}${f.due ? ` · ${f.due.replace('T', ' ')}` : ''}${total ? ` · ${t('tasks.progress', { done, total })}` : ''}${who ? ` · ${who}` : ''}</span>
      </li>`;
    })}
  </ul>`;
}

/** "Create task from message": the task links back to the message; its panel opens. */
export async function createTaskFrom(app, item) {
  const id = await app.taskActions.createFromMessage(item.id);
  if (id) location.hash = taskHref(item.channel, id);
}

/** A task found by search (server or device): its title, channel and status, opening its panel. */
export function TaskResult({ app, item }) {
  const channel = app.queries.record('channels', item.channel)?.fields;
  return html`<li class="result" data-id=${item.id}>
    <div class="result__meta">
      <span class="result__channel">${channel ? `#${channel.name}` : ''}</span>
      <span class="tag">${t('tasks.card')}</span>
      <span>${statusName(item.status || 'todo')}${item.due ? ` · ${item.due.replace('T', ' ')}` : ''}</span>
    </div>
    <p class="result__text">${item.title}</p>
    <a class="result__open" href=${taskHref(item.channel, item.id)}>${t('search.open')}<span class="visually-hidden"> ${item.title}</span></a>
  </li>`;
}
