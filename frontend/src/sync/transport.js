// The data-source layer: bytes over HTTP. Knows the endpoints and encodings, not the rules.
// Runs in pages and in the service worker (no DOM use beyond an injected cookie reader).

import { encode, decode } from '@msgpack/msgpack';

export const PROTOCOL_VERSION = 1;
const MSGPACK = 'application/msgpack';

/** Every failed request becomes one of these. `status` is 0 when the network failed. */
export class ApiError extends Error {
  constructor(status, body = {}) {
    super(body.detail || body.error || (status ? `HTTP ${status}` : 'network error'));
    this.name = 'ApiError';
    this.status = status;
    this.code = body.error || (status ? 'http_error' : 'network');
    this.body = body;
  }

  get offline() {
    return this.status === 0;
  }
}

export class Transport {
  #base;
  #csrf;
  #fetch;

  /**
   * @param {object} o
   * @param {string} [o.base] origin prefix ('' in the page)
   * @param {() => (string|null|Promise<string|null>)} [o.csrf] reads the csrftoken cookie
   * @param {typeof fetch} [o.fetch]
   */
  constructor({ base = '', csrf, fetch: fetchImpl = (...args) => fetch(...args) } = {}) {
    this.#base = base;
    this.#csrf = csrf ?? (() => null);
    this.#fetch = fetchImpl;
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {{body?: BodyInit, headers?: Record<string, string>, raw?: boolean}} [options]
   */
  async #request(method, path, { body, headers = {}, raw = false } = {}) {
    const token = method === 'GET' ? null : await this.#csrf();
    let response;
    try {
      response = await this.#fetch(this.#base + path, {
        method,
        headers: { ...(token ? { 'x-csrftoken': token } : {}), ...headers },
        body,
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (error) {
      throw new ApiError(0, { error: 'network', detail: String(error?.message || error) });
    }
    if (raw) return response;
    const type = response.headers.get('content-type') || '';
    let data = null;
    if (response.status !== 204) {
      if (type.startsWith(MSGPACK)) data = decode(new Uint8Array(await response.arrayBuffer()));
      else if (type.includes('json')) data = await response.json().catch(() => null);
      else await response.text().catch(() => '');
    }
    if (!response.ok) throw new ApiError(response.status, data && typeof data === 'object' ? data : {});
    return data;
  }

  #json(method, path, payload) {
    return this.#request(method, path, {
      body: payload === undefined ? undefined : JSON.stringify(payload),
      headers: { 'content-type': 'application/json', accept: 'application/json' },
    });
  }

  /** The current CSRF token (the service worker keeps a copy for background sync). */
  csrfToken = () => this.#csrf();

  // --- accounts (JSON) -------------------------------------------------------------------------
  workspace = () => this.#json('GET', '/api/workspace');
  session = () => this.#json('GET', '/api/session');
  signUp = (form) => this.#json('POST', '/api/signup', form);
  signIn = (form) => this.#json('POST', '/api/signin', form);
  signOut = () => this.#json('POST', '/api/signout');
  devices = () => this.#json('GET', '/api/devices');
  revokeDevice = (id) => this.#json('DELETE', `/api/devices/${encodeURIComponent(id)}`);
  pushKey = () => this.#json('GET', '/api/push/key');
  pushSubscriptions = () => this.#json('GET', '/api/push/subscriptions');
  subscribePush = (subscription) => this.#json('POST', '/api/push/subscriptions', subscription);
  revokePush = (id) => this.#json('DELETE', `/api/push/subscriptions/${encodeURIComponent(id)}`);
  createInvite = () => this.#json('POST', '/api/invites', {});

  // --- long histories, search, versions (JSON) ---------------------------------------------------
  /** `{channel, before, limit}` (older top-level messages) or `{channel, thread}` (a thread). */
  history = (request) => this.#json('POST', '/api/history', request);
  /** `{channel, before?, limit?}`: a bulk history page (PROTOCOL.md, "Bulk history"), as MessagePack. */
  bulkHistory = (request) =>
    this.#request('POST', '/api/history/bulk', {
      body: JSON.stringify(request),
      headers: { 'content-type': 'application/json', accept: MSGPACK },
    });
  search = (q, limit = 50) => this.#json('GET', `/api/search?q=${encodeURIComponent(q)}&limit=${limit}`);
  versions = (id) => this.#json('GET', `/api/messages/${encodeURIComponent(id)}/versions`);
  searchTasks = (q, zone, limit = 50) =>
    this.#json('GET', `/api/tasks/search?q=${encodeURIComponent(q)}&zone=${encodeURIComponent(zone)}&limit=${limit}`);
  searchFiles = (q, limit = 50) => this.#json('GET', `/api/files/search?q=${encodeURIComponent(q)}&limit=${limit}`);
  /** A deleted task again, as a new task (`{id, restored_from}`): its creator or an admin. */
  restoreTask = (id) => this.#json('POST', `/api/tasks/${encodeURIComponent(id)}/restore`);
  recordVersions = (collection, id) =>
    this.#json('GET', `/api/records/${encodeURIComponent(collection)}/${encodeURIComponent(id)}/versions`);

  // --- calendar feeds (JSON) ---------------------------------------------------------------------
  calendarFeeds = () => this.#json('GET', '/api/calendar/feeds');
  createCalendarFeed = (options) => this.#json('POST', '/api/calendar/feeds', options);
  revokeCalendarFeed = (id) => this.#json('DELETE', `/api/calendar/feeds/${encodeURIComponent(id)}`);
  importCalendar = (calendar, text, tz) =>
    this.#request('POST', `/api/calendar/import?calendar=${encodeURIComponent(calendar)}&tz=${encodeURIComponent(tz)}`, {
      body: text,
      headers: { 'content-type': 'text/calendar', accept: 'application/json' },
    });

  // --- sync (MessagePack) ----------------------------------------------------------------------
  /** One push + pull round trip. */
  sync({ changes, cursors, limit = 1000, recent = 0 }) {
    const body = encode({ v: PROTOCOL_VERSION, changes, cursors, limit, ...(recent ? { recent } : {}) });
    return this.#request('POST', '/api/sync', {
      body,
      headers: { 'content-type': MSGPACK, accept: MSGPACK },
    });
  }
}
