// Presence and typing: the live channel's ephemeral side (never stored, never in the outbox). The
// leader tab sends my frames over its live socket; another tab hands them to the leader
// (sync/tab-messages.js). What is heard (from the socket, or relayed by the leader to the other
// tabs) goes into the store, and a typing indicator there expires by itself.

import * as tab from '../sync/tab-messages.js';

export class Presence {
  #store;
  #queries;
  #engine;
  #coordinator;
  #typingTimer = null;

  /**
   * @param {object} o
   * @param {import('./store.js').Store} o.store
   * @param {import('./queries.js').Queries} o.queries
   * @param {() => (import('../sync/engine.js').SyncEngine | null)} o.engine the leader's engine
   * @param {() => (import('../sync/coordinator.js').Coordinator | null)} o.coordinator
   */
  constructor({ store, queries, engine, coordinator }) {
    this.#store = store;
    this.#queries = queries;
    this.#engine = engine;
    this.#coordinator = coordinator;
  }

  /** The app started: typing indicators expire once a second. */
  start() {
    this.#typingTimer = setInterval(() => this.#store.expireTyping(), 1000);
  }

  stop() {
    clearInterval(this.#typingTimer);
  }

  /** A presence or typing frame heard on the live channel (or relayed by the leader tab). */
  heard(frame) {
    if (frame.t === 'hello' && this.#store.localPresence.value === 'away' && this.#coordinator()?.leader) {
      this.#engine()?.sendLive({ t: 'presence', status: 'away' }); // a new connection starts online
    }
    if (frame.t === 'typing') {
      if (frame.user !== this.#queries.me.value) this.#store.setTyping(frame);
    } else {
      this.#store.setPresence(frame);
    }
  }

  /** Typing indicator: sent over the live channel by the leader tab. */
  typing(scope) {
    const frame = { t: 'typing', scope };
    if (this.#coordinator()?.leader) this.#engine()?.sendLive(frame);
    else this.#coordinator()?.post(tab.typing(frame));
  }

  /** My presence from this device: 'away' after a while idle or hidden, 'online' when back. */
  set(status) {
    if (this.#store.localPresence.value === status) return;
    this.#store.localPresence.value = status;
    const frame = { t: 'presence', status };
    if (this.#coordinator()?.leader) this.#engine()?.sendLive(frame);
    else this.#coordinator()?.post(tab.live(frame));
  }
}
