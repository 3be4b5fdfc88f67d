// One channel or DM: header (pins, notifications, archive; in "More" on a phone), messages, who is typing, the
// composer (or a Join bar when previewing a public channel I am not in, or a read-only note
// when archived), and a thread beside it when one is open.

import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { MessageList } from './messages.js';
import { MessageBody } from './message.js';
import { Composer } from './composer.js';
import { UploadingMessages } from './attachments.js';
import { FilesPanel } from './files.js';
import { AddPeopleDialog } from './dialogs.js';
import { Dialog } from './dialog.js';
import { MainHeader } from './header.js';
import { phone } from './viewport.js';
import { ThreadPane } from './thread.js';
import { KeepChoices } from './offline.js';
import { navigate, taskHref } from './router.js';
import { MeetingBar, StartMeeting } from './meeting-bar.js';
import { useState } from 'preact/hooks';

function Typing({ app, channelId }) {
  const messages = app.queries.messages(channelId);
  // Typing stops showing once that person's message arrives.
  const spoke = (user, since) => {
    for (let i = messages.length - 1; i >= 0 && i >= messages.length - 20; i--) {
      const m = messages[i];
      if (m.author === user && typeof m.at === 'number' && m.at >= since) return true;
    }
    return false;
  };
  const people = [...(app.store.typing.value.get(`c:${channelId}`) ?? [])]
    .filter(([user, { since }]) => !spoke(user, since))
    .map(([user]) => app.queries.userName(user))
    .filter(Boolean);
  return html`<p class="typing" aria-live="polite">
    ${people.length ? t('typing.people', { names: people.join(', '), count: people.length }) : ''}
  </p>`;
}

function PinnedPanel({ app, channelId, onClose }) {
  const pinned = app.queries.pinned(channelId);
  return html`<section class="panel" aria-labelledby="pinned-title">
    <header class="panel__header">
      <h2 id="pinned-title" class="panel__title">${t('pins.title')}</h2>
      <button type="button" class="icon-button" onClick=${onClose}>
        <span aria-hidden="true">×</span><span class="visually-hidden">${t('dialog.close')}</span>
      </button>
    </header>
    ${pinned.length
      ? html`<ul class="panel__list" aria-label=${t('pins.title')}>
          ${pinned.map((item) => html`<li key=${item.id}><${MessageBody} app=${app} item=${{ ...item, readOnly: true }} inThread=${true} /></li>`)}
        </ul>`
      : html`<p class="empty">${t('pins.none')}</p>`}
  </section>`;
}

function NotifyChoices({ app, channelId }) {
  const prefs = app.queries.prefs(channelId);
  return html`<fieldset class="choices">
      <legend>${t('prefs.notify')}</legend>
      ${['all', 'mentions', 'none'].map(
        (level) => html`<label class="choice">
          <input type="radio" name=${`notify-${channelId}`} value=${level} checked=${prefs.notify === level}
            onChange=${() => app.actions.setPrefs(channelId, { notify: level })} />
          <span>${t(`prefs.${level}`)}</span>
        </label>`,
      )}
    </fieldset>
    <label class="choice">
      <input type="checkbox" checked=${prefs.muted} onChange=${(e) => app.actions.setPrefs(channelId, { muted: e.currentTarget.checked })} />
      <span>${t('prefs.mute')}</span>
    </label>`;
}

/** From the phone breakpoint up: a popover under the header's "Notifications". */
function NotifySettings({ app, channelId }) {
  const prefs = app.queries.prefs(channelId);
  return html`<details class="notify">
    <summary class="button button--small button--ghost">${t('prefs.title')}${prefs.muted ? ` · ${t('prefs.mutedShort')}` : ''}</summary>
    <div class="notify__box"><${NotifyChoices} app=${app} channelId=${channelId} /></div>
  </details>`;
}

/** `at`: the number to scroll to and highlight — a message n, or with a thread its reply tn.
 * Focus then goes to that message, not to the composer. */
export function ChannelView({ app, channelId, threadId = null, at = null }) {
  const q = app.queries;
  const [adding, setAdding] = useState(false);
  const [showPins, setShowPins] = useState(false);
  const [showFiles, setShowFiles] = useState(false);
  const [notifying, setNotifying] = useState(false);
  const [keeping, setKeeping] = useState(false);
  const channel = q.channel(channelId);
  if (!channel) {
    return html`<section class="main main--empty" aria-labelledby="main-title">
      <${MainHeader} app=${app} title=${t('channel.notFound')} />
      <p class="empty">${t('channel.notFoundLead')}</p>
    </section>`;
  }
  const member = q.isMember(channelId);
  const isDm = channel.kind === 'dm' || channel.kind === 'group';
  const title = channel.name;
  const placeholder = isDm
    ? t('composer.placeholderDm', { name: channel.name })
    : t('composer.placeholder', { name: channel.name });
  const pinCount = q.pinned(channelId).length;
  const canPost = member && !channel.archived;
  const prefs = member ? q.prefs(channelId) : null;

  // The header's secondary actions: in the header from the phone breakpoint up, in "More" on a phone.
  const canArchive = member && !isDm && q.canArchive(channelId);
  const canAdd = member && channel.kind === 'private';
  const canLeave = member && !isDm;
  const archive = () => app.actions.setArchived(channelId, !channel.archived);
  const leave = () => app.actions.leaveChannel(channelId);
  const more = [
    { key: 'tasks', label: t('tasks.open'), onSelect: () => navigate('tasks', channelId) },
    { key: 'pins', label: t('pins.open', { count: pinCount }), pressed: showPins, onSelect: () => setShowPins(!showPins) },
    { key: 'files', label: t('files.open.button'), pressed: showFiles, onSelect: () => setShowFiles(!showFiles) },
    ...(member
      ? [{ key: 'notify', label: `${t('prefs.title')}${prefs.muted ? ` · ${t('prefs.mutedShort')}` : ''}`, onSelect: () => setNotifying(true) }]
      : []),
    ...(member ? [{ key: 'offline', label: t('offline.menu'), onSelect: () => setKeeping(true) }] : []),
    ...(canArchive ? [{ key: 'archive', label: channel.archived ? t('channel.unarchive') : t('channel.archive'), onSelect: archive }] : []),
    ...(canAdd ? [{ key: 'add', label: t('members.add'), onSelect: () => setAdding(true) }] : []),
    ...(canPost ? [{ key: 'meet', label: t('meeting.start'), onSelect: () => (location.hash = `#/c/${encodeURIComponent(channelId)}/meet`) }] : []),
    ...(canLeave ? [{ key: 'leave', label: t('channel.leave'), onSelect: leave, danger: true }] : []),
  ];

  return html`<div class=${`channel-layout${threadId ? ' channel-layout--thread' : ''}`}>
    <section class="main" aria-labelledby="main-title" inert=${phone.value && threadId ? true : undefined}>
      <${MainHeader} app=${app} title=${title} icon=${isDm ? null : channel.kind === 'private' ? '🔒' : '#'}
        tag=${channel.archived ? html`<span class="tag">${t('channel.archivedTag')}</span>` : null}
        topic=${channel.topic} more=${more} fold=${Boolean(threadId)}>
        <a class="button button--small button--ghost" href=${taskHref(channelId)}>${t('tasks.open')}</a>
        ${canPost ? html`<${StartMeeting} app=${app} channelId=${channelId} />` : null}
        <button type="button" class="button button--small button--ghost" aria-pressed=${showPins ? 'true' : 'false'}
          onClick=${() => setShowPins(!showPins)}>${t('pins.open', { count: pinCount })}</button>
        <button type="button" class="button button--small button--ghost" aria-pressed=${showFiles ? 'true' : 'false'}
          onClick=${() => setShowFiles(!showFiles)}>${t('files.open.button')}</button>
        ${member ? html`<${NotifySettings} app=${app} channelId=${channelId} />` : null}
        ${member ? html`<button type="button" class="button button--small button--ghost" onClick=${() => setKeeping(true)}>${t('offline.menu')}</button>` : null}
        ${canArchive
          ? html`<button type="button" class="button button--small button--ghost" onClick=${archive}>
              ${channel.archived ? t('channel.unarchive') : t('channel.archive')}
            </button>`
          : null}
        ${canAdd ? html`<button type="button" class="button button--small" onClick=${() => setAdding(true)}>${t('members.add')}</button>` : null}
        ${canLeave ? html`<button type="button" class="button button--small button--ghost" onClick=${leave}>${t('channel.leave')}</button>` : null}
      <//>
      <${MeetingBar} app=${app} channelId=${channelId} canJoin=${canPost} />
      ${showPins ? html`<${PinnedPanel} app=${app} channelId=${channelId} onClose=${() => setShowPins(false)} />` : null}
      ${showFiles ? html`<${FilesPanel} app=${app} channelId=${channelId} onClose=${() => setShowFiles(false)} />` : null}
      <${MessageList} app=${app} channelId=${channelId} label=${t('channel.messagesLabel', { name: title })} readOnly=${!canPost}
        at=${threadId ? null : at} />
      <${UploadingMessages} app=${app} channelId=${channelId} />
      <${Typing} app=${app} channelId=${channelId} />
      ${member && channel.archived
        ? html`<div class="join-bar"><p>${t('channel.archived')}</p></div>`
        : member
        ? html`<${Composer} key=${channelId} app=${app} channelId=${channelId} placeholder=${placeholder} autofocus=${at === null} />`
        : html`<div class="join-bar">
            <p>${t('channel.previewing', { name: channel.name })}</p>
            <button type="button" class="button button--primary" onClick=${() => app.actions.joinChannel(channelId)}>
              ${t('channel.join')}
            </button>
          </div>`}
      ${notifying
        ? html`<${Dialog} id="notify" title=${t('prefs.title')} onClose=${() => setNotifying(false)} sheet>
            <${NotifyChoices} app=${app} channelId=${channelId} />
          <//>`
        : null}
      ${keeping
        ? html`<${Dialog} id="keep" title=${t('offline.menu')} onClose=${() => setKeeping(false)} sheet>
            <${KeepChoices} app=${app} channelId=${channelId} name=${isDm ? title : `#${title}`} />
          <//>`
        : null}
      ${adding ? html`<${AddPeopleDialog} app=${app} channelId=${channelId} onClose=${() => setAdding(false)} />` : null}
    </section>
    ${threadId ? html`<${ThreadPane} key=${threadId} app=${app} channelId=${channelId} parentId=${threadId} canPost=${canPost} at=${at} />` : null}
  </div>`;
}
