// Tabs of one browser share one replica. One of them, the leader (holder of the Web Lock
// `teamtalk-sync`), talks to the network; the others write to IndexedDB and tell it over a
// BroadcastChannel. The leader tells everyone what changed and they re-read IndexedDB.
// When the leader tab closes, the lock passes to the next tab waiting for it.
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
   * Calls onLeader the first time this tab becomes the leader (maybe never, while another leads).
   * @param {() => void} onLeader
   */
  elect(onLeader) {
    const locks = globalThis.navigator?.locks;
    if (!locks) {
      this.#leader = true;
      onLeader();
      return;
    }
    locks.request(LOCK_NAME, () => {
      this.#leader = true;
      onLeader();
      // Hold the lock for the life of the tab (or until resign()).
      return new Promise((resolve) => {
        this.#release = resolve;
      });
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

  close() {
    this.resign();
    this.#channel?.close();
  }
}
