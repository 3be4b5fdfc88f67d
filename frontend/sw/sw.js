// TeamTalk's service worker: a small event router, no app logic and no sync engine of its own.
//
// - install:  precache the shell under a versioned cache name (the version is a hash of the
//             shell's bytes, injected by build.mjs). No skipWaiting here: a new version waits
//             until the page's "Reload" button sends SKIP_WAITING.
// - activate: delete older shell caches, claim open pages.
// - fetch:    navigations network-first with the cached shell as the offline fallback (never a
//             stale shell after a deploy); static assets cache-first from this version's cache
//             (their names carry content hashes); /api is never touched.
// - sync:     tag `uploads` (files/queue.js): an open page runs its upload queue (UPLOAD); with
//             none open, the queue runs here (sw/uploads.js), then the outbox is flushed.
//             Tag `outbox`. Sync runs in the app's engine (src/sync/engine.js), never here:
//             with an app page open, the worker wakes that page's engine (FLUSH; its leader tab
//             syncs); with none open, it runs the same engine module for one flush on the same
//             IndexedDB replica, under the same Web Lock the leader tab holds.
// - push / notificationclick: one notification per conversation; a click opens the message (sw/push.js).
//             After showing a push, and after a sync here, the worker (with no page open) syncs
//             the replica and closes notifications of conversations read elsewhere, and sets the
//             badge (sw/reads.js); an open page does both itself.
//
// The messages between pages and this worker are defined in src/sync/tab-messages.js.

import { Replica } from '../src/replica/replica.js';
import { Transport } from '../src/sync/transport.js';
import { SyncEngine } from '../src/sync/engine.js';
import { LOCK_NAME } from '../src/sync/coordinator.js';
import { flush, uploadNow } from '../src/sync/tab-messages.js';
import { uploadHere } from './uploads.js';
import { showPush, payloadOf, openAt, resubscribe } from './push.js';
import { followReads } from './reads.js';

/* global __VERSION__, __PRECACHE__ */
const VERSION = __VERSION__;
const PRECACHE = __PRECACHE__;
const PREFIX = 'teamtalk-shell-';
const CACHE = PREFIX + VERSION;
const SHELL = '/';

// Requests the fetch handler never answers (every method but GET: the sync, the uploads) go
// straight to the network by the Static Routing API, instead of being handed to this worker
// first, to hear it decline: measured on the live path, a POST /api/sync from a controlled
// page or its send worker reached the server ~3.5 ms after fetch() that way, against ~0.3 ms.
const TO_NETWORK = ['POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].map((method) => ({
  condition: { requestMethod: method },
  source: 'network',
}));

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'reload' })))),
  );
  // A browser without the API (or without this condition) keeps the fetch handler's path.
  try {
    event.waitUntil(event.addRoutes?.(TO_NETWORK).catch(() => {}) ?? Promise.resolve());
  } catch {
    // nothing: as above
  }
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'SKIP_WAITING') self.skipWaiting(); // tab-messages.js: SkipWaiting
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin === self.location.origin && FILE_BYTES.test(url.pathname)) {
    event.respondWith(fileBytes(request, event));
    return;
  }
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (request.mode === 'navigate') {
    event.respondWith(navigation(request));
    return;
  }
  event.respondWith(asset(request));
});

async function navigation(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const cached = await caches.open(CACHE).then((cache) => cache.match(SHELL));
    if (cached) return cached;
    throw error;
  }
}

// A file's bytes or thumbnail (not search, uploads or previews' JSON): the network first; without
// it the copy pinned "Keep offline" (files/feature.js), else a recently opened copy. Every whole
// answer (200, no Range) is kept among the recent ones, within RECENT_BUDGET bytes: the least
// recently opened go first. Files waiting to upload live in IndexedDB, never here.
const FILE_BYTES = /^\/api\/files\/(?!search$|uploads(?:\/|$))[^/]+(?:\/thumb\/[a-z]+)?$/;
const PINNED_FILES = 'teamtalk-files-pinned';
const RECENT_FILES = 'teamtalk-files-recent';
const RECENT_BUDGET = 200 * 1024 * 1024;

async function fileBytes(request, event) {
  const key = new URL(request.url).pathname; // ?download=true and ?try=n are the same bytes
  try {
    const response = await fetch(request);
    if (response.status === 200 && !request.headers.has('range')) event.waitUntil(keepRecent(key, response.clone()));
    return response;
  } catch (error) {
    for (const name of [PINNED_FILES, RECENT_FILES]) {
      const cached = await caches.open(name).then((cache) => cache.match(key));
      if (cached) return cached;
    }
    throw error;
  }
}

async function keepRecent(key, response) {
  const size = Number(response.headers.get('content-length'));
  if (!(size > 0) || size > RECENT_BUDGET) return;
  const cache = await caches.open(RECENT_FILES);
  await cache.delete(key); // put it last: keys() lists in insertion order, oldest first
  await cache.put(key, response);
  const kept = [];
  let total = 0;
  for (const request of await cache.keys()) {
    const held = Number((await cache.match(request))?.headers.get('content-length')) || 0;
    kept.push([request, held]);
    total += held;
  }
  for (const [request, held] of kept) {
    if (total <= RECENT_BUDGET) break;
    await cache.delete(request);
    total -= held;
  }
}

async function asset(request) {
  const cached = await caches.open(CACHE).then((cache) => cache.match(request, { ignoreSearch: true }));
  return cached ?? fetch(request);
}

// --- background sync ---------------------------------------------------------------------------

self.addEventListener('sync', (event) => {
  if (event.tag === 'outbox') event.waitUntil(syncHere());
  if (event.tag === 'uploads') event.waitUntil(uploadsHere());
});

/** Background Sync for the upload queue: the open pages run it, or this worker does. */
async function uploadsHere() {
  const pages = await self.clients.matchAll({ type: 'window' });
  if (pages.length) {
    for (const page of pages) page.postMessage(uploadNow());
    return;
  }
  try {
    await uploadHere();
  } finally {
    await syncHere(); // what was delivered goes out now (and a half-done run's messages too)
  }
}

/**
 * Sync the replica: through the open pages' engine (FLUSH) if there are any, else here, for one
 * flush; then (here) close what was read elsewhere and set the badge, from what the replica holds
 * even when the flush failed. It rejects when the flush did, so Background Sync fires again.
 * @param {string | null} [keep] the tag of the notification a push has just shown
 */
async function syncHere(keep = null) {
  const pages = await self.clients.matchAll({ type: 'window' });
  if (pages.length) {
    for (const page of pages) page.postMessage(flush());
    return;
  }
  const run = async () => {
    const replica = await Replica.open();
    try {
      const meta = await replica.meta();
      if (!meta.session) return;
      const transport = new Transport({
        csrf: async () => (await self.cookieStore?.get('csrftoken'))?.value ?? meta.csrf ?? null,
      });
      const failure = await flushTrying(new SyncEngine({ replica, transport, live: false, location: null }));
      await followReads(self.registration, replica, self.navigator, keep);
      if (failure) throw failure;
    } finally {
      replica.close();
    }
  };
  // The leader lock: a page that holds it syncs by itself. A page that was just closed may still
  // hold it for a moment, so wait for it rather than give up (giving up ends the sync event and
  // the browser would not fire it again); a page that holds it past LOCK_WAIT_MS is leading.
  const locks = self.navigator?.locks;
  if (!locks) return run();
  try {
    await locks.request(LOCK_NAME, { signal: AbortSignal.timeout(LOCK_WAIT_MS) }, run);
  } catch (error) {
    if (error?.name !== 'TimeoutError' && error?.name !== 'AbortError') throw error;
  }
}

const LOCK_WAIT_MS = 10_000;
/** A flush the server failed (5xx: "database is locked" while the followers process starts, a
 *  restart) is tried again at these delays: the push or sync event that woke this worker is the
 *  only chance to close what was read elsewhere until the next one comes, maybe hours later. */
const FLUSH_RETRY_MS = [250, 1000, 3000];

/**
 * One flush, tried again on a server failure (FLUSH_RETRY_MS); what failed last, or null.
 * @param {SyncEngine} engine
 */
async function flushTrying(engine) {
  for (let attempt = 0; ; attempt++) {
    try {
      await engine.flush();
      return null;
    } catch (error) {
      const serverFailed = typeof error?.status === 'number' && error.status >= 500;
      if (!serverFailed || attempt >= FLUSH_RETRY_MS.length) return error;
      await new Promise((resolve) => setTimeout(resolve, FLUSH_RETRY_MS[attempt]));
    }
  }
}

// --- push and notification clicks (sw/push.js) -------------------------------------------------

self.addEventListener('push', (event) => {
  event.waitUntil(
    (async () => {
      const tag = await showPush(self.registration, payloadOf(event));
      // Any push is news that the replica is behind: catch up, then show what is still unread.
      await syncHere(tag).catch(() => {}); // offline or signed out: the next push or sync tries again
    })(),
  );
});

self.addEventListener('pushsubscriptionchange', (event) => {
  const csrf = async () => (await self.cookieStore?.get('csrftoken'))?.value ?? null;
  event.waitUntil(resubscribe(self.registration, event, csrf).catch(() => {})); // else renew() at the next open
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const done = openAt(self.clients, self.location.origin, event.notification.data?.url || '/');
  try {
    event.waitUntil(done);
  } catch {
    // An event made by a test (new NotificationEvent) cannot be extended; the open still happens.
  }
});
