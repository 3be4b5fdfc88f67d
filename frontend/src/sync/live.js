// The live channel: a WebSocket to /api/live with MessagePack frames, reconnecting with
// backoff. Data source only: frames go to `onFrame`, the engine decides what they mean.

import { encode, decode } from '@msgpack/msgpack';
import { backoffDelay } from '../lib/backoff.js';

const PING_EVERY = 25_000;

export function liveUrl(location) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api/live?format=msgpack`;
}

export class LiveSocket {
  #url;
  #onFrame;
  #onState;
  #socket = null;
  #attempt = 0;
  #retryTimer = null;
  #pingTimer = null;
  #stopped = true;
  #WebSocket;

  /**
   * @param {object} o
   * @param {string} o.url
   * @param {(frame: {t: string, [key: string]: any}) => void} o.onFrame a decoded frame
   * @param {(state: 'open' | 'closed', code?: number) => void} [o.onState]
   * @param {typeof WebSocket} [o.WebSocketImpl]
   */
  constructor({ url, onFrame, onState = () => {}, WebSocketImpl = globalThis.WebSocket }) {
    this.#url = url;
    this.#onFrame = onFrame;
    this.#onState = onState;
    this.#WebSocket = WebSocketImpl;
  }

  get open() {
    return this.#socket?.readyState === 1;
  }

  start() {
    this.#stopped = false;
    if (!this.#socket) this.#connect();
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pingTimer);
    this.#socket?.close(1000);
    this.#socket = null;
  }

  /** Reconnect now (e.g. the browser came back online) instead of waiting for the backoff. */
  kick() {
    if (this.#stopped || this.open) return;
    clearTimeout(this.#retryTimer);
    this.#attempt = 0;
    this.#socket?.close();
    this.#socket = null;
    this.#connect();
  }

  send(frame) {
    if (!this.open) return false;
    this.#socket.send(encode(frame));
    return true;
  }

  #connect() {
    let socket;
    try {
      socket = new this.#WebSocket(this.#url);
    } catch {
      this.#retry();
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    socket.onopen = () => {
      this.#attempt = 0;
      this.#onState('open');
      clearInterval(this.#pingTimer);
      this.#pingTimer = setInterval(() => this.send({ t: 'ping' }), PING_EVERY);
    };
    socket.onmessage = (event) => {
      let frame;
      try {
        frame = typeof event.data === 'string' ? JSON.parse(event.data) : decode(new Uint8Array(event.data));
      } catch {
        return; // a frame we cannot read is dropped; the next sync catches up
      }
      if (frame && typeof frame.t === 'string') this.#onFrame(frame);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      clearInterval(this.#pingTimer);
      this.#socket = null;
      this.#onState('closed', event.code);
      // 4401: signed out, 4403: foreign origin. Reconnecting cannot help.
      if (event.code === 4401 || event.code === 4403) return;
      this.#retry();
    };
    socket.onerror = () => {}; // onclose follows and schedules the retry
  }

  #retry() {
    if (this.#stopped) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), backoffDelay(this.#attempt++, { base: 1000 }));
  }
}
