// A message's actions on a touch screen: a long press (or its "Message actions" button, for a
// screen reader or a keyboard) opens this sheet from the bottom of the screen, every action a
// full-width 44 px row: react, reply in thread, copy, edit, delete, pin, mark unread.
// With a mouse the same actions are the hover bar in message.js; both ask `available` which
// ones this message has, so they never disagree.

import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { Dialog } from './dialog.js';
import { href, navigate } from './router.js';
import { createTaskFrom } from './tasks-card.js';

export const EMOJI = ['👍', '❤️', '😂', '🎉', '👀', '🙏', '✅', '🚀'];

/** Which actions this message offers me (reacting and copying: always, once it is sent). */
export function available(app, item, inThread) {
  const q = app.queries;
  return {
    reply: !item.thread && !inThread,
    edit: q.may('messages', item.id, 'text'),
    delete: q.may('messages', item.id, 'delete'),
    pin: !item.thread,
    unread: !item.thread && typeof item.n === 'number',
  };
}

export function deleteMessage(app, item) {
  if (globalThis.confirm(t('message.deleteConfirm'))) app.actions.deleteMessage(item.id);
}

export function MessageSheet({ app, item, inThread, onEdit, onClose }) {
  const can = available(app, item, inThread);
  /** Close the sheet, then act (an edit needs the sheet gone to take focus). */
  const then = (act) => () => {
    onClose();
    act();
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(item.text ?? '');
    } catch {
      // No clipboard permission: nothing to copy into; the text stays selectable in the edit box.
    }
  };
  return html`<${Dialog} id="message-sheet" title=${t('message.actions')} onClose=${onClose} sheet>
    <div class="sheet__emoji" role="group" aria-label=${t('reactions.pick')}>
      ${EMOJI.map(
        (emoji) => html`<button type="button" class="sheet__emoji-button" aria-label=${t('reactions.add', { emoji })}
          onClick=${then(() => app.actions.toggleReaction(item.id, emoji))}>${emoji}</button>`,
      )}
    </div>
    <ul class="sheet__list">
      ${can.reply
        ? html`<li><a class="sheet__item" href=${href('thread', item.channel, item.id)}
            onClick=${(e) => (e.preventDefault(), then(() => navigate('thread', item.channel, item.id))())}>
            <span aria-hidden="true">↩</span>${t('thread.reply')}</a></li>`
        : null}
      <li><button type="button" class="sheet__item" onClick=${then(copy)}><span aria-hidden="true">⧉</span>${t('message.copy')}</button></li>
      ${can.edit
        ? html`<li><button type="button" class="sheet__item" onClick=${then(onEdit)}><span aria-hidden="true">✎</span>${t('message.edit')}</button></li>`
        : null}
      ${can.delete
        ? html`<li><button type="button" class="sheet__item sheet__item--danger" onClick=${then(() => deleteMessage(app, item))}>
            <span aria-hidden="true">🗑</span>${t('message.delete')}</button></li>`
        : null}
      ${can.pin
        ? html`<li><button type="button" class="sheet__item" onClick=${then(() => app.actions.setPinned(item.id, !item.pinned))}>
            <span aria-hidden="true">📌</span>${item.pinned ? t('pins.unpin') : t('pins.pin')}</button></li>`
        : null}
      ${can.pin
        ? html`<li><button type="button" class="sheet__item" onClick=${then(() => createTaskFrom(app, item))}>
            <span aria-hidden="true">☑</span>${t('tasks.fromMessageAction')}</button></li>`
        : null}
      ${can.unread
        ? html`<li><button type="button" class="sheet__item" onClick=${then(() => app.actions.markUnread(item.channel, item.n))}>
            <span aria-hidden="true">◌</span>${t('message.markUnread')}</button></li>`
        : null}
    </ul>
  <//>`;
}
