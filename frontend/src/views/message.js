// One message: author, time, text (safe Markdown), and everything that hangs off it —
// "edited" (with its versions), "message deleted", reactions, the thread summary, "seen by",
// and the actions (react, reply in thread, edit, delete, pin, mark unread): a hover bar with a
// mouse, an action sheet (message-sheet.js) on a long press or from "Message actions" on touch.
// Text is rendered as text nodes only: user content never becomes markup.

import { useState, useRef, useEffect, useMemo } from 'preact/hooks';
import { computed } from '@preact/signals';
import { html } from './html.js';
import { t, formatTime, formatDateTime } from '../lib/i18n.js';
import { Avatar } from './avatar.js';
import { Markdown } from './markdown.js';
import { TaskEmbeds, createTaskFrom } from './tasks-card.js';
import { Dialog } from './dialog.js';
import { href } from './router.js';
import { EMOJI, MessageSheet, available, deleteMessage } from './message-sheet.js';
import { useLongPress } from './touch.js';
import { InviteCard, invitedEvent } from './calendar/card.js';
import { touch } from './viewport.js';
import { MessageFiles } from './attachments.js';

function When({ at }) {
  if (typeof at !== 'number') return null;
  return html`<time class="msg__time" datetime=${new Date(at).toISOString()} title=${formatDateTime(at)}>${formatTime(at)}</time>`;
}

function Reactions({ app, item }) {
  const reactions = app.queries.reactions(item.id);
  if (!reactions.size) return null;
  const me = app.queries.me.value;
  return html`<div class="reactions" role="group" aria-label=${t('reactions.label')}>
    ${[...reactions].map(([emoji, users]) => {
      const names = users.map((u) => app.queries.userName(u) || t('message.someone')).join(', ');
      return html`<button type="button" class=${`reaction${users.includes(me) ? ' reaction--mine' : ''}`}
        aria-pressed=${users.includes(me) ? 'true' : 'false'} title=${names} data-emoji=${emoji}
        disabled=${item.readOnly} onClick=${() => app.actions.toggleReaction(item.id, emoji)}>
        <span aria-hidden="true">${emoji}</span> <span class="reaction__count">${users.length}</span>
        <span class="visually-hidden">${t('reactions.who', { emoji, names })}</span>
      </button>`;
    })}
  </div>`;
}

function ReactionPicker({ app, item, onDone }) {
  return html`<div class="picker" role="group" aria-label=${t('reactions.pick')}>
    ${EMOJI.map(
      (emoji) => html`<button type="button" class="picker__emoji" aria-label=${t('reactions.add', { emoji })}
        onClick=${() => (app.actions.toggleReaction(item.id, emoji), onDone())}>${emoji}</button>`,
    )}
  </div>`;
}

function ThreadSummary({ app, item }) {
  // The count as a signal of its own (as the action bar's flags, below): the replies are read from
  // the channel's messages, which every new message moves; the summary re-renders when its count does.
  const counted = useMemo(
    () =>
      computed(() => {
        const replies = app.queries.replies(item.channel, item.id);
        const pending = replies.filter((r) => r.state !== 'sent').length;
        return Math.max(item.replies ?? 0, replies.length - pending) + pending;
      }),
    [app, item],
  );
  const count = counted.value;
  if (!count) return null;
  return html`<div class="thread-summary">
    <span class="thread-summary__people" aria-hidden="true">
      ${(item.repliers ?? []).map((u) => html`<${Avatar} key=${u} id=${u} name=${app.queries.userName(u)} size="xs" />`)}
    </span>
    <a class="thread-summary__link" href=${href('thread', item.channel, item.id)}>${t('thread.replies', { count })}</a>
    ${item.repliers?.length
      ? html`<span class="visually-hidden">${t('thread.repliers', { names: item.repliers.map((u) => app.queries.userName(u)).join(', ') })}</span>`
      : null}
    ${item.lastReplyAt ? html`<span class="thread-summary__last">${t('thread.last', { time: formatTime(item.lastReplyAt) })}</span>` : null}
  </div>`;
}

export function VersionsDialog({ app, id, onClose }) {
  const [state, setState] = useState(/** @type {{loading?: boolean, versions?: Record<string, any>[], error?: string}} */ ({ loading: true }));
  useEffect(() => {
    app.versions(id).then(
      (answer) => setState({ versions: answer.versions ?? [] }),
      (error) => setState({ error: error.offline ? t('versions.offline') : t('versions.failed') }),
    );
  }, [id]);
  return html`<${Dialog} id="versions" title=${t('versions.title')} onClose=${onClose}>
    ${state.loading ? html`<p>${t('versions.loading')}</p>` : null}
    ${state.error ? html`<p class="form-error">${state.error}</p>` : null}
    ${state.versions
      ? html`<ol class="versions">
          ${state.versions.map(
            (v) => html`<li class="versions__item">
              <div class="msg__meta"><span class="msg__author">${app.queries.userName(v.author)}</span><${When} at=${v.at} /></div>
              ${v.deleted || v.text === null ? html`<p class="msg__text msg__text--deleted">${t('message.deleted')}</p>` : html`<${Markdown} text=${v.text} />`}
            </li>`,
          )}
        </ol>`
      : null}
  <//>`;
}

function EditForm({ app, item, onDone }) {
  const [text, setText] = useState(item.text);
  const box = useRef(null);
  useEffect(() => box.current?.focus(), []);
  const save = async () => {
    // The box, not the state: drawing waits for the next frame, so a keystroke's state may not
    // have reached this closure when Enter comes (the composer reads its box the same way).
    const value = (box.current?.value ?? text).replace(/\s+$/, '');
    if (value.trim() && value !== item.text) await app.actions.editMessage(item.id, value);
    onDone();
  };
  return html`<form class="edit" onSubmit=${(e) => (e.preventDefault(), save())}>
    <label class="visually-hidden" for=${`edit-${item.id}`}>${t('message.editLabel')}</label>
    <textarea id=${`edit-${item.id}`} ref=${box} rows="2" value=${text} maxlength="10000"
      onInput=${(e) => setText(e.currentTarget.value)}
      onKeyDown=${(e) => {
        if (e.key === 'Escape') (e.preventDefault(), onDone());
        else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) (e.preventDefault(), save());
      }}></textarea>
    <div class="edit__actions">
      <button type="button" class="button button--small button--ghost" onClick=${onDone}>${t('dialog.cancel')}</button>
      <button type="submit" class="button button--small button--primary">${t('message.save')}</button>
    </div>
  </form>`;
}

/** What the action bar offers, in the order of `Actions`'s flags. */
const OFFERS = /** @type {const} */ (['reply', 'edit', 'delete', 'pin', 'unread']);

function Actions({ app, item, onEdit, inThread }) {
  const [picking, setPicking] = useState(false);
  // What I may do is a signal of its own, as flags: judging it reads the messages collection, which
  // every new message moves, so read in the render it re-rendered every bar built so far (one per
  // message the pointer has passed over) on every message: ~22 bars, a third of B's draw of a live
  // message in the hot-path bench. The flags are judged again then; the bar re-renders only when
  // they change. A new computed for new props, so the flags are never judged on an old item.
  const flags = useMemo(
    () =>
      computed(() => {
        const may = available(app, item, inThread);
        return OFFERS.map((offer) => (may[offer] ? '1' : '0')).join('');
      }),
    [app, item, inThread],
  );
  const sent = item.state === 'sent';
  if (!sent || item.deleted || item.readOnly) return null;
  const can = Object.fromEntries(OFFERS.map((offer, i) => [offer, flags.value[i] === '1']));
  return html`<div class="msg__actions">
    <button type="button" class="icon-button icon-button--small" aria-expanded=${picking ? 'true' : 'false'}
      title=${t('reactions.open')} onClick=${() => setPicking(!picking)}>
      <span aria-hidden="true">☺</span><span class="visually-hidden">${t('reactions.open')}</span>
    </button>
    ${can.reply
      ? html`<a class="icon-button icon-button--small" href=${href('thread', item.channel, item.id)} title=${t('thread.reply')}>
          <span aria-hidden="true">↩</span><span class="visually-hidden">${t('thread.reply')}</span>
        </a>`
      : null}
    ${can.edit
      ? html`<button type="button" class="icon-button icon-button--small" title=${t('message.edit')} onClick=${onEdit}>
          <span aria-hidden="true">✎</span><span class="visually-hidden">${t('message.edit')}</span>
        </button>`
      : null}
    ${can.delete
      ? html`<button type="button" class="icon-button icon-button--small" title=${t('message.delete')}
          onClick=${() => deleteMessage(app, item)}>
          <span aria-hidden="true">🗑</span><span class="visually-hidden">${t('message.delete')}</span>
        </button>`
      : null}
    ${can.pin
      ? html`<button type="button" class="icon-button icon-button--small" title=${item.pinned ? t('pins.unpin') : t('pins.pin')}
          onClick=${() => app.actions.setPinned(item.id, !item.pinned)}>
          <span aria-hidden="true">📌</span><span class="visually-hidden">${item.pinned ? t('pins.unpin') : t('pins.pin')}</span>
        </button>`
      : null}
    ${can.pin
      ? html`<button type="button" class="icon-button icon-button--small" title=${t('tasks.fromMessageAction')}
          onClick=${() => createTaskFrom(app, item)}>
          <span aria-hidden="true">☑</span><span class="visually-hidden">${t('tasks.fromMessageAction')}</span>
        </button>`
      : null}
    ${can.unread
      ? html`<button type="button" class="icon-button icon-button--small" title=${t('message.markUnread')}
          onClick=${() => app.actions.markUnread(item.channel, item.n)}>
          <span aria-hidden="true">◌</span><span class="visually-hidden">${t('message.markUnread')}</span>
        </button>`
      : null}
    ${picking ? html`<${ReactionPicker} app=${app} item=${item} onDone=${() => setPicking(false)} />` : null}
  </div>`;
}

/** The body of a message (without its list item), shared by the channel, thread and lists. */
export function MessageBody({ app, item, grouped = false, inThread = false, seenBy = null }) {
  const [editing, setEditing] = useState(false);
  const [versions, setVersions] = useState(false);
  // The action bar is built when the pointer or the keyboard reaches the message, so a long
  // list holds one small button per message instead of a whole toolbar.
  const [active, setActive] = useState(false);
  const [sheet, setSheet] = useState(false);
  const name = app.queries.userName(item.author) || t('message.someone');
  const canAct = item.state === 'sent' && !item.deleted && !item.readOnly;
  const onTouch = touch.value;
  const press = useLongPress(canAct && !editing ? () => setSheet(true) : null);
  // On touch the hover bar never shows: "Message actions" opens the sheet. It is visually
  // hidden until focused, so a screen reader, a switch or a keyboard still reaches it.
  const opener = onTouch
    ? html`<button type="button" class="msg__open-sheet" onClick=${() => setSheet(true)}>${t('message.actions')}</button>`
    : active
    ? html`<${Actions} app=${app} item=${item} inThread=${inThread} onEdit=${() => setEditing(true)} />`
    : html`<div class="msg__actions"><button type="button" class="icon-button icon-button--small" aria-label=${t('message.actions')}
        onFocus=${() => setActive(true)} onClick=${() => setActive(true)}>⋯</button></div>`;
  return html`<div class=${`msg msg--${item.state}${grouped ? ' msg--grouped' : ''}${item.deleted ? ' msg--deleted' : ''}`}
    onMouseEnter=${canAct && !active && !onTouch ? () => setActive(true) : undefined}
    onFocusIn=${canAct && !active && !onTouch ? () => setActive(true) : undefined}
    ...${press}>
    ${grouped ? null : html`<${Avatar} id=${item.author} name=${name} />`}
    <div class="msg__body">
      ${grouped
        ? null
        : html`<div class="msg__meta">
            <span class="msg__author">${name}</span>
            <${When} at=${item.at} />
            ${item.pinned && !item.deleted ? html`<span class="msg__pinned">${t('pins.pinned')}</span>` : null}
          </div>`}
      ${item.deleted
        ? html`<p class="msg__text msg__text--deleted">${t('message.deleted')}</p>`
        : editing
        ? html`<${EditForm} app=${app} item=${item} onDone=${() => setEditing(false)} />`
        : html`<${Markdown} text=${item.text} /><${TaskEmbeds} app=${app} text=${item.text} />`}
      <${MessageFiles} app=${app} item=${item} />
      ${!item.deleted && invitedEvent(item.text) ? html`<${InviteCard} app=${app} eventId=${invitedEvent(item.text)} />` : null}
      ${item.edited && !item.deleted
        ? html`<button type="button" class="msg__edited" onClick=${() => setVersions(true)}>${t('message.edited')}</button>`
        : null}
      ${item.changing && !item.deleted ? html`<span class="msg__state">${t('message.saving')}</span>` : null}
      ${item.state === 'pending' ? html`<span class="msg__state">${t('message.sending')}</span>` : null}
      ${item.state === 'failed'
        ? html`<div class="msg__failed">
            <span class="msg__error">${t('message.failed', { reason: item.reason || item.code })}</span>
            <button type="button" class="button button--small" onClick=${() => app.actions.retry(item.mid)}>${t('message.retry')}</button>
            <button type="button" class="button button--small button--ghost" onClick=${() => app.actions.discard(item.mid)}>${t('message.discard')}</button>
          </div>`
        : null}
      ${item.failedEdit
        ? html`<div class="msg__failed">
            <span class="msg__error">${t('message.changeFailed', { reason: item.failedEdit.reason || item.failedEdit.code })}</span>
            <button type="button" class="button button--small button--ghost" onClick=${() => app.actions.discard(item.failedEdit.mid)}>${t('message.discard')}</button>
          </div>`
        : null}
      ${item.deleted ? null : html`<${Reactions} app=${app} item=${item} />`}
      ${!item.thread && !inThread && !item.deleted ? html`<${ThreadSummary} app=${app} item=${item} />` : null}
      ${seenBy && seenBy.length
        ? html`<p class="msg__seen">${t('receipts.seenBy', { names: seenBy.map((u) => app.queries.userName(u)).join(', ') })}</p>`
        : null}
    </div>
    ${editing || !canAct ? null : opener}
    ${sheet && canAct
      ? html`<${MessageSheet} app=${app} item=${item} inThread=${inThread} onEdit=${() => setEditing(true)} onClose=${() => setSheet(false)} />`
      : null}
    ${versions ? html`<${VersionsDialog} app=${app} id=${item.id} onClose=${() => setVersions(false)} />` : null}
  </div>`;
}
