// The task detail panel: title, description (the messages' safe Markdown), status, assignees,
// due date with or without a time (in my zone unless the task names one), priority, labels,
// the checklist (add, tick, edit, reorder, remove; progress derived), comments (messages with
// a `task`, drawn like a thread's replies by the message view: reactions, edits, mentions, files),
// the attachments (the comments' files), and the history with one-click restore.
//
// Each control writes one change when it is committed (change/blur/submit), never per keystroke.

import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { t, formatDateTime } from '../lib/i18n.js';
import { Markdown } from './markdown.js';
import { PRIORITIES } from '../dispatch/task-queries.js';
import { statusName } from './tasks-board.js';
import { taskHref } from './router.js';
import { MessageBody } from './message.js';
import { AttachControls, ChosenFiles, FileCard } from './attachments.js';
import { queueWithFiles } from '../files/compose.js';
import { rememberedDownscale } from '../files/images.js';

/**
 * A text field that keeps what the person typed while the task re-renders under it (a live
 * change, the connection state going offline): it commits on change and follows the record only
 * while nobody is typing. Without it a render between typing and leaving the field put the old
 * value back, and the edit was lost. The description and checklist items keep theirs the same way.
 * @param {{value: string, onCommit: (text: string) => void, multiline?: boolean, [key: string]: any}} props
 */
function DraftInput({ value, onCommit, multiline = false, ...rest }) {
  const [draft, setDraft] = useState(value);
  const [typing, setTyping] = useState(false);
  useEffect(() => {
    if (!typing) setDraft(value);
  }, [value, typing]);
  const events = {
    onFocus: () => setTyping(true),
    onInput: (e) => setDraft(e.currentTarget.value),
    onChange: (e) => onCommit(e.currentTarget.value),
    onBlur: () => setTyping(false),
  };
  return multiline
    ? html`<textarea ...${rest} ...${events} value=${draft}></textarea>`
    : html`<input ...${rest} ...${events} value=${draft} />`;
}

/** Fields a person sets, in the order the history shows them (server stamps are left out). */
const HISTORY_FIELDS = ['title', 'description', 'status', 'priority', 'due', 'due_tz', 'list', 'position', 'deleted'];

function Checklist({ app, taskId, may }) {
  const ta = app.taskActions;
  const { order, items, progress } = app.tasks.checklistOf(taskId);
  const [text, setText] = useState('');
  const add = (event) => {
    event.preventDefault();
    if (!text.trim()) return;
    ta.addItem(taskId, text.trim());
    setText('');
  };
  return html`<section class="task-section" aria-labelledby="task-checklist-title">
    <h2 id="task-checklist-title" class="task-section__title">${t('tasks.checklist')}
      <span class="task-progress">${t('tasks.progress', { done: progress[0], total: progress[1] })}</span></h2>
    ${progress[1] ? html`<progress class="task-progress__bar" max=${progress[1]} value=${progress[0]} aria-label=${t('tasks.checklist')}></progress>` : null}
    <ul class="task-checklist" role="list">
      ${order.map((id, index) => {
        const item = items[id];
        return html`<li key=${id} class="task-item">
          <label class="task-item__check">
            <input type="checkbox" checked=${item.done === true} disabled=${!may}
              onChange=${(e) => ta.updateItem(id, { done: e.currentTarget.checked })} />
            <span class="visually-hidden">${item.text}</span>
          </label>
          <${DraftInput} class="task-item__text" type="text" value=${item.text} disabled=${!may} aria-label=${t('tasks.itemText', { text: item.text })}
            onCommit=${(text) => text.trim() && ta.updateItem(id, { text: text.trim() })} />
          <button type="button" class="icon-button" disabled=${!may || index === 0} onClick=${() => ta.moveItem(taskId, id, index - 1)}
            aria-label=${t('tasks.itemUp', { text: item.text })}>↑</button>
          <button type="button" class="icon-button" disabled=${!may || index === order.length - 1} onClick=${() => ta.moveItem(taskId, id, index + 1)}
            aria-label=${t('tasks.itemDown', { text: item.text })}>↓</button>
          <button type="button" class="icon-button" disabled=${!may} onClick=${() => ta.removeItem(id)}
            aria-label=${t('tasks.itemRemove', { text: item.text })}>×</button>
        </li>`;
      })}
    </ul>
    ${may ? html`<form class="task-inline-form" onSubmit=${add}>
      <label class="visually-hidden" for="task-new-item">${t('tasks.newItem')}</label>
      <input id="task-new-item" type="text" placeholder=${t('tasks.newItem')} value=${text} onInput=${(e) => setText(e.currentTarget.value)} />
      <button type="submit" class="button button--small">${t('tasks.addItem')}</button>
    </form>` : null}
  </section>`;
}

/**
 * One line of the history: a field a change set on the task, or a change to one of its records
 * (a checklist item ticked, a person assigned), with who and when.
 */
function describe(app, collection, fields, name, value) {
  if (collection === 'task_items') {
    if (name === 'done') return t(value ? 'tasks.ticked' : 'tasks.unticked', { text: fields.text ?? '' });
    if (name === 'text') return t('tasks.itemSet', { text: String(value) });
    if (name === 'deleted') return t('tasks.itemRemoved', { text: fields.text ?? '' });
    return null;
  }
  if (collection === 'task_assignees') {
    return name === 'on' ? t(value ? 'tasks.assigned' : 'tasks.unassigned', { name: app.queries.userName(fields.user) || fields.user }) : null;
  }
  return HISTORY_FIELDS.includes(name) && name !== 'position' ? `${t(`tasks.field.${name}`)}: ${String(value ?? '—')}` : null;
}

function History({ app, taskId, may }) {
  const [versions, setVersions] = useState(null);
  const [error, setError] = useState(null);
  const task = app.tasks.task(taskId) ?? {};
  const load = async () => {
    setError(null);
    try {
      // The task's own changes, and those of its checklist items and assignees (records of their own).
      const parts = [
        ['tasks', taskId],
        ...[...(app.tasks.items.value.get(taskId) ?? [])].map(([id]) => ['task_items', id]),
        ...[...(app.tasks.assignees.value.get(taskId) ?? [])].map(([id]) => ['task_assignees', id]),
      ];
      const answers = await Promise.all(parts.map(([c, id]) => app.recordVersions(c, id).catch((e) => (c === 'tasks' ? Promise.reject(e) : { versions: [] }))));
      const all = answers.flatMap((answer, i) => {
        const [collection, id] = parts[i];
        const current = app.queries.record(collection, id)?.fields ?? {};
        return answer.versions.map((v) => ({ ...v, collection, id, current }));
      });
      all.sort((a, b) => (a.hlc < b.hlc ? -1 : a.hlc > b.hlc ? 1 : 0));
      setVersions(all);
    } catch {
      setError(t('tasks.historyFailed'));
    }
  };
  // Reload when the task changes while the history is open (a restore shows at once).
  useEffect(() => {
    if (versions !== null) load();
  }, [task.changed]);
  const rows = (versions ?? []).flatMap((v) =>
    Object.entries(v.fields)
      .map(([name, value]) => ({ ...v, name, value, text: describe(app, v.collection, { ...v.current, ...v.fields }, name, value) }))
      .filter((r) => r.text !== null));
  return html`<section class="task-section" aria-labelledby="task-history-title">
    <h2 id="task-history-title" class="task-section__title">${t('tasks.history')}</h2>
    ${versions === null ? html`<button type="button" class="button button--small" onClick=${load}>${t('tasks.showHistory')}</button>` : null}
    ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
    ${versions ? html`<ol class="task-history" aria-label=${t('tasks.history')}>
      ${rows.map((r) => html`<li key=${`${r.collection}:${r.id}:${r.hlc}:${r.name}`} class="task-history__entry">
        <span class="task-history__who">${app.queries.userName(r.author) || r.author}</span>
        <time datetime=${new Date(r.at).toISOString()}>${formatDateTime(r.at)}</time>
        <span class="task-history__what">${r.text}</span>
        ${may && r.collection === 'tasks' && r.name !== 'deleted' && task[r.name] !== r.value
          ? html`<button type="button" class="button button--small button--ghost"
              onClick=${() => app.taskActions.update(taskId, { [r.name]: r.value })}
              aria-label=${t('tasks.restoreLabel', { field: t(`tasks.field.${r.name}`), value: String(r.value ?? '') })}>${t('tasks.restore')}</button>`
          : null}
      </li>`)}
    </ol>` : null}
  </section>`;
}

/**
 * Attachments: the files of the task's comments (a comment is a message, and files attach to
 * messages: views/attachments.js), so they upload offline, resume and preview as in chat.
 */
function Attachments({ app, replies, uploading }) {
  const files = replies.flatMap((m) => (m.deleted ? [] : app.files?.byMessage.value.get(m.id) ?? []));
  if (!files.length && !uploading) return null;
  return html`<section class="task-section" aria-labelledby="task-attachments-title">
    <h2 id="task-attachments-title" class="task-section__title">${t('tasks.attachments')}</h2>
    ${uploading ? html`<p class="field__hint" role="status">${t('tasks.uploading', { count: uploading })}</p>` : null}
    <div class="message-files">${files.map((file) => html`<${FileCard} key=${file.id} app=${app} file=${file} />`)}</div>
  </section>`;
}

function Comments({ app, taskId, may }) {
  const task = app.tasks.task(taskId);
  const replies = task ? app.queries.replies(task.channel, `task:${taskId}`) : [];
  const [text, setText] = useState('');
  const [files, setFiles] = useState([]);
  const [downscale, setDownscale] = useState(rememberedDownscale);
  const uploading = (app.files?.jobs.value ?? []).filter((j) => j.task === taskId && j.state !== 'done').length;
  const send = (event) => {
    event.preventDefault();
    if (files.length && app.files?.queue && task) {
      queueWithFiles(app, { channel: task.channel, text: text.trim(), thread: null, task: taskId, files, downscale });
      setFiles([]);
      setText('');
      return;
    }
    if (!text.trim()) return;
    app.taskActions.comment(taskId, text.trim());
    setText('');
  };
  return html`<section class="task-section" aria-labelledby="task-comments-title">
    <h2 id="task-comments-title" class="task-section__title">${t('tasks.comments')}</h2>
    <ul class="task-comments" role="list">
      ${replies.map((m) => html`<li key=${m.id} class="task-comment" data-state=${m.state}>
        <${MessageBody} app=${app} item=${may ? m : { ...m, readOnly: true }} inThread=${true} />
      </li>`)}
    </ul>
    ${may ? html`<form class="task-inline-form" onSubmit=${send}>
      <label class="visually-hidden" for="task-comment">${t('tasks.comment')}</label>
      <textarea id="task-comment" rows="2" placeholder=${t('tasks.comment')} value=${text} onInput=${(e) => setText(e.currentTarget.value)}></textarea>
      ${app.files ? html`<${AttachControls} onFiles=${(chosen) => setFiles((was) => [...was, ...chosen])} />` : null}
      <button type="submit" class="button button--small">${t('tasks.sendComment')}</button>
    </form>
    <${ChosenFiles} files=${files} onRemove=${(i) => setFiles((was) => was.filter((_, j) => j !== i))} downscale=${downscale} onDownscale=${setDownscale} />` : null}
  </section>
  <${Attachments} app=${app} replies=${replies} uploading=${uploading} />`;
}

/** "Restore task": the server makes a new task from the deleted one; its panel opens once it is here. */
function RestoreButton({ app, taskId, channel }) {
  const [error, setError] = useState('');
  const restore = async () => {
    setError('');
    try {
      location.hash = taskHref(channel, await app.restoreTask(taskId));
    } catch {
      setError(t('tasks.restoreFailed'));
    }
  };
  return html`<button type="button" class="button button--small" onClick=${restore}>${t('tasks.restoreTask')}</button>
    ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}`;
}

/** Share the task in its channel: a message linking to it, which chat draws as a live card. */
function shareInChat(app, taskId, task) {
  const link = `${location.origin}${location.pathname}#/c/${encodeURIComponent(task.channel)}/tasks/${encodeURIComponent(taskId)}`;
  return app.actions.sendMessage(task.channel, `${task.title} ${link}`);
}

export function TaskDetail({ app, taskId, closeHref }) {
  const tq = app.tasks;
  const ta = app.taskActions;
  const task = tq.task(taskId);
  const [editing, setEditing] = useState(false);
  const [label, setLabel] = useState('');
  useEffect(() => {
    ta.markSeen(taskId);
  }, [taskId, task?.changed]);
  if (!task) {
    return html`<section class="task-detail" aria-label=${t('tasks.details')}>
      <p>${t('tasks.missing')}</p><a class="button" href=${closeHref}>${t('tasks.close')}</a></section>`;
  }
  const channel = app.queries.record('channels', task.channel)?.fields ?? {};
  const may = app.queries.isMember(task.channel) && channel.archived !== true && task.deleted !== true;
  const mayDelete = may && app.queries.may('tasks', taskId, 'delete');
  // Its creator or an admin, in a channel that is not archived (the server's rule for deleting).
  const mayRestore = task.deleted === true && app.queries.may('tasks', taskId, 'delete');
  const set = (fields) => ta.update(taskId, fields);
  const [day, time] = (task.due ?? '').split('T');
  const setDue = (newDay, newTime) => set({ due: newDay ? (newTime ? `${newDay}T${newTime}` : newDay) : '' });
  const members = app.queries.membersOf(task.channel);
  const who = tq.assigneesOf(taskId);
  const statuses = tq.board(task.channel).value.statuses;
  const source = task.message ? app.queries.message(task.message) : null;
  return html`<section class="task-detail" aria-label=${t('tasks.details')}>
    <div class="task-detail__bar">
      <a class="button button--small button--ghost" href=${closeHref}>${t('tasks.close')}</a>
      ${task.deleted ? html`<span class="tag">${t('tasks.deleted')}</span>` : null}
      ${may ? html`<button type="button" class="button button--small button--ghost" onClick=${() => shareInChat(app, taskId, task)}>${t('tasks.share')}</button>` : null}
      ${mayDelete ? html`<button type="button" class="button button--small button--danger" onClick=${() => ta.remove(taskId)}>${t('tasks.delete')}</button>` : null}
      ${mayRestore ? html`<${RestoreButton} app=${app} taskId=${taskId} channel=${task.channel} />` : null}
    </div>
    ${task.restored_from ? html`<p class="task-source">${t('tasks.restoredFrom')} <a href=${taskHref(task.channel, task.restored_from)}>${t('tasks.restoredLink')}</a></p>` : null}
    <div class="field">
      <label for="task-title">${t('tasks.title')}</label>
      <${DraftInput} id="task-title" type="text" value=${task.title} disabled=${!may} maxlength="500"
        onCommit=${(text) => text.trim() && set({ title: text.trim() })} />
    </div>
    <div class="task-fields">
      <div class="field">
        <label for="task-status">${t('tasks.statusLabel')}</label>
        <select id="task-status" value=${task.status || 'todo'} disabled=${!may} onChange=${(e) => set({ status: e.currentTarget.value })}>
          ${statuses.map((s) => html`<option value=${s}>${statusName(s)}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="task-priority">${t('tasks.priorityLabel')}</label>
        <select id="task-priority" value=${task.priority || 'none'} disabled=${!may} onChange=${(e) => set({ priority: e.currentTarget.value })}>
          ${PRIORITIES.map((p) => html`<option value=${p}>${t(`tasks.priority.${p}`)}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="task-due">${t('tasks.dueDate')}</label>
        <input id="task-due" type="date" value=${day || ''} disabled=${!may} onChange=${(e) => setDue(e.currentTarget.value, time)} />
      </div>
      <div class="field">
        <label for="task-due-time">${t('tasks.dueTime')}</label>
        <input id="task-due-time" type="time" value=${time || ''} disabled=${!may || !day} onChange=${(e) => setDue(day, e.currentTarget.value)} />
      </div>
    </div>
    ${task.due_tz ? html`<p class="field__hint">${t('tasks.inZone', { zone: task.due_tz })}</p>` : null}
    <fieldset class="task-assignees">
      <legend>${t('tasks.assignees')}</legend>
      ${members.map((u) => html`<label key=${u} class="task-check">
        <input type="checkbox" checked=${who.includes(u)} disabled=${!may} onChange=${(e) => ta.assign(taskId, u, e.currentTarget.checked)} />
        ${app.queries.userName(u) || u}
      </label>`)}
    </fieldset>
    <div class="task-labels">
      ${tq.labelsOf(taskId).map((l) => html`<span key=${l} class="tag task-label">${l}
        ${may ? html`<button type="button" class="task-label__remove" onClick=${() => ta.label(taskId, l, false)} aria-label=${t('tasks.removeLabel', { label: l })}>×</button>` : null}
      </span>`)}
      ${may ? html`<form class="task-inline-form" onSubmit=${(e) => { e.preventDefault(); if (label.trim()) ta.label(taskId, label.trim().slice(0, 40), true); setLabel(''); }}>
        <label class="visually-hidden" for="task-label">${t('tasks.addLabel')}</label>
        <input id="task-label" type="text" placeholder=${t('tasks.addLabel')} value=${label} onInput=${(e) => setLabel(e.currentTarget.value)} />
        <button type="submit" class="button button--small button--ghost">${t('tasks.add')}</button>
      </form>` : null}
    </div>
    <section class="task-section" aria-labelledby="task-description-title">
      <h2 id="task-description-title" class="task-section__title">${t('tasks.description')}
        ${may ? html`<button type="button" class="button button--small button--ghost" onClick=${() => setEditing(!editing)}>${editing ? t('tasks.done') : t('tasks.edit')}</button>` : null}</h2>
      ${editing
        ? html`<${DraftInput} multiline id="task-description" aria-label=${t('tasks.description')} rows="6" value=${task.description ?? ''}
            onCommit=${(text) => set({ description: text })} />`
        : html`<${Markdown} text=${task.description ?? ''} class="task-description" />`}
    </section>
    ${source ? html`<p class="task-source">${t('tasks.fromMessage')} <a href=${`#/c/${encodeURIComponent(task.channel)}/n/${source.n ?? ''}`}>${source.text.slice(0, 80)}</a></p>` : null}
    <${Checklist} app=${app} taskId=${taskId} may=${may} />
    <${Comments} app=${app} taskId=${taskId} may=${may} />
    <${History} app=${app} taskId=${taskId} may=${may} />
  </section>`;
}
