// The composition root: build the layers and render. Nothing else creates singletons.

import { options, render } from 'preact';
import { html } from './views/html.js';
import { Root } from './views/root.js';
import { startRouter } from './views/router.js';
import { startViewport } from './views/viewport.js';
import { App } from './dispatch/app.js';
import { Files } from './files/feature.js';
import { UPLOAD_SYNC_TAG } from './files/queue.js';
import { Transport } from './sync/transport.js';
import { ServiceWorkerClient } from './platform/service-worker.js';
import { readCookie } from './lib/cookies.js';
import { negotiate, setLocale } from './lib/i18n.js';
import { IdleWatcher } from './platform/presence.js';
import { PushClient, setBadge } from './platform/push.js';
import { effect } from '@preact/signals';

let app;
// Draw at most once per frame (the timer is a backstop for hidden tabs, where frames stop): a
// burst of writes or a sync applying many changes is drawn once. While a message is being sent,
// drawing waits until its request has left (App#whenSent): the IndexedDB work and the request
// never queue behind a render.
/** The draw that waits for its frame, if any: a person's input runs it first (below). */
let waiting = null;
options.debounceRendering = (draw) => {
  let done = false;
  const now = () => {
    if (done) return;
    done = true;
    waiting = null;
    draw();
  };
  const once = () => {
    if (done) return;
    const sending = app?.whenSent();
    if (sending) sending.then(now);
    else now();
  };
  waiting = now;
  requestAnimationFrame(once);
  setTimeout(once, 100);
};
// A key press, a click or a submit must see what the person typed: state set by the last
// keystroke reaches event handlers only when drawn, so draw what waits before they run.
for (const type of ['keydown', 'pointerdown', 'click', 'submit']) {
  addEventListener(type, () => waiting?.(), { capture: true });
}

const locale = setLocale(negotiate(navigator.languages ?? [navigator.language]));
document.documentElement.lang = locale;

const transport = new Transport({ csrf: () => readCookie(document.cookie, 'csrftoken') });
const sw = new ServiceWorkerClient({ onFlush: () => app?.online(), onUpload: () => app?.files?.run() });
app = new App({
  transport,
  env: { location, navigator, registerBackgroundSync: () => sw.registerBackgroundSync() },
});

const invite = new URLSearchParams(location.search).get('invite');

startRouter();
// Following a link (or back, or forward) is a person's input too: the new screen is drawn in the
// route change's own task, not in a frame after it (this runs after the router's listener).
addEventListener('hashchange', () => waiting?.());
startViewport();
render(html`<${Root} app=${app} sw=${sw} invite=${invite} />`, document.getElementById('app'));

// Files: the upload queue opens with the app and runs whenever the network comes back.
app.files = new Files(app);
effect(() => {
  if (app.phase.value === 'ready' && !app.files.queue) {
    const wake = () => sw.registerBackgroundSync(UPLOAD_SYNC_TAG);
    app.files.start({ csrf: () => readCookie(document.cookie, 'csrftoken'), online: () => navigator.onLine, wake }).catch(() => {});
  }
});
addEventListener('online', () => app.files.run());
addEventListener('online', () => app.online());
addEventListener('offline', () => app.offline());
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') app.visible();
});

app.push = new PushClient({ actions: () => app.actions, lang: locale });

app.boot();
sw.register();
// Push: renew this device's subscription without asking (never a prompt on load); the badge and
// open notifications follow the unread counts, reads made on other devices included.
effect(() => {
  if (app.phase.value === 'ready') app.push.renew();
});
// The app icon's badge and the notifications follow the unread count when the page is idle, not
// in the frame that draws a new message: both are calls into the browser, and a message that is
// read as soon as it is shown changes the count twice (one call, not two).
const whenIdle = globalThis.requestIdleCallback ? (fn) => requestIdleCallback(fn, { timeout: 250 }) : (fn) => setTimeout(fn, 50);
let badgeDue = false;
effect(() => {
  void app.queries.totalUnread.value; // followed here, read when the badge is set
  if (badgeDue) return;
  badgeDue = true;
  whenIdle(() => {
    badgeDue = false;
    setBadge(app.queries.totalUnread.peek());
    app.push.closeRead(
      (channel) => app.queries.unread(channel),
      (message) => app.store.shown('messages', message) !== null,
    );
  });
});
new IdleWatcher({ onChange: (status) => app.setPresence(status) }).start();

// For tests and the curious: the outbox length and the connection state.
globalThis.teamtalk = { app };
