// The application's lifecycle: open the replica, find the session, elect the sync leader,
// wire the engine's events into the store, and expose the signals the views read
// (phase, workspace, notices). The composition root (main.js) creates one of these.
// What follows a local write (show, send, tell the tabs, hold drawing) is local-writes.js;
// search online and offline is search.js.

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
import { deviceName } from '../lib/device-name.js';
import { LocalWrites } from './local-writes.js';
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

    let session = null;
    try {
      session = await this.#transport.session();
    } catch (error) {
      if (error.status === 401) {
        await this.#showSignedOut();
        return;
      }
      // Offline (or the server is down): carry on with the session we had, if any.
      session = this.store.meta.value.session ?? null;
      if (!session) {
        this.offlineAtStart.value = error.offline;
        await this.#showSignedOut();
        return;
      }
      this.store.status.value = Status.OFFLINE;
      this.#start();
      return;
    }
    await this.#adopt(session);
  }

  /** Learn whether the workspace needs an owner first, so the right form shows at once. */
  async #showSignedOut() {
    try {
      this.workspace.value = await this.#transport.workspace();
      this.offlineAtStart.value = false;
    } catch (error) {
      this.offlineAtStart.value = Boolean(error.offline);
    }
    this.phase.value = 'signed-out';
  }

  async #adopt(session) {
    try {
      const wiped = await this.replica.setSession(session);
      if (wiped) this.store.load(await this.replica.snapshot());
      else this.store.setMeta((await this.replica.snapshotPending({ outbox: false })).meta);
      // The CSRF token, for background sync from the service worker (which has no cookies API).
      const token = this.#transport.csrfToken?.();
      if (token) await this.replica.setMeta('csrf', token);
    } catch (error) {
      this.#storageFailed(error);
    }
    this.workspace.value = session.workspace ? { ...session.workspace, needs_owner: false } : this.workspace.value;
    this.#env.navigator?.storage?.persist?.().catch(() => {});
    this.#start();
  }

  #start() {
    this.phase.value = 'ready';
    if (this.#browserOffline()) this.store.status.value = Status.OFFLINE;
    if (this.#coordinator) return;
    this.#coordinator = new Coordinator({ onMessage: (message) => this.#onTabMessage(message) });
    this.#coordinator.post(tab.hello());
    this.#coordinator.elect(() => this.#lead());
    this.#typingTimer = setInterval(() => this.store.expireTyping(), 1000);
  }

  #typingTimer = null;

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
        onSignedOut: () => this.#signedOutByServer(),
        onUpdateRequired: () => (this.updateRequired.value = true),
        onStorageError: (error) => this.#storageFailed(error),
        onEphemeral: (frame) => {
          this.#applyEphemeral(frame);
          this.#coordinator.post(tab.ephemeral(frame));
        },
      },
    });
    if (this.#env.navigator && this.#env.navigator.onLine === false) this.store.status.value = Status.OFFLINE;
    this.engine.start();
    this.#startBackfill();
  }

  #applyEphemeral(frame) {
    if (frame.t === 'hello' && this.store.localPresence.value === 'away' && this.#coordinator?.leader) {
      this.engine?.sendLive({ t: 'presence', status: 'away' }); // a new connection starts online
    }
    if (frame.t === 'typing') {
      if (frame.user !== this.queries.me.value) this.store.setTyping(frame);
    } else {
      this.store.setPresence(frame);
    }
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
        this.#applyEphemeral(message.frame);
        break;
      case 'typing':
      case 'live':
        this.engine?.sendLive(message.frame);
        break;
      case 'hello':
        if (this.#coordinator?.leader) this.#coordinator.post(tab.status(this.store.status.value));
        break;
      case 'signed-out':
        this.#stopAll();
        this.store.load({ records: [], outbox: [], failed: [], meta: {} });
        await this.#showSignedOut();
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

  /** Typing indicator: sent over the live channel by the leader tab. */
  typing(scope) {
    const frame = { t: 'typing', scope };
    if (this.#coordinator?.leader) this.engine?.sendLive(frame);
    else this.#coordinator?.post(tab.typing(frame));
  }

  /** My presence from this device: 'away' after a while idle or hidden, 'online' when back. */
  setPresence(status) {
    if (this.store.localPresence.value === status) return;
    this.store.localPresence.value = status;
    const frame = { t: 'presence', status };
    if (this.#coordinator?.leader) this.engine?.sendLive(frame);
    else this.#coordinator?.post(tab.live(frame));
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
    clearInterval(this.#typingTimer);
  }

  // --- accounts ----------------------------------------------------------------------------

  async signUp(form) {
    const session = await this.#transport.signUp({ ...form, device_name: this.#deviceName() });
    await this.#adopt(session);
    return session;
  }

  async signIn(form) {
    const session = await this.#transport.signIn({ ...form, device_name: this.#deviceName() });
    await this.#adopt(session);
    return session;
  }

  #deviceName() {
    return deviceName(this.#env.navigator?.userAgent);
  }

  /** Sign out: end the session on the server and forget this device's replica. */
  async signOut() {
    try {
      await this.#transport.signOut();
    } catch (error) {
      if (error.status !== 401) throw error;
    }
    this.#coordinator?.post(tab.signedOut());
    this.#stopAll();
    try {
      await this.replica.clear();
    } catch (error) {
      this.#storageFailed(error);
    }
    this.store.load({ records: [], outbox: [], failed: [], meta: {} });
    await this.#showSignedOut();
  }

  /** The server no longer knows our session (revoked elsewhere): keep the outbox, ask to sign in. */
  async #signedOutByServer() {
    this.#stopAll();
    await this.#showSignedOut();
  }

  async resetLocalData() {
    this.#stopAll();
    this.replica?.close();
    this.holdings?.close();
    await deleteReplicaDB();
  }
}
