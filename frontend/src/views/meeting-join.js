// "Join meeting" / "Start meeting" on a calendar event of a channel's calendar (c:<channel>): it
// opens that channel's meeting, the same view as the channel header's Start meeting. Shown to
// members only; offline it is disabled and says why, like everywhere else a meeting is offered.

import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { liveCount, meetingHref } from './meeting-bar.js';

/** The channel of a calendar (`c:<channel>`), or null for a personal one. */
export function calendarChannel(calendar) {
  return typeof calendar === 'string' && calendar.startsWith('c:') ? calendar.slice(2) : null;
}

/** The event's meeting action. `onlyLive`: show it only while a meeting is going on (a card in chat). */
export function EventMeeting({ app, calendar, onlyLive = false }) {
  const channelId = calendarChannel(calendar);
  if (!channelId || !app.queries.isMember(channelId)) return null;
  const count = liveCount(app, channelId);
  if (onlyLive && count === null) return null;
  const label = count === null ? t('meeting.start') : t('meeting.joinMeeting');
  if (app.store.status.value === 'Offline') {
    return html`<button type="button" class="button button--small" disabled title=${t('meeting.offline')}>${label}</button>`;
  }
  const live = count === null ? '' : ` (${t('meeting.inProgress', { count })})`;
  return html`<a class="button button--small button--primary" href=${meetingHref(channelId)} title=${`${label}${live}`}>${label}</a>`;
}
