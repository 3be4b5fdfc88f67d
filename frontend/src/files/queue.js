// The upload queue: messages with files, waiting for their bytes to reach the server.
//
// Rule 1. A job is one message and its files. Adding it stores the bytes (Blobs) in IndexedDB
//         first, in this database of its own (`teamtalk-files`), so a reload or a restart loses
//         nothing; the message is written to the replica only when every file is stored (done).
// Rule 2. States: `waiting` (ready to go when online; also a job cut off by going offline),
//         `uploading`, `paused` (by the person),
//         `failed` (with the reason; `retry` makes it waiting again), `done` (the message and
//         its file records were written: the job and its bytes leave the queue).
// Rule 3. One job uploads at a time, its files in order. A job found `uploading` when the queue
//         opens was cut by a reload: it is waiting again, and each file goes on from where the
//         server says it is (the tus location is kept with the file).
// Rule 4. Cancelling removes the job and its bytes (the server's partial upload expires).
// Rule 5. One queue runs at a time in a browser: a page or, with no page open, the service
//         worker on Background Sync (sw/uploads.js), under the Web Lock UPLOAD_LOCK. Whoever
//         takes the lock re-reads the jobs first (`reload`): the other may have finished some.
//
// I/O is injected: `upload(file, blob, {job, onProgress, signal, onLocation})` stores one file's
// bytes (files/tus.js in the browser), `hash(blob)` returns its SHA-256 (files/hashing.js),
// `deliver(job)` writes the file records and the message (Actions#sendWithFiles).

import { openDB } from 'idb';

export const STATES = ['waiting', 'uploading', 'paused', 'failed', 'done'];
export const UPLOAD_LOCK = 'teamtalk-uploads';
/** The Background Sync tag that wakes the service worker to run the queue (sw/sw.js). */
export const UPLOAD_SYNC_TAG = 'uploads';
const DB_NAME = 'teamtalk-files';

/** @typedef {{id: string, name: string, type: string, size: number, digest?: string, location?: string,
 *   sent?: number, width?: number, height?: number}} QueuedFile */
/** @typedef {{id: string, channel: string, text: string, thread: string | null, task?: string | null, message: string | null,
 *   mentions?: string, versionOf?: string | null, files: QueuedFile[], state: string, error?: string, created: number}} Job */

export async function openQueueDB(name = DB_NAME) {
  return openDB(name, 1, {
    upgrade(db) {
      db.createObjectStore('jobs', { keyPath: 'id' });
      db.createObjectStore('bytes');
    },
  });
}

export class UploadQueue {
  #db;
  #upload;
  #hash;
  #deliver;
  #online;
  /** @type {Map<string, Job>} */
  #jobs = new Map();
  #listeners = new Set();
  #running = null;
  #abort = null;

  /**
   * @param {object} o
   * @param {any} o.db an idb database from openQueueDB
   * @param {(file: QueuedFile, blob: Blob, o: {job: Job, onProgress(sent: number): void, onLocation(url: string): void, signal: AbortSignal}) => Promise<void>} o.upload
   * @param {(blob: Blob) => Promise<string>} o.hash
   * @param {(job: Job) => Promise<void>} o.deliver
   * @param {() => boolean} [o.online]
   */
  constructor({ db, upload, hash, deliver, online = () => true }) {
    this.#db = db;
    this.#upload = upload;
    this.#hash = hash;
    this.#deliver = deliver;
    this.#online = online;
  }

  /** Open the queue over what IndexedDB holds (Rule 3). */
  static async open(options) {
    const queue = new UploadQueue(options);
    await queue.reload();
    return queue;
  }

  /** Read the jobs again from IndexedDB (Rules 3 and 5); not while this queue runs. */
  async reload() {
    if (this.#loop) return;
    const jobs = new Map();
    for (const job of await this.#db.getAll('jobs')) {
      if (job.state === 'uploading') job.state = 'waiting';
      jobs.set(job.id, job);
    }
    this.#jobs = jobs;
    this.#changed();
  }

  /** @returns {Job[]} oldest first */
  jobs(channel = null) {
    return [...this.#jobs.values()].filter((j) => channel === null || j.channel === channel).sort((a, b) => a.created - b.created);
  }

  job(id) {
    return this.#jobs.get(id) ?? null;
  }

  /** @param {() => void} listener @returns {() => void} */
  subscribe(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async blob(fileId) {
    return (await this.#db.get('bytes', fileId)) ?? null;
  }

  /**
   * Queue a message with files (Rule 1). `files`: [{id, blob, name, type, width?, height?}].
   * @returns {Promise<Job>}
   */
  async add({ id, channel, text, thread = null, task = null, message, mentions = '', versionOf = null, files, now = Date.now() }) {
    /** @type {Job} */
    const job = {
      id,
      channel,
      text,
      thread,
      ...(task ? { task } : {}),
      message,
      mentions,
      versionOf,
      created: now,
      state: 'waiting',
      files: files.map((f) => ({ id: f.id, name: f.name, type: f.type || 'application/octet-stream', size: f.blob.size, width: f.width, height: f.height, sent: 0 })),
    };
    const tx = this.#db.transaction(['jobs', 'bytes'], 'readwrite');
    for (const f of files) tx.objectStore('bytes').put(f.blob, f.id);
    tx.objectStore('jobs').put(job);
    await tx.done;
    this.#jobs.set(job.id, job);
    this.#changed();
    return job;
  }

  async pause(id) {
    const job = this.#jobs.get(id);
    if (!job || (job.state !== 'waiting' && job.state !== 'uploading')) return;
    if (this.#running === id) this.#abort?.abort();
    await this.#set(job, { state: 'paused' });
  }

  async resume(id) {
    const job = this.#jobs.get(id);
    if (job?.state === 'paused') await this.#set(job, { state: 'waiting', error: undefined });
    this.run();
  }

  async retry(id) {
    const job = this.#jobs.get(id);
    if (job?.state === 'failed') await this.#set(job, { state: 'waiting', error: undefined });
    this.run();
  }

  /** Rule 4. */
  async cancel(id) {
    const job = this.#jobs.get(id);
    if (!job) return;
    if (this.#running === id) this.#abort?.abort();
    this.#jobs.delete(id);
    const tx = this.#db.transaction(['jobs', 'bytes'], 'readwrite');
    tx.objectStore('jobs').delete(id);
    for (const f of job.files) tx.objectStore('bytes').delete(f.id);
    await tx.done;
    this.#changed();
  }

  /** Upload waiting jobs one after another while online (Rule 3); resolves when idle. */
  run() {
    if (!this.#loop) this.#loop = this.#drain().finally(() => (this.#loop = null));
    return this.#loop;
  }

  #loop = null;

  async #drain() {
    for (;;) {
      if (!this.#online()) return;
      const next = this.jobs().find((j) => j.state === 'waiting');
      if (!next) return;
      await this.#process(next);
    }
  }

  async #process(job) {
    this.#running = job.id;
    const abort = (this.#abort = new AbortController());
    await this.#set(job, { state: 'uploading' });
    try {
      for (const file of job.files) {
        if (abort.signal.aborted) return;
        const blob = await this.blob(file.id);
        if (!blob) throw new Error('the file is no longer on this device');
        if (!file.digest) await this.#setFile(job, file, { digest: await this.#hash(blob) });
        if (file.sent === file.size && file.location) continue;
        await this.#upload(file, blob, {
          job,
          signal: abort.signal,
          onLocation: (url) => this.#setFile(job, file, { location: url }),
          onProgress: (sent) => {
            file.sent = sent;
            this.#changed();
          },
        });
        await this.#setFile(job, file, { sent: file.size });
      }
      if (abort.signal.aborted || !this.#jobs.has(job.id)) return;
      await this.#deliver(job);
      await this.#set(job, { state: 'done' });
      this.#jobs.delete(job.id);
      const tx = this.#db.transaction(['jobs', 'bytes'], 'readwrite');
      tx.objectStore('jobs').delete(job.id);
      for (const f of job.files) tx.objectStore('bytes').delete(f.id);
      await tx.done;
      this.#changed();
    } catch (error) {
      if (abort.signal.aborted || !this.#jobs.has(job.id)) return;
      // Cut off by the network going away: it waits for the network (Rule 2), and goes on from
      // the last byte the server confirmed. Anything else fails, with the reason and Retry.
      const state = this.#online() ? 'failed' : 'waiting';
      await this.#set(job, { state, error: state === 'failed' ? String(error?.message ?? error) : undefined });
    } finally {
      this.#running = null;
      this.#abort = null;
    }
  }

  async #set(job, patch) {
    Object.assign(job, patch);
    if (job.state !== 'done' && this.#jobs.has(job.id)) await this.#db.put('jobs', job);
    this.#changed();
  }

  async #setFile(job, file, patch) {
    Object.assign(file, patch);
    if (this.#jobs.has(job.id)) await this.#db.put('jobs', job);
    this.#changed();
  }

  #changed() {
    for (const listener of this.#listeners) listener();
  }
}
