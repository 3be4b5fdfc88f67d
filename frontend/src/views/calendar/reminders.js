// Reminders while the app is open, online or not: my reminder records and the events in the
// replica decide when, so a reminder set offline fires here too. At that moment an in-app notice
// shows and, with permission, a system notification (through the service worker where there is
// one: some browsers allow notifications only from there). The server keeps the same schedule for
// pushes (backend/calendar/reminders.py); a device that shows the app gets no push (the sender
// holds it back), and a push that does come has the same tag (reminder:<id>:<occurrence>), so it
// replaces this notification rather than doubling it.

import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { ct } from './strings.js';
import { expand } from '../../lib/recurrence.js';
import { formatTime } from '../../lib/i18n.js';

const LOOK_AHEAD = 36 * 3_600_000;
const TICK = 15_000;

/** Reminders due in (now - TICK, now]: [{key, title, at}]. */
export function dueNow(app, now, seen) {
  const out = [];
  const events = app.queries.collection('events').value;
  const exceptions = [...app.queries.collection('occurrences').value.entries()];
  for (const [id, r] of app.queries.collection('reminders').value.entries()) {
    const { event, minutes, deleted } = r.fields;
    const held = events.get(event)?.fields;
    if (deleted || !held || held.deleted) continue;
    const lead = minutes * 60_000;
    let found = [];
    try {
      found = expand(event, held, exceptions.filter(([, x]) => x.fields.event === event).map(([, x]) => x.fields), now - TICK + lead, now + LOOK_AHEAD);
    } catch {
      continue;
    }
    for (const o of found) {
      const due = o.at - lead;
      const key = `${id}:${o.recurrence_id ?? ''}`;
      if (due <= now && due > now - TICK && !seen.has(key)) out.push({ key, title: o.title, at: o.at, event });
    }
  }
  return out;
}

/** The system notification of a due reminder, when this device allows them. */
async function notify(r) {
  if (globalThis.Notification?.permission !== 'granted') return;
  const title = ct('reminder', { title: r.title });
  const options = { body: ct('startsAt', { time: formatTime(r.at) }), tag: `reminder:${r.key}`, data: { url: `/#/calendar/event/${encodeURIComponent(r.event)}` } };
  try {
    const registration = await navigator.serviceWorker?.getRegistration();
    if (registration) return await registration.showNotification(title, options);
    new Notification(title, options);
  } catch {
    /* no way to notify here: the in-app notice stays */
  }
}

export function CalendarReminders({ app }) {
  const [shown, setShown] = useState([]);
  useEffect(() => {
    const seen = new Set();
    const tick = () => {
      const due = dueNow(app, Date.now(), seen);
      for (const r of due) {
        seen.add(r.key);
        notify(r);
      }
      if (due.length) setShown((list) => [...list, ...due]);
    };
    tick();
    const timer = setInterval(tick, TICK / 3);
    return () => clearInterval(timer);
  }, []);
  if (!shown.length) return null;
  return html`<div class="cal-toasts" aria-live="polite">
    ${shown.map((r) => html`<div class="cal-toast" key=${r.key}>
      <a href=${`#/calendar/event/${encodeURIComponent(r.event)}`}>${ct('reminder', { title: r.title })}</a>
      <span>${ct('startsAt', { time: formatTime(r.at) })}</span>
      <button type="button" class="icon-button" aria-label="×" onClick=${() => setShown(shown.filter((x) => x.key !== r.key))}>×</button>
    </div>`)}
  </div>`;
}
