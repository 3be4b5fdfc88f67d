// One event (or one occurrence of a series): when and where, the description (safe Markdown),
// the answers of the people invited (live: they are replica records), my answer, the history
// of the event with restore, and the .ics download.

import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { Dialog } from '../dialog.js';
import { Markdown } from '../markdown.js';
import { ct } from './strings.js';
import { answer, invitees, deleteEvent, changeOccurrence } from './actions.js';
import { formatDateTime } from '../../lib/i18n.js';
import { instant, isAllDay } from '../../lib/recurrence.js';
import { EventMeeting } from '../meeting-join.js';

const STATES = ['accepted', 'tentative', 'declined'];

function when(start, end, tz) {
  if (isAllDay(start)) return end && end > start ? `${start} – ${end}` : start;
  const zone = tz && tz !== Intl.DateTimeFormat().resolvedOptions().timeZone ? ` (${start.slice(11, 16)} ${tz})` : '';
  return `${formatDateTime(instant(start, tz))}${zone}`;
}

function History({ app, eventId }) {
  const [versions, setVersions] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    app.actions.recordVersions('events', eventId).then((v) => setVersions(v.versions), (e) => setError(e.offline ? ct('offline') : e.message));
  }, [eventId]);
  if (error) return html`<p class="form-error">${error}</p>`;
  if (!versions) return null;
  const current = app.queries.record('events', eventId)?.fields ?? {};
  return html`<ol class="cal-history" aria-label=${ct('history')}>
    ${versions.map((v, i) => html`<li key=${i} class="cal-history__item">
      <span class="cal-history__who">${app.queries.userName(v.author) || v.author} · ${formatDateTime(v.at)}</span>
      <ul>
        ${Object.entries(v.fields).filter(([k]) => !['calendar', 'created_by', 'uid'].includes(k)).map(([k, value]) => html`<li key=${k}>
          <span>${k}: ${String(value)}</span>
          ${current[k] !== value && !current.deleted
            ? html`<button type="button" class="button button--small" onClick=${() => app.actions.writeChanges([{ collection: 'events', id: eventId, fields: { [k]: value } }])}>
                ${ct('restore')}</button>`
            : null}
        </li>`)}
      </ul>
    </li>`)}
  </ol>`;
}

export function EventDetail({ app, item, calendars, onClose, onEdit }) {
  const [history, setHistory] = useState(false);
  const record = app.queries.record('events', item.event);
  if (!record || record.fields.deleted) {
    return html`<${Dialog} id="event" title=${ct('title')} onClose=${onClose}><p class="empty">${ct('noEvents')}</p><//>`;
  }
  const f = record.fields;
  const start = item.start ?? f.start;
  const end = item.end ?? f.end;
  const me = app.queries.me.value;
  const people = invitees(app, item.event);
  const mine = people.get(me)?.status;
  const calendar = calendars.find((c) => c.id === f.calendar);
  const series = Boolean(f.rrule) && item.recurrence_id;
  return html`<${Dialog} id="event" title=${item.title ?? f.title} onClose=${onClose}>
    <div class="cal-detail">
      <p class="cal-detail__when">${when(start, end, f.tz)}</p>
      ${calendar ? html`<p class=${`cal-detail__calendar cal-c${calendar.color}`}><span class="cal-item__dot" aria-hidden="true"></span>${calendar.name}</p>` : null}
      ${f.location ? html`<p class="cal-detail__where">📍 ${f.location}</p>` : null}
      ${f.description ? html`<${Markdown} text=${f.description} class="cal-detail__text" />` : null}
      ${f.calendar.startsWith('c:')
        ? html`<div class="cal-rsvp" role="group" aria-label=${ct('going')}>
            ${STATES.map((s) => html`<button type="button" key=${s} class="button button--small" aria-pressed=${mine === s ? 'true' : 'false'}
              onClick=${() => answer(app, item.event, s)}>${ct(s)}</button>`)}
          </div>`
        : null}
      ${people.size
        ? html`<ul class="cal-answers" aria-label=${ct('answers')}>
            ${[...people.values()].map((r) => html`<li key=${r.user}>${app.queries.userName(r.user) || r.user}: ${ct(r.status || 'none')}</li>`)}
          </ul>`
        : null}
      <div class="dialog__actions dialog__actions--wrap">
        <${EventMeeting} app=${app} calendar=${f.calendar} />
        <a class="button button--small" href=${`/api/calendar/events/${encodeURIComponent(item.event)}/ics`} download>${ct('download')}</a>
        <button type="button" class="button button--small" onClick=${() => setHistory(!history)} aria-expanded=${history ? 'true' : 'false'}>${ct('history')}</button>
        <button type="button" class="button button--small button--danger"
          onClick=${async () => (series ? await changeOccurrence(app, item.event, item.recurrence_id, { cancelled: true }) : await deleteEvent(app, item.event), onClose())}>
          ${series ? ct('deleteOne') : ct('delete')}</button>
        ${series
          ? html`<button type="button" class="button button--small button--danger"
              onClick=${async () => (await deleteEvent(app, item.event), onClose())}>${ct('deleteAll')}</button>`
          : null}
        <button type="button" class="button button--small button--primary"
          onClick=${() => onEdit({ event: item.event, recurrence_id: item.recurrence_id, start, end, title: item.title })}>${ct('edit')}</button>
      </div>
      ${history ? html`<${History} app=${app} eventId=${item.event} />` : null}
    </div>
  <//>`;
}
