// The board: columns by status, cards in position order. Drag a card (pointer events: a mouse
// anywhere on the card, a finger on its grip, so a swipe elsewhere still scrolls) or move it with the keyboard (Shift+arrows on a focused card): either writes
// exactly one change, the card's new position (and status when it changes column), through
// app.taskActions.move. A column draws its first PAGE cards, then "Show more", so a board of
// thousands of tasks paints what fits the screen.

import { useEffect, useRef, useState } from 'preact/hooks';
import { memo } from 'preact/compat';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { Avatar } from './avatar.js';

export const PAGE = 50;

export function statusName(status) {
  const key = `tasks.status.${status}`;
  const name = t(key);
  return name === key ? status : name;
}

/**
 * One card: a link that opens the task, with its dot, due date, assignees and progress. Memoized:
 * a change to one task redraws that card only (its fields object is new, the others' are not);
 * what it reads from signals (assignees, checklist, the dot) redraws it on its own.
 */
export const TaskCard = memo(
  /** @param {{app: any, id: string, task: any, href: string, grabbed?: boolean, status?: string, index?: number, handlers?: any}} props */
  function TaskCard({ app, id, task, href, grabbed = false, status = '', index = 0, handlers = null }) {
  const onKey = handlers ? (e) => handlers.key(e, id, status, index) : null;
  const onPointerDown = handlers ? (e) => handlers.down(e, id) : null;
  const tq = app.tasks;
  const who = tq.assigneesOf(id);
  const { progress } = tq.checklistOf(id);
  const changed = tq.changed(id, task);
  // Native drag and drop (of the link, of text) would cancel the pointer drag: it is turned off.
  return html`<li class=${`task-card${grabbed ? ' task-card--moving' : ''}`} data-id=${id} onPointerDown=${onPointerDown}
      onDragStart=${(e) => e.preventDefault()}>
    ${onPointerDown ? html`<span class="task-card__grip" aria-hidden="true">⠿</span>` : null}
    <a class="task-card__open" href=${href} onKeyDown=${onKey} data-task=${id} draggable=${false}>
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
  },
);

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

  // Keep the focus on a card moved by keyboard once it is drawn in its new column.
  const refocus = useRef(null);
  useEffect(() => {
    const want = refocus.current;
    if (!want) return;
    const card = document.querySelector(`.task-column[data-status="${CSS.escape(want.status)}"] a[data-task="${CSS.escape(want.id)}"]`);
    if (card instanceof HTMLElement) {
      refocus.current = null;
      if (document.activeElement !== card) card.focus();
    }
  });

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
    refocus.current = { id, status: target };
  }

  // A drag: pointer down on a card, moved past a few pixels, released over a column. One move
  // on release; a plain click still opens the card.
  const drag = useRef(null);
  function onPointerDown(event, id) {
    if (!may || event.button !== 0) return;
    if (event.pointerType === 'touch' && !event.target.closest('.task-card__grip')) return;
    const start = { id, x: event.clientX, y: event.clientY, active: false };
    drag.current = start;
    const move = (e) => {
      if (!start.active && Math.hypot(e.clientX - start.x, e.clientY - start.y) > 6) {
        start.active = true;
        setDragging(id);
      }
      if (start.active) e.preventDefault();
    };
    const up = (e) => {
      removeEventListener('pointermove', move);
      removeEventListener('pointerup', up);
      removeEventListener('pointercancel', up);
      drag.current = null;
      if (!start.active) return;
      setDragging(null);
      // The click that ends a drag must not open the card.
      addEventListener('click', (c) => (c.preventDefault(), c.stopPropagation()), { capture: true, once: true });
      const section = e.type === 'pointerup' ? document.elementFromPoint(e.clientX, e.clientY)?.closest('.task-column') : null;
      if (!section) return;
      const list = section.querySelector('.task-column__cards');
      app.taskActions.move(id, /** @type {HTMLElement} */ (section).dataset.status, dropIndex(list, e.clientY, id));
    };
    addEventListener('pointermove', move);
    addEventListener('pointerup', up);
    addEventListener('pointercancel', up);
  }

  // One object for every card, pointing at this render's functions: the cards' props stay equal
  // from render to render (memo), yet a card always calls the current board's handlers.
  const handlers = /** @type {{key?: Function, down?: Function}} */ (useRef({}).current);
  handlers.key = keyMove;
  handlers.down = onPointerDown;

  return html`<div class="task-board" aria-label=${t('tasks.board')}>
    <p class="visually-hidden" aria-live="polite">${notice}</p>
    ${board.statuses.map((status) => {
      const ids = board.columns.get(status) ?? [];
      const limit = shown[status] ?? PAGE;
      return html`<section key=${status} class="task-column" aria-label=${statusName(status)} data-status=${status}>
        <h2 class="task-column__title">${statusName(status)} <span class="task-column__count">${ids.length}</span></h2>
        <ul class="task-column__cards" role="list">
          ${ids.slice(0, limit).map((id, index) => html`<${TaskCard} key=${id} app=${app} id=${id} task=${app.tasks.task(id)}
              href=${openHref(id)} grabbed=${dragging === id} status=${status} index=${index}
              handlers=${may ? handlers : null} />`)}
        </ul>
        ${ids.length > limit
          ? html`<button type="button" class="button button--small button--ghost" onClick=${() => setShown((was) => ({ ...was, [status]: (was[status] ?? PAGE) + PAGE }))}>
              ${t('tasks.showMore', { count: ids.length - limit })}</button>`
          : null}
      </section>`;
    })}
    ${may ? html`<${NewStatus} app=${app} channelId=${channelId} />` : null}
  </div>`;
}

/** "Add status": a custom column for this channel's tasks (TaskActions#addStatus). */
function NewStatus({ app, channelId }) {
  const [name, setName] = useState('');
  const add = (event) => {
    event.preventDefault();
    app.taskActions.addStatus(channelId, name);
    setName('');
  };
  return html`<form class="task-inline-form task-new-status" onSubmit=${add}>
    <label class="visually-hidden" for="task-new-status">${t('tasks.newStatus')}</label>
    <input id="task-new-status" type="text" maxlength="40" placeholder=${t('tasks.newStatus')} value=${name}
      onInput=${(e) => setName(e.currentTarget.value)} />
    <button type="submit" class="button button--small button--ghost">${t('tasks.addStatus')}</button>
  </form>`;
}
