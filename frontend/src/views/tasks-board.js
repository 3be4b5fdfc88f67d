// The board: columns by status, cards in position order. Drag a card (pointer or touch, HTML
// drag and drop) or move it with the keyboard (Shift+arrows on a focused card): either writes
// exactly one change, the card's new position (and status when it changes column), through
// app.taskActions.move. A column draws its first PAGE cards, then "Show more", so a board of
// thousands of tasks paints what fits the screen.

import { useState } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { Avatar } from './avatar.js';

export const PAGE = 50;

export function statusName(status) {
  const key = `tasks.status.${status}`;
  const name = t(key);
  return name === key ? status : name;
}

/** One card: a link that opens the task, with its dot, due date, assignees and progress. */
export function TaskCard({ app, id, task, href, grabbed = false, onKey = null, onDragStart = null }) {
  const tq = app.tasks;
  const who = tq.assigneesOf(id);
  const { progress } = tq.checklistOf(id);
  const changed = tq.changed(id);
  return html`<li class=${`task-card${grabbed ? ' task-card--moving' : ''}`} data-id=${id}
      draggable=${onDragStart ? 'true' : undefined} onDragStart=${onDragStart}>
    <a class="task-card__open" href=${href} onKeyDown=${onKey} data-task=${id}>
      ${changed ? html`<span class="task-dot" role="img" aria-label=${t('tasks.changed')}></span>` : null}
      <span class="task-card__title">${task.title}</span>
    </a>
    <div class="task-card__meta">
      ${task.due ? html`<span class="task-card__due">${task.due.replace('T', ' ')}</span>` : null}
      ${task.priority && task.priority !== 'none' ? html`<span class=${`tag task-priority task-priority--${task.priority}`}>${t(`tasks.priority.${task.priority}`)}</span>` : null}
      ${progress[1] ? html`<span class="task-card__progress">${t('tasks.progress', { done: progress[0], total: progress[1] })}</span>` : null}
      <span class="task-card__people">${who.slice(0, 3).map((u) => html`<${Avatar} key=${u} id=${u} name=${app.queries.userName(u)} size="sm" />`)}</span>
    </div>
  </li>`;
}

/** The index a drop at pointer height `y` lands at among the column's cards (the dragged one left out). */
function dropIndex(list, y, dragged) {
  const cards = [...list.querySelectorAll(':scope > .task-card')].filter((el) => el.dataset.id !== dragged);
  const at = cards.findIndex((el) => {
    const box = el.getBoundingClientRect();
    return y < box.top + box.height / 2;
  });
  return at < 0 ? cards.length : at;
}

export function Board({ app, channelId, openHref }) {
  const board = app.tasks.board(channelId).value;
  const [shown, setShown] = useState({});
  const [dragging, setDragging] = useState(null);
  const [notice, setNotice] = useState('');
  const may = app.queries.isMember(channelId) && !app.queries.record('channels', channelId)?.fields.archived;

  function keyMove(event, id, status, index) {
    if (!event.shiftKey || !may) return;
    const statuses = board.statuses;
    const column = board.columns.get(status) ?? [];
    let target = status;
    let to = index;
    if (event.key === 'ArrowUp') to = index - 1;
    else if (event.key === 'ArrowDown') to = index + 1;
    else if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
      const next = statuses.indexOf(status) + (event.key === 'ArrowLeft' ? -1 : 1);
      if (next < 0 || next >= statuses.length) return;
      target = statuses[next];
      to = Math.min(index, (board.columns.get(target) ?? []).length);
    } else return;
    event.preventDefault();
    event.stopPropagation();
    if (target === status && (to < 0 || to >= column.length)) return;
    app.taskActions.move(id, target, to);
    setNotice(t('tasks.moved', { title: app.tasks.task(id)?.title ?? '', status: statusName(target), position: to + 1 }));
    // Keep the focus on the moved card once it is drawn in its new place.
    requestAnimationFrame(() => requestAnimationFrame(() => document.querySelector(`a[data-task="${CSS.escape(id)}"]`)?.focus()));
  }

  function onDrop(event, status) {
    event.preventDefault();
    const id = event.dataTransfer.getData('text/x-task') || dragging;
    setDragging(null);
    if (!id || !may) return;
    const list = event.currentTarget.querySelector('.task-column__cards');
    app.taskActions.move(id, status, dropIndex(list, event.clientY, id));
  }

  return html`<div class="task-board" aria-label=${t('tasks.board')}>
    <p class="visually-hidden" aria-live="polite">${notice}</p>
    ${board.statuses.map((status) => {
      const ids = board.columns.get(status) ?? [];
      const limit = shown[status] ?? PAGE;
      return html`<section key=${status} class="task-column" aria-label=${statusName(status)}
          onDragOver=${(e) => may && e.preventDefault()} onDrop=${(e) => onDrop(e, status)}>
        <h2 class="task-column__title">${statusName(status)} <span class="task-column__count">${ids.length}</span></h2>
        <ul class="task-column__cards" role="list">
          ${ids.slice(0, limit).map((id, index) => html`<${TaskCard} key=${id} app=${app} id=${id} task=${app.tasks.task(id)}
              href=${openHref(id)} grabbed=${dragging === id}
              onKey=${(e) => keyMove(e, id, status, index)}
              onDragStart=${may ? (e) => { e.dataTransfer.setData('text/x-task', id); e.dataTransfer.effectAllowed = 'move'; setDragging(id); } : null} />`)}
        </ul>
        ${ids.length > limit
          ? html`<button type="button" class="button button--small button--ghost" onClick=${() => setShown({ ...shown, [status]: limit + PAGE })}>
              ${t('tasks.showMore', { count: ids.length - limit })}</button>`
          : null}
      </section>`;
    })}
  </div>`;
}
