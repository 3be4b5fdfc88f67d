// The few operations the views need that are not changes to records (my devices, invites, push
// subscriptions, a record's versions, calendar feeds and imports): server calls that need a
// connection. Actions (actions.js) extends this, so a view reaches them as `app.actions.devices()`
// and never holds the transport itself.

/**
 * @typedef {{devices(): Promise<any>, revokeDevice(id: string): Promise<any>, createInvite(): Promise<any>,
 *   pushKey(): Promise<any>, pushSubscriptions(): Promise<any>, subscribePush(s: object): Promise<any>,
 *   revokePush(id: string): Promise<any>, recordVersions(c: string, id: string): Promise<any>,
 *   calendarFeeds(): Promise<any>, createCalendarFeed(o: object): Promise<any>, revokeCalendarFeed(id: string): Promise<any>,
 *   importCalendar(c: string, text: string, tz: string): Promise<any>}} ServerTransport
 */

// Online only: each throws an ApiError with `offline` when the server is unreachable.
export class ServerCalls {
  #transport;

  /** @param {ServerTransport | null} transport */
  constructor(transport) {
    this.#transport = transport;
  }

  /** My signed-in devices: `[{id, name, created, last_seen, current}]`. */
  devices() {
    return this.#server().devices();
  }

  /** Sign a device out (its session ends and its live socket closes). */
  revokeDevice(id) {
    return this.#server().revokeDevice(id);
  }

  /** A new invite link: `{token, url, expires}`. */
  createInvite() {
    return this.#server().createInvite();
  }

  /** The server's VAPID public key: `{key}`. */
  pushKey() {
    return this.#server().pushKey();
  }

  /** The push subscriptions of my devices: `[{id, device, device_name, service, created, this_device}]`. */
  pushSubscriptions() {
    return this.#server().pushSubscriptions();
  }

  /** Register this device's push subscription (`{endpoint, keys, lang}`); replaces its earlier one. */
  subscribePush(subscription) {
    return this.#server().subscribePush(subscription);
  }

  /** Stop pushes to one of my devices. */
  revokePushSubscription(id) {
    return this.#server().revokePush(id);
  }

  /** Every version of a record, with author and time (history and restore). */
  recordVersions(collection, id) {
    return this.#server().recordVersions(collection, id);
  }

  /** My private calendar feeds; one new one (its URLs are shown once); revoking one. */
  calendarFeeds() {
    return this.#server().calendarFeeds();
  }

  createCalendarFeed(options) {
    return this.#server().createCalendarFeed(options);
  }

  revokeCalendarFeed(id) {
    return this.#server().revokeCalendarFeed(id);
  }

  /** Import an .ics file's events into a calendar (by UID: a second import updates). */
  importCalendar(calendar, text, tz) {
    return this.#server().importCalendar(calendar, text, tz);
  }

  #server() {
    if (!this.#transport) throw new Error('no transport');
    return this.#transport;
  }
}
