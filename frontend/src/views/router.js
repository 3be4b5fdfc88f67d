// Hash routes, so any static host can serve the app from one index.html:
//   #/            home (the channel list on phones)
//   #/c/<id>      a channel or DM
//   #/c/<id>/t/<message>   a thread, beside its channel
//   #/mentions    messages that mention me
//   #/search      search messages
//   #/browse      public channels to join
//   #/devices     my signed-in devices

import { signal } from '@preact/signals';

function parse(hash) {
  const path = (hash || '').replace(/^#/, '') || '/';
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'c' && parts[1]) {
    const id = decodeURIComponent(parts[1]);
    if (parts[2] === 't' && parts[3]) return { name: 'channel', id, thread: decodeURIComponent(parts[3]) };
    return { name: 'channel', id };
  }
  if (parts[0] === 'mentions') return { name: 'mentions' };
  if (parts[0] === 'search') return { name: 'search' };
  if (parts[0] === 'browse') return { name: 'browse' };
  if (parts[0] === 'devices') return { name: 'devices' };
  return { name: 'home' };
}

export const route = signal(parse(globalThis.location?.hash));

export function startRouter() {
  globalThis.addEventListener('hashchange', () => {
    route.value = parse(location.hash);
  });
}

export function href(name, id, thread) {
  if (name === 'channel') return `#/c/${encodeURIComponent(id)}`;
  if (name === 'thread') return `#/c/${encodeURIComponent(id)}/t/${encodeURIComponent(thread)}`;
  if (name === 'home') return '#/';
  return `#/${name}`;
}

export function navigate(name, id, thread) {
  location.hash = href(name, id, thread);
}
