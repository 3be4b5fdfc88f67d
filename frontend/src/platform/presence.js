// The page's side of presence: 'away' after IDLE_MS without input or while the page is
// hidden, 'online' again on the next input with the page visible. The app sends the frame.

export const IDLE_MS = 5 * 60_000;
const INPUT = ['pointerdown', 'keydown', 'wheel', 'touchstart', 'mousemove'];

export class IdleWatcher {
  #onChange;
  #doc;
  #win;
  #idleMs;
  #timer = null;
  #status = 'online';
  #lastInput = 0;

  constructor({ onChange, document: doc = globalThis.document, window: win = globalThis, idleMs = IDLE_MS }) {
    this.#onChange = onChange;
    this.#doc = doc;
    this.#win = win;
    this.#idleMs = idleMs;
  }

  start() {
    const active = () => this.#active();
    for (const type of INPUT) this.#win.addEventListener(type, active, { passive: true });
    this.#doc.addEventListener('visibilitychange', () => {
      if (this.#doc.visibilityState === 'hidden') this.#set('away');
      else this.#active(true);
    });
    this.#arm();
  }

  #active(force = false) {
    const now = Date.now();
    if (!force && now - this.#lastInput < 1000 && this.#status === 'online') return; // mousemove is chatty
    this.#lastInput = now;
    if (this.#doc.visibilityState !== 'hidden') this.#set('online');
    this.#arm();
  }

  #arm() {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#set('away'), this.#idleMs);
  }

  #set(status) {
    if (status === this.#status) return;
    this.#status = status;
    this.#onChange(status);
  }
}
