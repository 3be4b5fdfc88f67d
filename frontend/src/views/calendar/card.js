// An invitation in chat: a message whose text links to an event (#/calendar/event/<id>) shows
// the event as a card with Accept / Tentative / Decline, answered inline (an RSVP record, so it
// works offline); the answers below are replica records, so the organiser sees them live.

import { html } from '../html.js';
import { ct } from './strings.js';
import { answer, invitees } from './actions.js';
import { formatDateTime } from '../../lib/i18n.js';
import { instant, isAllDay } from '../../lib/recurrence.js';
import { EventMeeting } from '../meeting-join.js';

const LINK = /#\/calendar\/event\/([0-9A-Za-z_-]{1,120})/;
const STATES = ['accepted', 'tentative', 'declined'];

/** The event a message invites to, if any. @param {string | null | undefined} text */
export function invitedEvent(text) {
  return text ? LINK.exec(text)?.[1] ?? null : null;
}

export function InviteCard({ app, eventId }) {
  const record = app.queries.record('events', eventId);
  if (!record || record.fields.deleted) return null;
  const f = record.fields;
  const me = app.queries.me.value;
  const people = invitees(app, eventId);
  const mine = people.get(me)?.status;
  const counts = STATES.map((s) => [s, [...people.values()].filter((r) => r.status === s).length]);
  const when = isAllDay(f.start) ? f.start : formatDateTime(instant(f.start, f.tz));
  return html`<div class="cal-card" role="group" aria-label=${`${ct('invitation')}: ${f.title}`}>
    <a class="cal-card__title" href=${`#/calendar/event/${encodeURIComponent(eventId)}`}>📅 ${f.title}</a>
    <p class="cal-card__when">${when}${f.location ? ` · ${f.location}` : ''}</p>
    <div class="cal-rsvp">
      ${STATES.map((s) => html`<button type="button" key=${s} class="button button--small" aria-pressed=${mine === s ? 'true' : 'false'}
        onClick=${() => answer(app, eventId, s)}>${ct(s)}</button>`)}
    </div>
    <${EventMeeting} app=${app} calendar=${f.calendar} onlyLive />
    <p class="cal-card__answers" aria-live="polite">${counts.map(([s, n]) => `${ct(String(s))} ${n}`).join(' · ')}</p>
  </div>`;
}
