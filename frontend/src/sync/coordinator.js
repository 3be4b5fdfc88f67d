// Tabs of one browser share one replica. One of them, the leader (holder of the Web Lock
// `teamtalk-sync`), talks to the network; the others write to IndexedDB and tell it over a
// BroadcastChannel. The leader tells everyone what changed and they re-read IndexedDB.
// When the leader tab closes, the lock passes to the next tab waiting for it. A tab that stops
// syncing (signed out, here or in another tab) closes its coordinator, which gives the lock up
// AND withdraws a request still waiting for it: else the lock would later be granted to that
// closed coordinator, which would lead with no session and never let go (no tab of the browser
// could lead again, and every tab signed in after it stayed on "Syncing").
//
// The messages on the channel are the union TabMessage in tab-messages.js; messages this
// version does not know (from a tab running another version) never reach onMessage.

import { isTabMessage } from './tab-messages.js';

/** @typedef {import('./tab-messages.js').TabMessage} TabMessage */

export const LOCK_NAME = 'teamtalk-sync';
export const CHANNEL_NAME = 'teamtalk';

export class Coordinator {
  /** @type {BroadcastChannel | null} */
  #channel = null;
  /** @type {(message: TabMessage) => void} */
  #onMessage;
  #leader = false;
  /** @type {((value?: unknown) => void) | null} */
  #release = null;
  /** Withdraws the request for the lock while it waits (close()). @type {AbortController | null} */
  #waiting = null;
  #closed = false;

  /** @param {{onMessage: (message: TabMessage) => void}} options */
  constructor({ onMessage }) {
    this.#onMessage = onMessage;
    if (globalThis.BroadcastChannel) {
      this.#channel = new BroadcastChannel(CHANNEL_NAME);
      this.#channel.onmessage = (event) => {
        if (isTabMessage(event.data)) this.#onMessage(event.data);
      };
    }
  }

  get leader() {
    return this.#leader;
  }

  /**
   * Calls onLeader the first time this tab becomes the leader (maybe never, while another leads;
   * never once closed).
   * @param {() => void} onLeader
   */
  elect(onLeader) {
    const locks = globalThis.navigator?.locks;
    if (!locks) {
      this.#leader = true;
      onLeader();
      return;
    }
    const waiting = new AbortController();
    this.#waiting = waiting;
    locks
      .request(LOCK_NAME, { signal: waiting.signal }, () => {
        this.#waiting = null;
        // Granted after close() (the grant was already on its way when the request was
        // withdrawn): let go at once, so the next tab waiting for the lock gets it.
        if (this.#closed) return undefined;
        this.#leader = true;
        onLeader();
        // Hold the lock for the life of the tab (or until resign()).
        return new Promise((resolve) => {
          this.#release = resolve;
        });
      })
      .catch((error) => {
        if (error?.name !== 'AbortError') throw error; // AbortError: withdrawn by close()
      });
  }

  resign() {
    this.#leader = false;
    this.#release?.();
    this.#release = null;
  }

  /** @param {TabMessage} message */
  post(message) {
    this.#channel?.postMessage(message);
  }

  /** Stop for good: leave the lock, or the queue for it, and the channel. */
  close() {
    this.#closed = true;
    this.#waiting?.abort();
    this.#waiting = null;
    this.resign();
    this.#channel?.close();
  }
}
