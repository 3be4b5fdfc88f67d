// Presence: who is online, away or offline, from the live channel's frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../src/dispatch/store.js';

test('hello says who is online and who of them is away', () => {
  const store = new Store();
  store.setPresence({ t: 'hello', online: ['ada', 'bob', 'cy'], away: ['bob'] });
  assert.deepEqual([...store.presence.value], [['ada', 'online'], ['bob', 'away'], ['cy', 'online']]);
});

test('presence frames move people between online, away and offline', () => {
  const store = new Store();
  store.setPresence({ t: 'hello', online: ['ada'] });
  store.setPresence({ t: 'presence', user: 'ada', status: 'away' });
  store.setPresence({ t: 'presence', user: 'bob', status: 'online' });
  assert.deepEqual([...store.presence.value], [['ada', 'away'], ['bob', 'online']]);
  store.setPresence({ t: 'presence', user: 'ada', status: 'offline' });
  assert.deepEqual([...store.presence.value], [['bob', 'online']]);
});
