// Hash routes, so any static host can serve the app from one index.html:
//   #/            home (the channel list on phones)
//   #/c/<id>      a channel or DM
//   #/c/<id>/t/<message>   a thread, beside its channel
//   #/c/<id>/n/<n>         a channel scrolled to its message n, highlighted (a search result, a mention)
//   #/c/<id>/t/<message>/n/<tn>   a thread with its reply tn highlighted
//   #/c/<id>/meet the channel's meeting (views/meeting.js)
//   #/mentions    messages that mention me
//   #/search      search messages
//   #/browse      public channels to join
//   #/devices     my signed-in devices
//   #/c/<id>/tasks            a channel's tasks (board or list)
//   #/c/<id>/tasks/<task>     the same, with a task's detail panel open
//   #/tasks       my tasks, across channels
//   #/calendar    the calendar; #/calendar/event/<id> one event in it

import { signal } from '@preact/signals';

function parse(hash) {
  const path = (hash || '').replace(/^#/, '') || '/';
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'c' && parts[1]) {
    const route = { name: 'channel', id: decodeURIComponent(parts[1]) };
    let rest = parts.slice(2);
    if (rest[0] === 'tasks') return { name: 'tasks', id: route.id, task: rest[1] ? decodeURIComponent(rest[1]) : null };
    if (rest[0] === 'meet') return { name: 'meeting', id: route.id };
    if (rest[0] === 't' && rest[1]) {
      route.thread = decodeURIComponent(rest[1]);
      rest = rest.slice(2);
    }
    if (rest[0] === 'n' && /^\d+$/.test(rest[1] ?? '')) route.at = Number(rest[1]);
    return route;
  }
  if (parts[0] === 'mentions') return { name: 'mentions' };
  if (parts[0] === 'search') return { name: 'search' };
  if (parts[0] === 'browse') return { name: 'browse' };
  if (parts[0] === 'devices') return { name: 'devices' };
  if (parts[0] === 'tasks') return { name: 'my-tasks' };
  if (parts[0] === 'calendar') return { name: 'calendar', event: parts[1] === 'event' && parts[2] ? decodeURIComponent(parts[2]) : null };
  return { name: 'home' };
}

export const route = signal(parse(globalThis.location?.hash));

export function startRouter() {
  globalThis.addEventListener('hashchange', () => {
    route.value = parse(location.hash);
  });
}

/** A channel's tasks, or one task's panel in them. */
export function taskHref(channel, task = null) {
  return `#/c/${encodeURIComponent(channel)}/tasks` + (task ? `/${encodeURIComponent(task)}` : '');
}

export function href(name, id, thread) {
  if (name === 'tasks') return taskHref(id, thread);
  if (name === 'my-tasks') return '#/tasks';
  if (name === 'channel') return `#/c/${encodeURIComponent(id)}`;
  if (name === 'thread') return `#/c/${encodeURIComponent(id)}/t/${encodeURIComponent(thread)}`;
  if (name === 'home') return '#/';
  return `#/${name}`;
}

/** Where a message is: its channel at its number, or its thread at its reply number. */
export function messageHref({ channel, thread, n, tn }) {
  if (thread) return href('thread', channel, thread) + (typeof tn === 'number' ? `/n/${tn}` : '');
  return href('channel', channel) + (typeof n === 'number' ? `/n/${n}` : '');
}

export function navigate(name, id, thread) {
  location.hash = href(name, id, thread);
}
