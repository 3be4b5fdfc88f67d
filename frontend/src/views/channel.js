// One channel or DM: header, messages, who is typing, and the composer (or a Join bar when
// previewing a public channel I am not in).

import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { href } from './router.js';
import { MessageList } from './messages.js';
import { Composer } from './composer.js';
import { ConnectionStatus } from './status.js';
import { AddPeopleDialog } from './dialogs.js';
import { useState } from 'preact/hooks';

function Typing({ app, channelId }) {
  const messages = app.queries.messages(channelId);
  // Typing stops showing once that person's message arrives.
  const spoke = (user, since) => messages.some((m) => m.author === user && typeof m.at === 'number' && m.at >= since);
  const people = [...(app.store.typing.value.get(`c:${channelId}`) ?? [])]
    .filter(([user, { since }]) => !spoke(user, since))
    .map(([user]) => app.queries.userName(user))
    .filter(Boolean);
  return html`<p class="typing" aria-live="polite">
    ${people.length ? t('typing.people', { names: people.join(', '), count: people.length }) : ''}
  </p>`;
}

export function BackLink() {
  return html`<a class="back-link" href=${href('home')}>
    <span aria-hidden="true">‹</span><span class="visually-hidden">${t('nav.back')}</span>
  </a>`;
}

export function ChannelView({ app, channelId }) {
  const q = app.queries;
  const [adding, setAdding] = useState(false);
  const channel = q.channel(channelId);
  if (!channel) {
    return html`<section class="main main--empty" aria-labelledby="main-title">
      <header class="main__header"><${BackLink} /><h1 id="main-title" class="main__title">${t('channel.notFound')}</h1></header>
      <p class="empty">${t('channel.notFoundLead')}</p>
    </section>`;
  }
  const member = q.isMember(channelId);
  const isDm = channel.kind === 'dm' || channel.kind === 'group';
  const title = isDm ? channel.name : channel.name;
  const placeholder = isDm
    ? t('composer.placeholderDm', { name: channel.name })
    : t('composer.placeholder', { name: channel.name });

  return html`<section class="main" aria-labelledby="main-title">
    <header class="main__header">
      <${BackLink} />
      <div class="main__heading">
        <h1 id="main-title" class="main__title">
          ${isDm ? null : html`<span class="main__icon" aria-hidden="true">${channel.kind === 'private' ? '🔒' : '#'}</span>`}
          ${title}
        </h1>
        ${channel.topic ? html`<p class="main__topic">${channel.topic}</p>` : null}
      </div>
      <div class="main__status"><${ConnectionStatus} app=${app} /></div>
      ${member && channel.kind === 'private'
        ? html`<button type="button" class="button button--small" onClick=${() => setAdding(true)}>${t('members.add')}</button>`
        : null}
      ${member && !isDm
        ? html`<button type="button" class="button button--small button--ghost" onClick=${() => app.actions.leaveChannel(channelId)}>
            ${t('channel.leave')}
          </button>`
        : null}
    </header>
    <${MessageList} app=${app} channelId=${channelId} label=${t('channel.messagesLabel', { name: title })} />
    <${Typing} app=${app} channelId=${channelId} />
    ${member && channel.archived
      ? html`<div class="join-bar"><p>${t('channel.archived')}</p></div>`
      : member
      ? html`<${Composer} key=${channelId} app=${app} channelId=${channelId} placeholder=${placeholder} autofocus=${true} />`
      : html`<div class="join-bar">
          <p>${t('channel.previewing', { name: channel.name })}</p>
          <button type="button" class="button button--primary" onClick=${() => app.actions.joinChannel(channelId)}>
            ${t('channel.join')}
          </button>
        </div>`}
    ${adding ? html`<${AddPeopleDialog} app=${app} channelId=${channelId} onClose=${() => setAdding(false)} />` : null}
  </section>`;
}
