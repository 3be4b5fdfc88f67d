// The page's side of the send worker (replica/send-worker.js): a send that leaves at once is
// written to the outbox and POSTed from the worker, so neither waits for the page's next frame.
//
// `send()` answers twice: `wrote` when the outbox holds the write (the mutations, for the store),
// and `first` with the request as it went (its outbox part, its cursors and the reply to come),
// which the engine takes as its first round (round.js). If the worker cannot do it (it failed to
// start, its database closed), `wrote` rejects and the caller writes on the page instead.

import { ApiError } from './transport.js';
import { StorageError } from '../replica/db.js';

/** @typedef {{pending: any[], cursors: Record<string, number>, reply: Promise<any>}} SentRequest */
/** @typedef {{promise: Promise<any>, resolve: (value: any) => void, reject: (error: any) => void}} Deferred */

export class SendWorker {
  #worker;
  #csrf;
  #next = 1;
  /** @type {Map<number, {wrote: Deferred, first: Deferred, reply: Deferred}>} */
  #jobs = new Map();
  #broken = false;
  /** Told when a request left the worker (performance.timeOrigin + now() there), with when the page
   * asked for it, when its write had committed and how it went (`via`: 'socket' or 'post'): for benchmarks.
   * @type {((at: number, steps: {asked: number, wrote: number, via: string}) => void) | null} */
  onPosted = null;

  /**
   * @param {Worker} worker
   * @param {() => (string | null | Promise<string | null>)} csrf
   */
  constructor(worker, csrf) {
    this.#worker = worker;
    this.#csrf = csrf;
    worker.onmessage = ({ data }) => this.#onMessage(data);
    worker.onerror = () => this.#fail(new Error('send worker failed'));
  }

  /** While set, sends go through the page's replica (an A/B run of the benchmark compares both). */
  paused = false;

  /** When false, the worker reads the stamp state before each write's puts instead of using the
   * one its last write left (send-worker.js, Rule 4): an A/B run of the benchmark compares both. */
  cached = true;

  /** When false, the worker POSTs its requests instead of sending them over its sync socket
   * (send-worker.js, Rule 4): an A/B run of the benchmark compares both. */
  socket = true;

  /** False once the worker failed (writes go through the page's replica from then on), or paused. */
  get ready() {
    return !this.#broken && !this.paused;
  }

  /**
   * @param {any[]} changes
   * @param {number} wallMs
   * @param {Record<string, unknown>} metaEntries
   * @param {number[]} supersede
   * @param {number} limit most mutations in the request
   * @param {{limit: number, recent: number}} request the request's pull part
   * @returns {{wrote: Promise<{mutations: any[]}>, first: Promise<SentRequest>}}
   */
  send(changes, wallMs, metaEntries, supersede, limit, request) {
    const id = this.#next++;
    const wrote = deferred();
    const first = deferred();
    const reply = deferred();
    reply.promise.catch(() => {}); // the engine awaits it; a request that is dropped must not warn
    first.promise.catch(() => {});
    this.#jobs.set(id, { wrote, first, reply });
    const csrf = this.#csrf();
    // Synchronous when the token is at hand (the page's cookie): the message goes in this task.
    const askedAt = performance.timeOrigin + performance.now();
    const { cached, socket } = this;
    const post = (token) =>
      this.#worker.postMessage({ id, askedAt, csrf: token, changes, wallMs, metaEntries, supersede, limit, request, cached, socket });
    if (csrf instanceof Promise) csrf.then(post, () => post(null));
    else post(csrf);
    return { wrote: wrote.promise, first: first.promise };
  }

  /**
   * A write only (no request): resolves with its mutations once the outbox holds it.
   * @param {any[]} changes
   * @param {number} wallMs
   * @param {Record<string, unknown>} metaEntries
   * @param {number[]} supersede
   * @returns {Promise<{mutations: any[]}>}
   */
  write(changes, wallMs, metaEntries, supersede) {
    return this.send(changes, wallMs, metaEntries, supersede, 0, { limit: 0, recent: 0 }).wrote;
  }

  #onMessage(data) {
    const job = this.#jobs.get(data.id);
    if (!job) return;
    if (data.t === 'wrote') {
      if (!data.ok) {
        this.#jobs.delete(data.id);
        const cause = Object.assign(new Error(data.error.message), { name: data.error.name });
        const error = data.error.name === 'StorageError' ? new StorageError(data.error.kind ?? 'storage', cause) : cause;
        job.wrote.reject(error);
        job.first.reject(error);
        return;
      }
      this.onPosted?.(data.postedAt, { asked: data.askedAt, wrote: data.wroteAt, via: data.via });
      job.wrote.resolve({ mutations: data.mutations });
      if (!data.outgoing) {
        this.#jobs.delete(data.id); // a write only: nothing more comes
        return;
      }
      job.first.resolve({ ...data.outgoing, reply: job.reply.promise });
      return;
    }
    this.#jobs.delete(data.id);
    if (data.ok) job.reply.resolve(data.body);
    else job.reply.reject(new ApiError(data.error.status, data.error.body ?? {}));
  }

  /** The worker is gone: every job still waiting fails, and later sends go through the page. */
  #fail(error) {
    this.#broken = true;
    for (const job of this.#jobs.values()) {
      job.wrote.reject(error);
      job.first.reject(error);
      job.reply.reject(new ApiError(0, { error: 'network', detail: error.message }));
    }
    this.#jobs.clear();
  }

  close() {
    this.#fail(new Error('send worker closed'));
    this.#worker.terminate();
  }
}

/** @returns {Deferred} */
function deferred() {
  /** @type {any} */
  const d = {};
  d.promise = new Promise((resolve, reject) => {
    d.resolve = resolve;
    d.reject = reject;
  });
  return d;
}
