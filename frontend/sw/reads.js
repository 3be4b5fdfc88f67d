// After a push or a sync reaches the service worker with no page open: what the replica now says
// about unread messages, shown outside the app (imported by sw.js). The rule is the sidebar's:
// the counts come from the same Store and Queries the page builds (dispatch/), over the same
// IndexedDB replica, so the badge and the notifications can never disagree with the app.
//
// Rule 1. A notification whose conversation has nothing unread any more (read on another device)
//         is closed, once the replica holds the message it announced (platform/push.js
//         closeRead: thread notifications are left alone).
// Rule 2. The app icon's badge is the total unread count, muted channels aside (Badging API).
// Rule 3. The notification a push has just shown stays: a push must leave a notification up, or
//         the browser shows its own "updated in the background" one. The next push or sync
//         closes it if it is read by then.

import { Store } from '../src/dispatch/store.js';
import { Queries } from '../src/dispatch/queries.js';
import { closeRead, setBadge } from '../src/platform/push.js';

/**
 * @param {ServiceWorkerRegistration} registration
 * @param {import('../src/replica/replica.js').Replica} replica
 * @param {any} nav the worker's navigator (setAppBadge / clearAppBadge)
 * @param {string | null} [keep] the tag of the notification a push has just shown (Rule 3)
 */
export async function followReads(registration, replica, nav, keep = null) {
  const store = new Store();
  store.load(await replica.snapshot());
  const queries = new Queries(store);
  setBadge(queries.totalUnread.value, nav);
  await closeRead(
    registration,
    (channel) => queries.unread(channel),
    (message) => store.shown('messages', message) !== null,
    keep,
  );
}
