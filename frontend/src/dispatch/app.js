// The application's lifecycle: open the replica, find the session, elect the sync leader,
// wire the engine's events into the store, and expose the signals the views read
// (phase, workspace, notices). The composition root (main.js) creates one of these.
// Who is signed in (the session, sign-up/in/out) is accounts.js; what follows a local write
// (show, send, tell the tabs, hold drawing) is local-writes.js; presence and typing presence.js;
// search online and offline search.js.

import { signal } from '@preact/signals';
import { Replica } from '../replica/replica.js';
import { deleteReplicaDB } from '../replica/db.js';
import { SyncEngine, Status } from '../sync/engine.js';
import { Coordinator } from '../sync/coordinator.js';
import { SendWorker } from '../sync/sender.js';
import * as tab from '../sync/tab-messages.js';
import { Store } from './store.js';
import { Queries } from './queries.js';
import { Actions } from './actions.js';
import { History } from './history.js';
import { Holdings } from '../replica/holdings.js';
import { OfflineQueries } from './offline.js';
import { Backfill } from './backfill.js';
import { TaskQueries } from './task-queries.js';
import { TaskActions } from './task-actions.js';
import { Accounts } from './accounts.js';
import { LocalWrites } from './local-writes.js';
import { Presence } from './presence.js';
import { search } from './search.js';

export class App {
  /** 'loading' | 'signed-out' | 'ready' | 'fatal' */
  phase = signal('loading');
  /** {name, needs_owner} from GET /api/workspace, or null while unknown / offline. */
  workspace = signal(null);
  /** Banners: each null or a reason. */
  updateRequired = signal(false);
  storageError = signal(null); // 'quota' | 'storage'
  dbState = signal(null); // 'blocked' | 'versionchange' | 'terminated'
  /** True when signed out and the server cannot be reached. */
  offlineAtStart = signal(false);

  store = new Store();
  queries = new Queries(this.store);
  replica = null;
  actions = null;
  history = null;
  /** Tasks: queries and actions (task-queries.js, task-actions.js), made with the actions. */
  tasks = null;
  taskActions = null;
  engine = null;
  /** Keep offline (issue 16): choices and sizes, and the leader tab's backfill. */
  keeping = new OfflineQueries(this.store, this.queries);
  backfill = null;
  /** The replica's bulk side (replica/holdings.js). */
  holdings = null;
  /** Web Push on this device (platform/push.js); set by the composition root. @type {any} */
  push = null;
  /** Files (files/feature.js); set by the composition root. @type {any} */
  files = null;

  #transport;
  #coordinator = null;
  #env;
  #writes;
  #accounts;
  #presence;

  /** env: {location, navigator, registerBackgroundSync()} (the page's; injected for tests). */
  constructor({ transport, env = {} }) {
    this.#transport = transport;
    this.#env = env;
    this.#writes = new LocalWrites({
      store: this.store,
      replica: () => this.replica,
      engine: () => this.engine,
      coordinator: () => this.#coordinator,
      env,
      storageError: this.storageError,
      onStorageError: (error) => this.#storageFailed(error),
      refresh: (what) => this.#refresh(what),
    });
    this.#presence = new Presence({ store: this.store, queries: this.queries, engine: () => this.engine, coordinator: () => this.#coordinator });
    const { phase, workspace, offlineAtStart } = this;
    this.#accounts = new Accounts({
      transport,
      env,
      store: this.store,
      replica: () => this.replica,
      shown: { phase, workspace, offlineAtStart },
      start: () => this.#start(),
      stopAll: () => this.#stopAll(),
      post: (message) => this.#coordinator?.post(message),
      onStorageError: (error) => this.#storageFailed(error),
    });
  }

  async boot() {
    try {
      this.replica = await Replica.open(undefined, {
        onBlocked: () => (this.dbState.value = 'blocked'),
        onVersionChange: () => {
          this.dbState.value = 'versionchange';
          this.engine?.stop();
        },
        onTerminated: () => (this.dbState.value = 'terminated'),
      });
      this.store.load(await this.replica.snapshot());
      this.holdings = await Holdings.open();
    } catch (error) {
      this.#storageFailed(error);
      this.phase.value = 'fatal';
      return;
    }
    this.actions = new Actions({
      replica: this.replica,
      queries: this.queries,
      transport: this.#transport,
      afterWrite: (mutations, what) => this.#writes.after(mutations, what),
      beforeSend: () => this.#writes.holdDrawing(),
      sendNow: () => Boolean(this.#coordinator?.leader && this.engine?.idle),
      sender: () => this.#sender,
      started: (first) => this.engine?.trigger(first),
      writing: this.store.writing,
      store: this.store,
      onStorageError: (error) => this.#storageFailed(error),
    });
    this.tasks = new TaskQueries(this.queries, this.store);
    this.taskActions = new TaskActions({ actions: this.actions, queries: this.queries, tasks: this.tasks });
    this.history = new History({
      replica: this.replica,
      transport: this.#transport,
      queries: this.queries,
      onApplied: async (keys) => {
        await this.#refresh({ keys });
        this.#coordinator?.post(tab.changed(keys));
      },
    });

    await this.#accounts.resume();
  }

  #start() {
    this.phase.value = 'ready';
    if (this.#browserOffline()) this.store.status.value = Status.OFFLINE;
    if (this.#coordinator) return;
    this.#coordinator = new Coordinator({ onMessage: (message) => this.#onTabMessage(message) });
    this.#coordinator.post(tab.hello());
    this.#coordinator.elect(() => this.#lead());
    this.#presence.start();
  }

  /** @type {SendWorker | null} the leader's send worker (sync/sender.js), when the build has one */
  #sender = null;

  /** The send worker, while this tab leads and the build has one (benchmarks watch it). */
  get sender() {
    return this.#sender;
  }

  #lead() {
    const transport = this.#transport;
    // The send worker's URL, hashed, is put in by build.mjs; without it (tests under node, or
    // TT_SEND_WORKER=0) a send is written and sent from this thread.
    const url = /** @type {any} */ (globalThis).TEAMTALK_SEND_WORKER;
    try {
      if (url && typeof Worker === 'function') this.#sender = new SendWorker(new Worker(url, { type: 'module' }), () => transport.csrfToken());
    } catch {
      this.#sender = null;
    }
    this.engine = new SyncEngine({
      replica: this.replica,
      // The request is on its way: drawing may go on (see whenSent).
      transport: {
        sync: (body) => {
          const sent = transport.sync(body);
          this.#writes.releaseDrawing();
          return sent;
        },
      },
      location: this.#env.location,
      live: Boolean(this.#env.location),
      events: {
        onStatus: (status) => {
          this.store.status.value = status;
          this.#coordinator.post(tab.status(status));
        },
        onApplied: async (result) => {
          if (result.live) this.store.patch([...result.records]); // a live frame: nothing else changed
          else await this.#refresh({ ...result, records: [...result.records] });
          this.#coordinator.post(tab.changed([...result.keys], result.dropped.length > 0));
          // A hole between what we hold and what arrived is fetched before it counts as read.
          this.history.fillAllGaps();
        },
        onSignedOut: () => this.#accounts.signedOutByServer(),
        onUpdateRequired: () => (this.updateRequired.value = true),
        onStorageError: (error) => this.#storageFailed(error),
        onEphemeral: (frame) => {
          this.#presence.heard(frame);
          this.#coordinator.post(tab.ephemeral(frame));
        },
      },
    });
    if (this.#env.navigator && this.#env.navigator.onLine === false) this.store.status.value = Status.OFFLINE;
    this.engine.start();
    this.#startBackfill();
  }

  /** @param {import('../sync/tab-messages.js').TabMessage} message */
  async #onTabMessage(message) {
    switch (message.t) {
      case 'wrote':
        if (message.lazy) this.engine?.later();
        else this.engine?.trigger();
        break;
      case 'changed':
        await this.#refresh({ keys: message.keys ?? [], full: message.full });
        break;
      case 'held':
        await this.#readHeld(message.chunks ?? []);
        break;
      case 'status':
        if (!this.#coordinator?.leader) this.store.status.value = this.#browserOffline() ? Status.OFFLINE : message.status;
        break;
      case 'ephemeral':
        this.#presence.heard(message.frame);
        break;
      case 'typing':
      case 'live':
        this.engine?.sendLive(message.frame);
        break;
      case 'hello':
        if (this.#coordinator?.leader) this.#coordinator.post(tab.status(this.store.status.value));
        break;
      case 'signed-out':
        await this.#accounts.signedOutElsewhere();
        break;
      default:
        break;
    }
  }

  async #refresh(what) {
    try {
      await this.store.refresh(this.replica, what);
    } catch (error) {
      this.#storageFailed(error);
    }
  }

  /** Resolves when the send in progress has left (null when none is): main.js draws after it. */
  whenSent() {
    return this.#writes.whenSent();
  }

  /** Typing indicator: sent over the live channel by the leader tab (presence.js). */
  typing(scope) {
    this.#presence.typing(scope);
  }

  /** My presence from this device: 'away' after a while idle or hidden, 'online' when back. */
  setPresence(status) {
    this.#presence.set(status);
  }

  /**
   * Search messages (or tasks, or files): on the server (every channel I may see) when online,
   * else what this device holds, with the same syntax. `where` says which: 'server' | 'device'.
   */
  search(query, { limit = 50 } = {}) {
    const { store, queries, keeping, tasks, files } = this;
    return search({ transport: this.#transport, store, queries, keeping, tasks, files }, query, { limit });
  }

  /**
   * Restore a deleted task (its creator or an admin; needs a connection). The server writes a new
   * task from the deleted one (deletes are final), which reaches this device like any change.
   * @returns {Promise<string>} the new task's id
   */
  async restoreTask(id) {
    const answer = await this.#transport.restoreTask(id);
    this.engine?.trigger();
    return answer.id;
  }

  /** Every version of any record, with author and time (a task's history; needs a connection). */
  recordVersions(collection, id) {
    return this.#transport.recordVersions(collection, id);
  }

  /** Every version of a message (needs a connection). */
  versions(id) {
    return this.#transport.versions(id);
  }

  online() {
    this.engine?.online();
  }

  offline() {
    this.store.status.value = Status.OFFLINE;
    this.engine?.offline();
  }

  #browserOffline() {
    return this.#env.navigator?.onLine === false;
  }

  visible() {
    this.engine?.trigger();
  }

  #storageFailed(error) {
    this.storageError.value = error?.kind === 'quota' ? 'quota' : 'storage';
    console.error('storage', error);
  }

  /** Another tab's backfill stored these chunks: take their records (the store merges them). */
  async #readHeld(chunks) {
    const byScope = new Map();
    for (const [scope, bucket] of chunks) byScope.set(scope, [...(byScope.get(scope) ?? []), bucket]);
    try {
      for (const [scope, buckets] of byScope) this.store.patch(await this.holdings.heldRecords(scope, buckets));
    } catch (error) {
      this.#storageFailed(error);
    }
  }

  /** The leader tab fills kept channels in the background (dispatch/backfill.js). */
  #startBackfill() {
    // The bulk worker's URL, hashed, is put in by build.mjs; without it (tests under node) pages
    // are fetched and applied on this thread.
    const url = /** @type {any} */ (globalThis).TEAMTALK_BULK_WORKER;
    let worker = null;
    try {
      if (url && typeof Worker === 'function') worker = new Worker(url, { type: 'module' });
    } catch {
      worker = null;
    }
    this.backfill = new Backfill({
      holdings: this.holdings,
      transport: this.#transport,
      store: this.store,
      queries: this.queries,
      offline: this.keeping,
      env: { navigator: this.#env.navigator, replica: this.replica, worker, onStorageError: (error) => this.#storageFailed(error) },
      onApplied: async (records) => this.store.patch(records),
      onHeld: (chunks) => this.#coordinator?.post(tab.held(chunks)),
      onEvicted: async (keys) => {
        this.store.patch(keys.map((key) => [key, null]));
        this.#coordinator?.post(tab.changed(keys));
      },
    });
    this.backfill.start();
  }

  #stopAll() {
    this.backfill?.stop();
    this.backfill = null;
    this.engine?.stop();
    this.engine = null;
    this.#sender?.close();
    this.#sender = null;
    this.#coordinator?.close();
    this.#coordinator = null;
    this.#presence.stop();
    // What the stopped sync last said is no news of the next session (signed in again, in this
    // tab or another): it starts unknown, as at boot, until its leader tells.
    this.store.status.value = Status.SYNCING;
  }

  // --- accounts ----------------------------------------------------------------------------

  // (accounts.js: the session, sign-up, sign-in, sign-out)

  signUp(form) {
    return this.#accounts.signUp(form);
  }

  signIn(form) {
    return this.#accounts.signIn(form);
  }

  /** Sign out: end the session on the server and forget this device's replica. */
  signOut() {
    return this.#accounts.signOut();
  }

  async resetLocalData() {
    this.#stopAll();
    this.replica?.close();
    this.holdings?.close();
    await deleteReplicaDB();
  }
}
