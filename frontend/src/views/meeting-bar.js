// A channel's meetings as its members see them, from the synced records (PROTOCOL.md, "Meetings"):
// "Meeting in progress · N people · Join" under the channel header, a "Start meeting" action,
// and the channel's past meetings ("Meeting · 34 min · Ada, Bob, Chen"). Offline, starting and
// joining are not offered: the bar says why instead.

import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { href } from './router.js';

/** The channel's meetings, newest first, each with the names of who attended. */
export function meetingsOf(app, channelId) {
  const q = app.queries;
  const attendance = [...q.collection('meeting_attendance').value.values()].map((r) => r.fields);
  return [...q.collection('meetings').value.entries()]
    .filter(([, r]) => r.fields.channel === channelId)
    .map(([id, r]) => {
      const spans = attendance.filter((a) => a.meeting === id);
      const here = new Set(spans.filter((a) => typeof a.left_at !== 'number').map((a) => a.user));
      const names = [...new Set(spans.map((a) => a.user))].map((user) => q.userName(user) || user);
      return { id, ...r.fields, live: typeof r.fields.ended_at !== 'number', here: here.size, names };
    })
    .sort((a, b) => (b.started_at ?? 0) - (a.started_at ?? 0));
}

/** Is a meeting going on in this channel? (The sidebar asks for every channel: no attendance scan.) */
export function meetingLive(app, channelId) {
  for (const r of app.queries.collection('meetings').value.values()) {
    if (r.fields.channel === channelId && typeof r.fields.ended_at !== 'number') return true;
  }
  return false;
}

/** The sidebar's mark for a channel with a meeting going on. */
export function LiveMark({ app, channelId }) {
  if (!meetingLive(app, channelId)) return null;
  return html`<span class="meeting-mark" title=${t('meeting.live')}><span aria-hidden="true">●</span><span class="visually-hidden">${' '}${t('meeting.live')}</span></span>`;
}

/** "Meeting in progress · 3 people · Join", or nothing. */
export function MeetingBar({ app, channelId, canJoin }) {
  const live = meetingsOf(app, channelId).find((m) => m.live);
  if (!live) return null;
  const offline = app.store.status.value === 'Offline';
  return html`<div class="meeting-bar" role="region" aria-label=${t('meeting.inProgress', { count: live.here })}>
    <span class="meeting-bar__dot" aria-hidden="true"></span>
    <span class="meeting-bar__text">${t('meeting.inProgress', { count: live.here })}</span>
    ${canJoin && !offline ? html`<a class="button button--small button--primary" href=${`${href('channel', channelId)}/meet`}>${t('meeting.join')}</a>` : null}
    ${offline ? html`<span class="meeting-bar__note">${t('meeting.offline')}</span>` : null}
  </div>`;
}

/** The header's "Start meeting" (a link: the meeting view asks for devices and joins). */
export function StartMeeting({ app, channelId }) {
  if (app.store.status.value === 'Offline') {
    return html`<button type="button" class="button button--small button--ghost" disabled title=${t('meeting.offline')}>${t('meeting.start')}</button>`;
  }
  return html`<a class="button button--small button--ghost" href=${`${href('channel', channelId)}/meet`}>${t('meeting.start')}</a>`;
}

/** Past meetings, newest first: "Meeting · 34 min · Ada, Bob, Chen". */
export function PastMeetings({ app, channelId, limit = 3 }) {
  const past = meetingsOf(app, channelId).filter((m) => !m.live).slice(0, limit);
  if (!past.length) return null;
  return html`<ul class="meeting-history" aria-label=${t('meeting.history')}>
    ${past.map((m) => html`<li key=${m.id} class="meeting-history__item">
      ${t('meeting.summary', { minutes: Math.max(1, Math.round((m.duration_ms ?? 0) / 60_000)), names: m.names.join(', ') })}
    </li>`)}
  </ul>`;
}
