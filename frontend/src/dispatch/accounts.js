// Who is signed in on this device (App, app.js, delegates here): the session found at boot (the
// server's, or offline the one the replica kept), sign-up, sign-in and sign-out, and what the
// signed-out screen needs to know (does the workspace need an owner first, is the server out of
// reach). A session is adopted into the replica before the app starts: a different person than the
// stored one gets a clean replica (Replica#setSession).

import { Status } from '../sync/engine.js';
import * as tab from '../sync/tab-messages.js';
import { deviceName } from '../lib/device-name.js';

export class Accounts {
  #transport;
  #env;
  #store;
  #replica;
  #shown;
  #start;
  #stopAll;
  #post;
  #onStorageError;

  /**
   * @param {object} o
   * @param {any} o.transport
   * @param {{navigator?: any}} o.env
   * @param {import('./store.js').Store} o.store
   * @param {() => (import('../replica/replica.js').Replica | null)} o.replica
   * @param {{phase: {value: string}, workspace: {value: any}, offlineAtStart: {value: boolean}}} o.shown the
   *   App's signals this sets
   * @param {() => void} o.start show the app and start syncing (App#start)
   * @param {() => void} o.stopAll stop syncing and leave the tabs (App#stopAll)
   * @param {(message: any) => void} o.post tell the other tabs
   * @param {(error: any) => void} o.onStorageError
   */
  constructor({ transport, env, store, replica, shown, start, stopAll, post, onStorageError }) {
    this.#transport = transport;
    this.#env = env;
    this.#store = store;
    this.#replica = replica;
    this.#shown = shown;
    this.#start = start;
    this.#stopAll = stopAll;
    this.#post = post;
    this.#onStorageError = onStorageError;
  }

  /** At boot, with the replica open: find the session and start, or show the signed-out screen. */
  async resume() {
    let session = null;
    try {
      session = await this.#transport.session();
    } catch (error) {
      if (error.status === 401) {
        await this.showSignedOut();
        return;
      }
      // Offline (or the server is down): carry on with the session we had, if any.
      session = this.#store.meta.value.session ?? null;
      if (!session) {
        this.#shown.offlineAtStart.value = error.offline;
        await this.showSignedOut();
        return;
      }
      this.#store.status.value = Status.OFFLINE;
      this.#start();
      return;
    }
    await this.#adopt(session);
  }

  /** Learn whether the workspace needs an owner first, so the right form shows at once. */
  async showSignedOut() {
    try {
      this.#shown.workspace.value = await this.#transport.workspace();
      this.#shown.offlineAtStart.value = false;
    } catch (error) {
      this.#shown.offlineAtStart.value = Boolean(error.offline);
    }
    this.#shown.phase.value = 'signed-out';
  }

  async #adopt(session) {
    const replica = this.#replica();
    try {
      const wiped = await replica.setSession(session);
      if (wiped) this.#store.load(await replica.snapshot());
      else this.#store.setMeta((await replica.snapshotPending({ outbox: false })).meta);
      // The CSRF token, for background sync from the service worker (which has no cookies API).
      const token = this.#transport.csrfToken?.();
      if (token) await replica.setMeta('csrf', token);
    } catch (error) {
      this.#onStorageError(error);
    }
    const workspace = this.#shown.workspace;
    workspace.value = session.workspace ? { ...session.workspace, needs_owner: false } : workspace.value;
    this.#env.navigator?.storage?.persist?.().catch(() => {});
    this.#start();
  }

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
    this.#post(tab.signedOut());
    this.#stopAll();
    try {
      await this.#replica().clear();
    } catch (error) {
      this.#onStorageError(error);
    }
    this.#store.load({ records: [], outbox: [], failed: [], meta: {} });
    await this.showSignedOut();
  }

  /** Another tab signed out: this one shows the signed-out screen too (that tab cleared the replica). */
  async signedOutElsewhere() {
    this.#stopAll();
    this.#store.load({ records: [], outbox: [], failed: [], meta: {} });
    await this.showSignedOut();
  }

  /** The server no longer knows our session (revoked elsewhere): keep the outbox, ask to sign in. */
  async signedOutByServer() {
    this.#stopAll();
    await this.showSignedOut();
  }
}
