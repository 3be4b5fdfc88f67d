// A channel's tasks: the board or the list, a "New task" form, and the detail panel of the task
// in the route (#/c/<channel>/tasks/<task>). Keyboard shortcuts, listed under `?`:
// n new task, b board, l list, Escape closes the panel, Shift+arrows move the focused card.

import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { MainHeader } from './header.js';
import { Dialog } from './dialog.js';
import { Board } from './tasks-board.js';
import { TaskList } from './tasks-list.js';
import { TaskDetail } from './tasks-detail.js';
import { navigate, taskHref } from './router.js';
import { phone } from './viewport.js';

export const SHORTCUTS = [
  ['n', 'tasks.key.new'],
  ['b', 'tasks.key.board'],
  ['l', 'tasks.key.list'],
  ['Esc', 'tasks.key.close'],
  ['Shift + ←/→', 'tasks.key.column'],
  ['Shift + ↑/↓', 'tasks.key.order'],
  ['?', 'tasks.key.help'],
];

function typing(target) {
  return target instanceof Element && !!target.closest('input, textarea, select, [contenteditable="true"]');
}

export function ShortcutsDialog({ onClose }) {
  return html`<${Dialog} id="task-shortcuts" title=${t('tasks.shortcuts')} onClose=${onClose}>
    <dl class="shortcuts">
      ${SHORTCUTS.map(([key, what]) => html`<div key=${key} class="shortcuts__row"><dt><kbd>${key}</kbd></dt><dd>${t(what)}</dd></div>`)}
    </dl>
  <//>`;
}

export function TasksView({ app, channelId, taskId = null }) {
  const q = app.queries;
  const channel = q.record('channels', channelId)?.fields;
  const [mode, setMode] = useState('board');
  const [help, setHelp] = useState(false);
  const [title, setTitle] = useState('');
  const input = useRef(null);
  const may = q.isMember(channelId) && channel?.archived !== true;
  const openHref = (id) => taskHref(channelId, id);

  useEffect(() => {
    const onKey = (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target) || document.querySelector('dialog[open]')) return;
      if (event.key === '?') setHelp(true);
      else if (event.key === 'n' && may) input.current?.focus();
      else if (event.key === 'b') setMode('board');
      else if (event.key === 'l') setMode('list');
      else if (event.key === 'Escape' && taskId) navigate('tasks', channelId);
      else return;
      event.preventDefault();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [channelId, taskId, may]);

  async function create(event) {
    event.preventDefault();
    if (!title.trim()) return;
    await app.taskActions.create(channelId, { title: title.trim().slice(0, 500) });
    setTitle('');
  }

  const name = channel ? `#${channel.name}` : '';
  return html`<section class=${`main main--tasks${taskId ? ' main--task-open' : ''}`} aria-labelledby="main-title">
    <${MainHeader} app=${app} title=${t('tasks.titleIn', { channel: name })}
      more=${[
        { key: 'chat', label: t('tasks.backToChat'), onSelect: () => navigate('channel', channelId) },
        { key: 'help', label: t('tasks.shortcuts'), onSelect: () => setHelp(true) },
      ]}>
      <a class="button button--small button--ghost" href=${`#/c/${encodeURIComponent(channelId)}`}>${t('tasks.backToChat')}</a>
      <button type="button" class="button button--small button--ghost" onClick=${() => setHelp(true)} aria-keyshortcuts="?">${t('tasks.shortcuts')}</button>
    <//>
    <div class="tasks-layout">
      ${phone.value && taskId ? null : html`<div class="page tasks-page">
        <div class="tasks-toolbar">
          <div class="segmented" role="group" aria-label=${t('tasks.view')}>
            <button type="button" class="button button--small" aria-pressed=${mode === 'board' ? 'true' : 'false'} onClick=${() => setMode('board')}>${t('tasks.board')}</button>
            <button type="button" class="button button--small" aria-pressed=${mode === 'list' ? 'true' : 'false'} onClick=${() => setMode('list')}>${t('tasks.list')}</button>
          </div>
          ${may ? html`<form class="task-inline-form tasks-new" onSubmit=${create}>
            <label class="visually-hidden" for="task-new-title">${t('tasks.newTitle')}</label>
            <input id="task-new-title" ref=${input} type="text" placeholder=${t('tasks.newTitle')} value=${title}
              onInput=${(e) => setTitle(e.currentTarget.value)} aria-keyshortcuts="n" />
            <button type="submit" class="button button--small button--primary">${t('tasks.addTask')}</button>
          </form>` : html`<p class="field__hint">${t('tasks.readOnly')}</p>`}
        </div>
        ${mode === 'board'
          ? html`<${Board} app=${app} channelId=${channelId} openHref=${openHref} />`
          : html`<${TaskList} app=${app} channelId=${channelId} openHref=${openHref} />`}
      </div>`}
      ${taskId ? html`<${TaskDetail} key=${taskId} app=${app} taskId=${taskId} closeHref=${taskHref(channelId)} />` : null}
    </div>
    ${help ? html`<${ShortcutsDialog} onClose=${() => setHelp(false)} />` : null}
  </section>`;
}
