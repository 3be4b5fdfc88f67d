// The sidebar: workspace, connection state, my channels and DMs with unread badges, and the
// doors to everything else (new channel, browse, new message, invite, devices, sign out).

import { html } from './html.js';
import { ct } from './calendar/strings.js';
import { t } from '../lib/i18n.js';
import { href, route } from './router.js';
import { ConnectionStatus } from './status.js';
import { Avatar } from './avatar.js';
import { Logo } from './logo.js';
import { OfflineMark } from './offline.js';
import { LiveMark, SidebarJoin } from './meeting-bar.js';
import { NewTasksBadge } from './tasks-mine.js';

function UnreadBadge({ count, muted = false }) {
  if (!count) return null;
  return html`<span class=${muted ? 'badge badge--muted' : 'badge'}>${count}<span class="visually-hidden">${' '}${t('unread.suffix', { count })}</span></span>`;
}

function ChannelLink({ app, channel, current }) {
  const unread = app.queries.unread(channel.id);
  const muted = app.queries.muted(channel.id);
  const isDm = channel.kind === 'dm' || channel.kind === 'group';
  const presence = isDm && channel.kind === 'dm' ? app.queries.presence(channel.peer) : null;
  return html`<li>
    <a
      class=${`nav-link${current ? ' nav-link--current' : ''}${unread && !muted ? ' nav-link--unread' : ''}${muted ? ' nav-link--muted-channel' : ''}${channel.archived ? ' nav-link--archived' : ''}`}
      href=${href('channel', channel.id)}
      aria-current=${current ? 'page' : undefined}
    >
      ${isDm
        ? html`<${Avatar} id=${channel.peer} name=${channel.name} size="xs" presence=${presence} />`
        : html`<span class="nav-link__icon" aria-hidden="true">${channel.kind === 'private' ? '🔒' : '#'}</span>`}
      <span class="nav-link__name">${channel.name}</span>
      <${OfflineMark} app=${app} channelId=${channel.id} />
      ${presence ? html`<span class="visually-hidden">${' '}${t(`presence.${presence}`)}</span>` : null}
      <${LiveMark} app=${app} channelId=${channel.id} />
      <${UnreadBadge} count=${unread} muted=${muted} />
    </a>
    <${SidebarJoin} app=${app} channelId=${channel.id} name=${channel.name} />
  </li>`;
}

/** `landmark`: an <aside> beside the main column; false on a phone, where the list is the page. */
export function Sidebar({ app, onNewChannel, onNewMessage, onInvite, landmark = true }) {
  const q = app.queries;
  const current = route.value.name === 'channel' ? route.value.id : null;
  const me = q.me.value;
  const session = q.session.value;
  const myName = q.userName(me) || session?.user?.name || '';
  const canInvite = q.mayInvite();
  const workspaceName = app.workspace.value?.name || session?.workspace?.name || 'TeamTalk';

  const Box = landmark ? 'aside' : 'div';
  return html`<${Box} class="sidebar" aria-label=${landmark ? t('sidebar.label') : undefined}>
    <header class="sidebar__header">
      <a class="workspace" href=${href('home')}>
        <${Logo} small />
        <span class="workspace__name">${workspaceName}</span>
      </a>
      <${ConnectionStatus} app=${app} />
    </header>

    <div class="sidebar__scroll">
      <nav aria-label=${t('nav.shortcuts')}>
        <ul class="nav-list">
          <li>
            <a class=${`nav-link${route.value.name === 'mentions' ? ' nav-link--current' : ''}`} href=${href('mentions')}>
              <span class="nav-link__icon" aria-hidden="true">@</span>
              <span class="nav-link__name">${t('mentions.title')}</span>
              <${UnreadBadge} count=${q.unreadMentions.value} />
            </a>
          </li>
          <li>
            <a class=${`nav-link${route.value.name === 'my-tasks' ? ' nav-link--current' : ''}`} href=${href('my-tasks')}>
              <span class="nav-link__icon" aria-hidden="true">☑</span>
              <span class="nav-link__name">${t('tasks.mine')}</span>
              <${OverdueBadge} count=${app.tasks?.overdueCount.value ?? 0} />
              <${NewTasksBadge} count=${app.tasks?.newForMe.value ?? 0} />
            </a>
          </li>
          <li>
            <a class=${`nav-link${route.value.name === 'calendar' ? ' nav-link--current' : ''}`} href=${href('calendar')}>
              <span class="nav-link__icon" aria-hidden="true">▦</span>
              <span class="nav-link__name">${ct('title')}</span>
            </a>
          </li>
          <li>
            <a class=${`nav-link${route.value.name === 'search' ? ' nav-link--current' : ''}`} href=${href('search')}>
              <span class="nav-link__icon" aria-hidden="true">⌕</span>
              <span class="nav-link__name">${t('search.title')}</span>
            </a>
          </li>
        </ul>
      </nav>
      <nav aria-label=${t('nav.channels')}>
        <div class="nav-section">
          <h2 class="nav-section__title" id="channels-heading">${t('nav.channels')}</h2>
          <button type="button" class="icon-button" onClick=${onNewChannel} title=${t('channel.new')}>
            <span aria-hidden="true">+</span><span class="visually-hidden">${t('channel.new')}</span>
          </button>
        </div>
        <ul class="nav-list">
          ${q.myChannels.value.map(
            (c) => html`<${ChannelLink} key=${c.id} app=${app} channel=${c} current=${c.id === current} />`,
          )}
        </ul>
        <a class=${`nav-link nav-link--muted${route.value.name === 'browse' ? ' nav-link--current' : ''}`} href=${href('browse')}>
          <span class="nav-link__icon" aria-hidden="true">⌕</span>
          <span class="nav-link__name">${t('nav.browse')}</span>
        </a>
      </nav>

      <nav aria-label=${t('nav.directMessages')}>
        <div class="nav-section">
          <h2 class="nav-section__title">${t('nav.directMessages')}</h2>
          <button type="button" class="icon-button" onClick=${onNewMessage} title=${t('dm.new')}>
            <span aria-hidden="true">+</span><span class="visually-hidden">${t('dm.new')}</span>
          </button>
        </div>
        <ul class="nav-list">
          ${q.myDirectMessages.value.map(
            (c) => html`<${ChannelLink} key=${c.id} app=${app} channel=${c} current=${c.id === current} />`,
          )}
        </ul>
      </nav>
    </div>

    <footer class="sidebar__footer">
      ${canInvite
        ? html`<button type="button" class="button button--ghost button--block" onClick=${onInvite}>${t('invite.open')}</button>`
        : null}
      <div class="me">
        <${Avatar} id=${me} name=${myName} size="sm" presence=${q.presence(me)} />
        <div class="me__text">
          <span class="me__name">${myName}</span>
          <a class="me__link" href=${href('devices')}>${t('nav.devices')}</a>
        </div>
        <button type="button" class="button button--small button--ghost" onClick=${() => signOut(app)}>
          ${t('auth.signOut')}
        </button>
      </div>
    </footer>
  <//>`;
}

async function signOut(app) {
  const pending = app.queries.pendingCount.value;
  if (pending && !globalThis.confirm(t('auth.signOutPending', { count: pending }))) return;
  await app.signOut();
}

/** The count of my overdue tasks beside "My tasks" (reads like "2 overdue"). */
function OverdueBadge({ count }) {
  if (!count) return null;
  return html`<span class="badge badge--overdue">${count}<span class="visually-hidden"> ${t('tasks.overdueSuffix')}</span></span>`;
}
