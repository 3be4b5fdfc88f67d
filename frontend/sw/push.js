// The service worker's push and notification-click handlers (imported by sw.js). No app logic:
// the server decides what notifies and writes the words; this shows them and opens the app.
//
// Rule 1. One notification per conversation: the payload's `tag` names it, so a newer push
//         replaces the older one ("3 new messages in #site-a"; the server counts what is unread)
//         and a duplicate after a server crash is the same notification again.
// Rule 2. A click opens TeamTalk on the message: an open page is focused and told where to go
//         (OPEN); with none open, a new window opens on the message's URL.
// Rule 3. A subscription the browser rotates (pushsubscriptionchange) is replaced at once, with
//         the same options and without asking; if that fails, the page's renew() does it at the
//         next open (src/platform/push.js).

/**
 * @param {ServiceWorkerRegistration} registration @param {any} data the push payload
 * @returns {Promise<string>} the notification's tag
 */
export async function showPush(registration, data) {
  const tag = typeof data.tag === 'string' && data.tag ? data.tag : 'teamtalk';
  await registration.showNotification(data.title || 'TeamTalk', {
    body: data.body || '',
    tag,
    renotify: false,
    data: { url: data.url || '/', id: data.id ?? null, channel: data.channel ?? null, count: data.count ?? 1 },
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
  });
  return tag;
}

/** The push event's payload: JSON, or text as the body. */
export function payloadOf(event) {
  try {
    return event.data?.json() ?? {};
  } catch {
    return { body: event.data?.text() ?? '' };
  }
}

/**
 * Focus an open TeamTalk page and tell it where to go, or open one there (Rule 2).
 * @param {Clients} clients @param {string} origin @param {string} url
 */
export async function openAt(clients, origin, url) {
  const target = new URL(url || '/', origin).href;
  const pages = await clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = pages.find((page) => page.url.startsWith(origin));
  if (open) {
    await open.focus().catch(() => {});
    open.postMessage({ type: 'OPEN', url: target });
    return open;
  }
  return clients.openWindow(target);
}

/**
 * Rule 3: subscribe again with the old options and register the new subscription.
 * @param {ServiceWorkerRegistration} registration
 * @param {any} event a PushSubscriptionChangeEvent
 * @param {() => Promise<string|null>} csrf the CSRF token (from the cookie)
 */
export async function resubscribe(registration, event, csrf) {
  const fresh = event.newSubscription
    ?? (await registration.pushManager.subscribe(event.oldSubscription?.options ?? { userVisibleOnly: true }));
  const json = fresh.toJSON();
  await fetch('/api/push/subscriptions', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-csrftoken': (await csrf()) ?? '' },
    body: JSON.stringify({ endpoint: json.endpoint, keys: json.keys }), // no lang: the server keeps the device's
  });
}
