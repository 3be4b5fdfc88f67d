// Tabs of one browser share one replica. One of them, the leader (holder of the Web Lock
// `teamtalk-sync`), talks to the network; the others write to IndexedDB and tell it over a
// BroadcastChannel. The leader tells everyone what changed and they re-read IndexedDB.
// When the leader tab closes, the lock passes to the next tab waiting for it.
//
// Messages on the channel:
//   {t: 'wrote'}                      a follower wrote to the outbox: leader, sync
//   {t: 'changed', keys, full}        records / outbox changed: re-read them
//   {t: 'status', status}             the leader's connection state
//   {t: 'ephemeral', frame}           typing / presence relayed from the live channel
//   {t: 'typing', frame}              a follower wants to send a typing frame
//   {t: 'hello'}                      a new tab asks the leader to repeat its state

export const LOCK_NAME = 'teamtalk-sync';
export const CHANNEL_NAME = 'teamtalk';

export class Coordinator {
  #channel = null;
  #onMessage;
  #leader = false;
  #release = null;

  constructor({ onMessage }) {
    this.#onMessage = onMessage;
    if (globalThis.BroadcastChannel) {
      this.#channel = new BroadcastChannel(CHANNEL_NAME);
      this.#channel.onmessage = (event) => this.#onMessage(event.data);
    }
  }

  get leader() {
    return this.#leader;
  }

  /** Resolves the first time this tab becomes the leader (maybe never, while another leads). */
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

  post(message) {
    this.#channel?.postMessage(message);
  }

  close() {
    this.resign();
    this.#channel?.close();
  }
}
