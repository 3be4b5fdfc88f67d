// POST /api/sync's round trip over a WebSocket (GET /api/sync/socket, backend/http/sync_socket.py),
// for the send worker. In Chromium a fetch costs ~4.5 ms from the call to the answer on the 2-core
// reference box; a frame and its answer on an open socket ~0.9 ms.
//
// Rule 1. Only while the socket is open: `sync()` returns null otherwise (the caller POSTs) and
//         opens it for the next request. A send never waits for a socket to open.
// Rule 2. Answers come in the order of the requests (the server answers each before it reads the
//         next), so the waiting requests are a queue. An answer `{status, body}` that is not 200
//         rejects with the ApiError the POST would have thrown; the server then closes the socket
//         (4400) without reading what was sent behind it, which Rule 3 leaves to a POST.
// Rule 3. A socket that closes or fails rejects what it still owes with a network ApiError
//         (status 0): the outcome is unknown, as for a POST whose connection dropped, and sending
//         the same request again is safe (a mutation's mid makes a retry apply once).
// Rule 4. A socket keeps the cookie of its handshake, a POST sends the current one. So a socket
//         is opened for one device (`?device=`, checked by the server) and used only for that
//         device's requests; an answer 401 closes it too (the session it was let in with is gone,
//         a new one would carry the current cookie). Both leave the request to a POST.
// Rule 5. A request larger than the server takes in one frame (MAX_FRAME; a larger one closes the
//         socket with 1009, PROTOCOL.md) is POSTed instead, and the socket stays open.

import { encode, decode } from '@msgpack/msgpack';
import { ApiError, PROTOCOL_VERSION } from './transport.js';

/** The server's largest frame on this socket (backend/cli.py `ws_max_size`). */
export const MAX_FRAME = 1 << 20;

/** @typedef {{resolve: (body: any) => void, reject: (error: any) => void}} Waiter */

export class SyncSocket {
  #url;
  #make;
  /** @type {string | null} the device the socket was opened for (Rule 4) */
  #device = null;
  /** @type {WebSocket | null} */
  #socket = null;
  /** @type {Waiter[]} */
  #waiting = [];

  /**
   * @param {string} url ws(s)://host/api/sync/socket
   * @param {(url: string) => WebSocket} [make]
   */
  constructor(url, make = (u) => new WebSocket(u)) {
    this.#url = url;
    this.#make = make;
  }

  /** The socket's URL for a page or worker at `location`. @param {{protocol: string, host: string}} location */
  static urlFor(location) {
    return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/sync/socket`;
  }

  /**
   * One push + pull round trip over the socket (as Transport#sync), or null when it is not open
   * for `device` or the request is too large for one frame (the caller POSTs it).
   * @param {{changes: any[], cursors: Record<string, number>, limit?: number, recent?: number}} request
   * @param {string} device the device whose request it is (Rule 4)
   * @returns {Promise<any> | null}
   */
  sync({ changes, cursors, limit = 1000, recent = 0 }, device) {
    if (this.#socket && this.#device !== device) this.close();
    const socket = this.#socket;
    if (!socket || socket.readyState !== 1) {
      this.#connect(device);
      return null;
    }
    const body = encode({ v: PROTOCOL_VERSION, changes, cursors, limit, ...(recent ? { recent } : {}) });
    if (body.byteLength > MAX_FRAME) return null; // Rule 5
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      try {
        socket.send(body);
      } catch (error) {
        this.#drop(socket, String(error));
      }
    });
  }

  /** Open the socket for `device` now, so that its first request finds it open. @param {string} device */
  open(device) {
    if (this.#socket && this.#device !== device) this.close();
    this.#connect(device);
  }

  /** @param {string} device */
  #connect(device) {
    if (this.#socket) {
      if (this.#socket.readyState <= 1) return; // opening, or open
      this.#drop(this.#socket, 'the sync socket closed'); // closing: what it owes fails now (Rule 3)
    }
    let socket;
    try {
      socket = this.#make(`${this.#url}?device=${encodeURIComponent(device)}`);
    } catch {
      return; // no sockets here: every request is POSTed
    }
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    this.#device = device;
    socket.onmessage = ({ data }) => {
      const waiter = this.#waiting.shift();
      if (!waiter) return;
      let answer;
      try {
        answer = decode(new Uint8Array(data));
      } catch (error) {
        waiter.reject(new ApiError(0, { error: 'network', detail: `unreadable answer: ${error}` }));
        this.#drop(socket, 'the sync socket sent an unreadable answer'); // no telling what comes next
        return;
      }
      const { status, body } = /** @type {any} */ (answer);
      if (status === 200) waiter.resolve(body);
      else waiter.reject(new ApiError(status, body && typeof body === 'object' ? body : {}));
      if (status === 401) this.#drop(socket, 'the sync socket was signed out'); // Rule 4
    };
    socket.onclose = ({ code, reason }) => this.#drop(socket, `the sync socket closed (${code} ${reason})`);
    socket.onerror = () => this.#drop(socket, 'the sync socket failed');
  }

  /** Rule 3. @param {WebSocket} socket @param {string} detail */
  #drop(socket, detail) {
    if (this.#socket !== socket) return;
    this.#socket = null;
    const owed = this.#waiting;
    this.#waiting = [];
    for (const waiter of owed) waiter.reject(new ApiError(0, { error: 'network', detail }));
    try {
      socket.close();
    } catch {
      // already closed
    }
  }

  close() {
    if (this.#socket) this.#drop(this.#socket, 'the sync socket was closed');
  }
}
