// Files in the PWA, assembled: the upload queue over its own IndexedDB, tus uploads, hashing in
// a worker, the queue's state as a signal for the views, and "Keep offline" pins in Cache
// Storage (the service worker answers pinned files from there when the network is gone).

import { signal, computed } from '@preact/signals';
import { UploadQueue, openQueueDB, UPLOAD_LOCK } from './queue.js';
import { tusUploader } from './tus.js';
import { sha256 } from './hashing.js';
import { splitFileFilter, searchFiles } from '../lib/file-query.js';
import { parseQuery } from '../lib/search-query.js';

export const PINNED_CACHE = 'teamtalk-files-pinned';
/** Files opened recently, kept by the service worker within its budget (sw/sw.js, fileBytes). */
export const RECENT_CACHE = 'teamtalk-files-recent';
const FILE_URL = /^\/api\/files\/([^/]+)/;
const MAX_KEY = 'tt-files-max';
const DEFAULT_MAX = 1024 ** 3;

export class Files {
  /** The queue's jobs, re-read on every change (a new array: views re-render). */
  jobs = signal([]);
  /** File URLs pinned for offline use. */
  pinned = signal(new Set());
  queue = null;
  #app;

  constructor(app) {
    this.#app = app;
    /** message id -> its file records, oldest first (one pass over `files` per change). */
    this.byMessage = computed(() => {
      const index = new Map();
      for (const [id, record] of this.#app.queries.collection('files').value.entries()) {
        const f = record.fields;
        if (f.deleted || typeof f.message !== 'string') continue;
        if (!index.has(f.message)) index.set(f.message, []);
        index.get(f.message).push({ id, ...f });
      }
      return index;
    });
  }

  #online = () => true;
  #wake = () => {};

  /**
   * @param {{csrf: () => string | null, online: () => boolean, wake?: () => void}} o `wake` asks for
   *   Background Sync (the uploads tag): the service worker runs the queue when the network is
   *   back, even with no page open (sw/uploads.js).
   */
  async start({ csrf, online, wake = () => {} }) {
    this.#online = online;
    this.#wake = wake;
    this.#learnLimit();
    this.queue = await UploadQueue.open({
      db: await openQueueDB(),
      upload: tusUploader({ csrf }),
      hash: sha256,
      deliver: (job) => this.#app.actions.sendWithFiles(job),
      online,
    });
    this.queue.subscribe(() => {
      this.jobs.value = this.queue.jobs();
      if (!this.#online() && this.jobs.value.some((j) => j.state === 'waiting')) this.#wake();
    });
    this.jobs.value = this.queue.jobs();
    await this.#readPins();
    this.run();
  }

  /** The network is back, or the app opened, or the service worker says so: upload what waits,
   * under the lock the service worker takes too (queue.js, Rule 5). */
  run() {
    const queue = this.queue;
    if (!queue) return Promise.resolve();
    const locks = globalThis.navigator?.locks;
    if (!locks) return queue.run();
    return locks.request(UPLOAD_LOCK, async () => {
      await queue.reload();
      await queue.run();
    });
  }

  inChannel(channelId) {
    const files = [];
    for (const [id, record] of this.#app.queries.collection('files').value.entries()) {
      if (record.fields.channel === channelId && !record.fields.deleted) files.push({ id, ...record.fields });
    }
    return files.sort((a, b) => (b.at ?? Infinity) - (a.at ?? Infinity));
  }

  /** The largest file the server takes, as it last said (Tus-Max-Size), so a file over it is
   * refused when chosen, offline too; the server checks again before any byte. */
  maxFileBytes() {
    try {
      return Number(globalThis.localStorage?.getItem(MAX_KEY)) || DEFAULT_MAX;
    } catch {
      return DEFAULT_MAX;
    }
  }

  async #learnLimit() {
    try {
      const answer = await fetch('/api/files/uploads', { method: 'OPTIONS', credentials: 'same-origin' });
      const max = Number(answer.headers.get('Tus-Max-Size'));
      if (max > 0) globalThis.localStorage?.setItem(MAX_KEY, String(max));
    } catch {
      // offline: the last answer (or the default) stands
    }
  }

  /** A text file's first 200 lines, as the server sends them (text/plain, never markup). */
  async firstLines(fileId) {
    const response = await fetch(`/api/files/${encodeURIComponent(fileId)}/text`, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`the text preview answered ${response.status}`);
    return response.text();
  }

  /** Files by name over what this device holds (lib/file-query.js: the server's rules), as
   * search results; a file whose message was deleted is hidden, as on the server. */
  search(query, { limit = 50 } = {}) {
    const q = this.#app.queries;
    const files = {};
    for (const [id, record] of q.collection('files').value.entries()) {
      const message = record.fields.message;
      if (typeof message === 'string' && q.record('messages', message)?.fields.deleted) continue;
      files[id] = record.fields;
    }
    const channels = {};
    // The channel's own name field, as the server reads it (a DM's shown name is its peer's).
    for (const c of q.channels.value) if (q.isMember(c.id)) channels[c.id] = q.record('channels', c.id)?.fields.name ?? '';
    const people = {};
    for (const p of q.people.value) people[p.id] = p;
    const ids = searchFiles(parseQuery(splitFileFilter(query)[1]), files, channels, people);
    return ids.slice(0, limit).map((id) => ({ id, ...files[id], file: true }));
  }

  async #readPins() {
    // Only look: opening would create the cache on every device that never pinned anything.
    if (typeof caches === 'undefined' || !(await caches.has(PINNED_CACHE))) {
      this.pinned.value = new Set();
      return;
    }
    const cache = await caches.open(PINNED_CACHE);
    this.pinned.value = new Set((await cache.keys()).map((r) => new URL(r.url).pathname));
  }

  /**
   * What files take on this device, per channel: copies kept for offline use (opened recently or
   * pinned) and bytes waiting to upload. Sizes come from the cached answers' Content-Length.
   * @returns {Promise<{total: number, channels: Map<string, {kept: number, pinned: number, waiting: number}>}>}
   */
  async space() {
    const channels = new Map();
    const row = (id) => {
      if (!channels.has(id)) channels.set(id, { kept: 0, pinned: 0, waiting: 0 });
      return channels.get(id);
    };
    let total = 0;
    for (const [name, cache] of await this.#caches()) {
      for (const request of await cache.keys()) {
        const fileId = FILE_URL.exec(new URL(request.url).pathname)?.[1];
        const channel = fileId && this.#app.queries.record('files', fileId)?.fields.channel;
        const size = Number((await cache.match(request))?.headers.get('content-length')) || 0;
        total += size;
        if (!channel) continue; // a file this device no longer sees: counted in the total only
        row(channel).kept += size;
        if (name === PINNED_CACHE && !request.url.includes('/thumb/')) row(channel).pinned += 1;
      }
    }
    for (const job of this.queue?.jobs() ?? []) {
      const size = job.files.reduce((sum, f) => sum + f.size, 0);
      row(job.channel).waiting += size;
      total += size;
    }
    return { total, channels };
  }

  /** Free the copies of a channel's files kept on this device (recent and pinned). Files waiting
   * to upload are never removed: they are in the queue's own database, not in these caches. */
  async free(channelId) {
    for (const [, cache] of await this.#caches()) {
      for (const request of await cache.keys()) {
        const fileId = FILE_URL.exec(new URL(request.url).pathname)?.[1];
        if (fileId && this.#app.queries.record('files', fileId)?.fields.channel === channelId) await cache.delete(request);
      }
    }
    await this.#readPins();
  }

  async #caches() {
    if (typeof caches === 'undefined') return [];
    const found = [];
    for (const name of [PINNED_CACHE, RECENT_CACHE]) {
      if (await caches.has(name)) found.push([name, await caches.open(name)]);
    }
    return found;
  }

  /** Keep a file (and its thumbnail) for offline use, or stop keeping it. */
  async togglePin(fileId) {
    const cache = await caches.open(PINNED_CACHE);
    const urls = [`/api/files/${fileId}`, `/api/files/${fileId}/thumb/small`];
    if (this.pinned.value.has(urls[0])) {
      await Promise.all(urls.map((u) => cache.delete(u)));
    } else {
      await cache.add(urls[0]);
      await cache.add(urls[1]).catch(() => {}); // a file without a thumbnail is still kept
    }
    await this.#readPins();
  }
}
