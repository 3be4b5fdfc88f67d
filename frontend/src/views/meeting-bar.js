// A channel's meetings as its members see them, from the synced records (PROTOCOL.md, "Meetings"):
// "Meeting in progress · N people · Join" under the channel header and in the sidebar, a "Start
// meeting" action, and each meeting as a row of the channel's messages (lib/meeting-timeline.js
// places it): "Meeting · 34 min · Ada, Bob, Chen", live while it runs. Offline, starting and
// joining are not offered: the bar says why instead.

import { html } from './html.js';
import { formatTime, t } from '../lib/i18n.js';
import { href } from './router.js';

const offline = (app) => app.store.status.value === 'Offline';
/** Where a channel's meeting opens (the preview, then the call): views/meeting.js. */
export const meetingHref = (channelId) => `${href('channel', channelId)}/meet`;

/** One meeting as shown: its fields, whether it is live, how many are in it, who attended (in
 * the order they first joined). */
function describe(app, id, fields) {
  const spans = [...app.queries.collection('meeting_attendance').value.values()]
    .map((r) => r.fields)
    .filter((a) => a.meeting === id)
    .sort((a, b) => (a.joined_at ?? 0) - (b.joined_at ?? 0));
  const here = new Set(spans.filter((a) => typeof a.left_at !== 'number').map((a) => a.user));
  const names = [...new Set(spans.map((a) => a.user))].map((user) => app.queries.userName(user) || user);
  return { id, ...fields, live: typeof fields.ended_at !== 'number', here: here.size, names };
}

/** The channel's meetings, newest first, each with the names of who attended. */
export function meetingsOf(app, channelId) {
  return [...app.queries.collection('meetings').value.entries()]
    .filter(([, r]) => r.fields.channel === channelId)
    .map(([id, r]) => describe(app, id, r.fields))
    .sort((a, b) => (b.started_at ?? 0) - (a.started_at ?? 0));
}

/** How many people are in this channel's meeting now, or null when none is going on. (The sidebar
 * asks for every channel: the attendance is scanned only for a meeting that is live.) */
export function liveCount(app, channelId) {
  for (const [id, r] of app.queries.collection('meetings').value.entries()) {
    if (r.fields.channel !== channelId || typeof r.fields.ended_at === 'number') continue;
    const here = new Set();
    for (const a of app.queries.collection('meeting_attendance').value.values()) {
      if (a.fields.meeting === id && typeof a.fields.left_at !== 'number') here.add(a.fields.user);
    }
    return here.size;
  }
  return null;
}

/** The sidebar's mark for a channel with a meeting going on: a dot and how many are in it. */
export function LiveMark({ app, channelId }) {
  const count = liveCount(app, channelId);
  if (count === null) return null;
  const label = t('meeting.inProgress', { count });
  return html`<span class="meeting-mark" title=${label}><span aria-hidden="true"><span class="meeting-mark__dot">●</span> ${count}</span><span class="visually-hidden">${' '}${label}</span></span>`;
}

/** The sidebar's Join beside a channel whose meeting is in progress. A sibling of the channel's
 * link, not inside it (a link inside a link is invalid); its name says which meeting. */
export function SidebarJoin({ app, channelId, name }) {
  if (liveCount(app, channelId) === null || offline(app)) return null;
  return html`<a class="button button--small button--primary nav-join" href=${meetingHref(channelId)} aria-label=${t('meeting.joinIn', { name })}>${t('meeting.join')}</a>`;
}

/** "Meeting in progress · 3 people · Join", or nothing. */
export function MeetingBar({ app, channelId, canJoin }) {
  const live = meetingsOf(app, channelId).find((m) => m.live);
  if (!live) return null;
  return html`<div class="meeting-bar" role="region" aria-label=${t('meeting.inProgress', { count: live.here })}>
    <span class="meeting-bar__dot" aria-hidden="true"></span>
    <span class="meeting-bar__text">${t('meeting.inProgress', { count: live.here })}</span>
    ${canJoin && !offline(app) ? html`<a class="button button--small button--primary" href=${meetingHref(channelId)}>${t('meeting.join')}</a>` : null}
    ${offline(app) ? html`<span class="meeting-bar__note">${t('meeting.offline')}</span>` : null}
  </div>`;
}

/** The header's "Start meeting" (a link: the meeting view asks for devices and joins). */
export function StartMeeting({ app, channelId }) {
  if (offline(app)) {
    return html`<button type="button" class="button button--small button--ghost" disabled title=${t('meeting.offline')}>${t('meeting.start')}</button>`;
  }
  return html`<a class="button button--small button--ghost" href=${meetingHref(channelId)}>${t('meeting.start')}</a>`;
}

const minutes = (ms) => Math.max(1, Math.round((ms ?? 0) / 60_000));

/** A meeting as a row of the channel's messages: live ("Meeting in progress · 3 people · Join")
 * or past ("Meeting · 34 min · Ada, Bob, Chen"). It reads the records itself, so it follows a
 * meeting as people come and go without the list re-rendering. */
export function MeetingRow({ app, channelId, meetingId, canJoin }) {
  const record = app.queries.collection('meetings').value.get(meetingId);
  if (!record) return null;
  const m = describe(app, meetingId, record.fields);
  const text = m.live ? t('meeting.inProgress', { count: m.here }) : t('meeting.summary', { minutes: minutes(m.duration_ms), names: m.names.join(', ') });
  return html`<div class=${`meeting-row${m.live ? ' meeting-row--live' : ''}`} role="group" aria-label=${text}>
    <span class="meeting-row__icon" aria-hidden="true">${m.live ? '●' : '📹'}</span>
    <span class="meeting-row__text">${text}</span>
    ${typeof m.started_at === 'number' ? html`<time class="meeting-row__time" datetime=${new Date(m.started_at).toISOString()}>${formatTime(m.started_at)}</time>` : null}
    ${m.live && canJoin && !offline(app)
      ? html`<a class="button button--small button--primary" href=${meetingHref(channelId)}>${t('meeting.join')}</a>`
      : null}
  </div>`;
}
