// The root view: banners, then the screen for the app's phase (loading, signed out, ready).

import { useState, useEffect } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { route, navigate } from './router.js';
import { Banners } from './banners.js';
import { AuthScreen } from './auth.js';
import { Sidebar } from './sidebar.js';
import { ChannelView } from './channel.js';
import { MeetingView } from './meeting.js';
import { BrowseView } from './browse.js';
import { DevicesView } from './devices.js';
import { TasksView } from './tasks-view.js';
import { MyTasksView } from './tasks-mine.js';
import { CalendarView } from './calendar/index.js';
import { CalendarReminders } from './calendar/reminders.js';
import { SearchView, MentionsView } from './search.js';
import { NewChannelDialog, NewMessageDialog, InviteDialog } from './dialogs.js';
import { Logo } from './logo.js';
import { useEdgeSwipe } from './touch.js';
import { phone } from './viewport.js';

function Home({ app, onNewChannel }) {
  const channels = app.queries.myChannels.value;
  return html`<section class="main main--home" aria-labelledby="main-title">
    <div class="welcome">
      <${Logo} />
      <h1 id="main-title" class="welcome__title">${t('home.title', { workspace: app.workspace.value?.name || 'TeamTalk' })}</h1>
      <p class="welcome__lead">${channels.length ? t('home.pick') : t('home.empty')}</p>
      <div class="welcome__actions">
        <button type="button" class="button button--primary" onClick=${onNewChannel}>${t('channel.new')}</button>
        <a class="button" href="#/browse">${t('nav.browse')}</a>
      </div>
    </div>
  </section>`;
}

/** The skip link moves focus; it must not change the hash (that is the router's). */
function skipToMain(event) {
  event.preventDefault();
  const target = document.getElementById('composer-text') ?? document.getElementById('main');
  target?.focus();
}

function Shell({ app }) {
  const [dialog, setDialog] = useState(null);
  const close = () => setDialog(null);
  const r = route.value;
  const openers = {
    onNewChannel: () => setDialog('channel'),
    onNewMessage: () => setDialog('message'),
    onInvite: () => setDialog('invite'),
  };
  let main;
  if (r.name === 'channel') main = html`<${ChannelView} app=${app} channelId=${r.id} threadId=${r.thread ?? null} at=${r.at ?? null} />`;
  else if (r.name === 'meeting') main = html`<${MeetingView} key=${r.id} app=${app} channelId=${r.id} />`;
  else if (r.name === 'search') main = html`<${SearchView} app=${app} />`;
  else if (r.name === 'mentions') main = html`<${MentionsView} app=${app} />`;
  else if (r.name === 'browse') main = html`<${BrowseView} app=${app} ...${openers} />`;
  else if (r.name === 'devices') main = html`<${DevicesView} app=${app} />`;
  else if (r.name === 'tasks') main = html`<${TasksView} app=${app} channelId=${r.id} taskId=${r.task} />`;
  else if (r.name === 'my-tasks') main = html`<${MyTasksView} app=${app} />`;
  else if (r.name === 'calendar') main = html`<${CalendarView} app=${app} eventId=${r.event} />`;
  else main = html`<${Home} app=${app} ...${openers} />`;

  // Alt+ArrowUp / Alt+ArrowDown: previous / next conversation, as in other chat apps.
  useEffect(() => {
    const onKey = (event) => {
      if (!event.altKey || (event.key !== 'ArrowUp' && event.key !== 'ArrowDown')) return;
      const list = [...app.queries.myChannels.value, ...app.queries.myDirectMessages.value];
      if (!list.length) return;
      const current = list.findIndex((c) => route.value.name === 'channel' && c.id === route.value.id);
      const step = event.key === 'ArrowUp' ? -1 : 1;
      const next = list[(current + step + list.length) % list.length] ?? list[0];
      event.preventDefault();
      navigate('channel', next.id);
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  // On a phone (one column) a swipe in from the left edge goes back: from a thread to its
  // channel, from anything else to the channel list.
  useEdgeSwipe(
    !phone.value || r.name === 'home'
      ? null
      : () => (r.name === 'channel' && r.thread ? navigate('channel', r.id) : r.name === 'tasks' ? navigate('channel', r.id) : navigate('home')),
  );

  useEffect(() => {
    const total = app.queries.totalUnread.value;
    document.title = total ? `(${total}) TeamTalk` : 'TeamTalk';
  });

  // A phone shows one column: on the home route the channel list is the page (its main
  // landmark, with a heading), anywhere else the view opened from it.
  const listOnly = phone.value && r.name === 'home';
  const workspace = app.workspace.value?.name || 'TeamTalk';
  return html`<div class=${`shell shell--${r.name}`}>
    <a class="skip-link" href="#main" onClick=${skipToMain}>${t('nav.skip')}</a>
    ${phone.value ? null : html`<${Sidebar} app=${app} ...${openers} />`}
    ${listOnly
      ? html`<main class="shell__main shell__main--list" id="main" tabindex="-1">
          <h1 class="visually-hidden">${workspace}</h1>
          <${Sidebar} app=${app} landmark=${false} ...${openers} />
        </main>`
      : html`<main class="shell__main" id="main" tabindex="-1">${main}</main>`}
    ${dialog === 'channel' ? html`<${NewChannelDialog} app=${app} onClose=${close} />` : null}
    ${dialog === 'message' ? html`<${NewMessageDialog} app=${app} onClose=${close} />` : null}
    ${dialog === 'invite' ? html`<${InviteDialog} app=${app} onClose=${close} />` : null}
    <${CalendarReminders} app=${app} />
  </div>`;
}

export function Root({ app, sw, invite }) {
  const phase = app.phase.value;
  let screen;
  if (phase === 'ready') screen = html`<${Shell} app=${app} />`;
  else if (phase === 'signed-out') screen = html`<${AuthScreen} app=${app} invite=${invite} />`;
  else if (phase === 'fatal') {
    screen = html`<main class="auth" id="main"><div class="auth__card">
      <${Logo} /><h1 class="auth__title">${t('fatal.title')}</h1><p class="auth__lead">${t('fatal.lead')}</p>
    </div></main>`;
  } else {
    screen = html`<main class="splash" id="main" aria-busy="true"><${Logo} /><p class="visually-hidden">${t('loading')}</p></main>`;
  }
  return html`<${Banners} app=${app} sw=${sw} />${screen}`;
}
