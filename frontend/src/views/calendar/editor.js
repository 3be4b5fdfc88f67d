// The event editor: every field of an event, its repeat rule, my reminders and the invitations.
// Editing one occurrence of a series asks first which events the change is for: this one (an
// exception), this and the following ones (the series splits), or all of them.

import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { Dialog } from '../dialog.js';
import { ct } from './strings.js';
import {
  createEvent, updateEvent, changeOccurrence, splitSeries, myReminders, invitees, postInvitation,
} from './actions.js';
import { addDays, localZone, reminderMinutes } from '../../lib/calendar-model.js';
import { RepeatError, SHAPES, WEEKDAYS, noRepeat, repeatOf, ruleOf, weekdayOf } from '../../lib/repeat-rule.js';
import { dayLabel } from './grid.js';

const ZONES = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['UTC'];
const UNITS = { daily: 'days', weekly: 'weeks', monthlyDate: 'months', monthlyWeekday: 'months', yearly: 'years' };
/** A Monday, to name the weekdays in the browser's language. */
const MONDAY = '2024-01-01';

/** The repeat choices of a form (lib/repeat-rule.js). */
const repeatIn = (form) => ({ repeat: form.repeat, interval: form.interval, days: form.days, count: form.count, until: form.until, custom: form.custom });

/** Initial form values: from an event (and one of its occurrences), or a new one on a day. */
function initial(app, target, calendars) {
  if (!target.event) {
    return { title: '', description: '', location: '', calendar: calendars[0]?.id, allDay: false, startDay: target.day,
      startTime: '09:00', endDay: target.day, endTime: '10:00', tz: localZone(), ...noRepeat(target.day), saved: null,
      reminders: '10', attendees: [] };
  }
  const f = app.queries.record('events', target.event)?.fields ?? {};
  const start = target.start ?? f.start;
  const end = target.end ?? f.end ?? start;
  const repeat = repeatOf(f.rrule, f.start, f.tz);
  const allDay = start.length === 10;
  return {
    title: target.title ?? f.title ?? '', description: f.description ?? '', location: f.location ?? '', calendar: f.calendar,
    allDay, startDay: start.slice(0, 10), startTime: allDay ? '09:00' : start.slice(11, 16),
    endDay: allDay ? addDays(end, -1) : end.slice(0, 10), endTime: allDay ? '10:00' : end.slice(11, 16),
    tz: f.tz ?? localZone(), ...repeat, saved: { rule: f.rrule ?? '', startDay: f.start.slice(0, 10), repeat },
    reminders: myReminders(app, target.event).map(([, r]) => r.minutes).join(', '),
    attendees: [...invitees(app, target.event).keys()],
  };
}

export function EventEditor({ app, calendars, start: target, onClose }) {
  const [form, setForm] = useState(() => initial(app, target, calendars));
  const [initialAttendees] = useState(() => form.attendees);
  const [asking, setAsking] = useState(null);
  const [error, setError] = useState(null);
  // Updates from the previous state, not from this render's: two inputs before the next frame's
  // render (typing into Starts, then Ends) must both stay.
  const set = (key) => (e) => {
    const value = e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value;
    setForm((prev) => ({ ...prev, [key]: value }));
  };
  const occurrence = target.event && target.recurrence_id && app.queries.record('events', target.event)?.fields.rrule;
  const channel = form.calendar?.startsWith('c:') ? form.calendar.slice(2) : null;
  const people = channel ? app.queries.membersOf(channel) : [];

  /** A weekly series on its start's weekday only moves that day with the start. */
  const setStartDay = (e) => {
    const value = e.currentTarget.value;
    setForm((prev) => {
      let days = prev.days;
      try {
        if (days.join() === weekdayOf(prev.startDay)) days = [weekdayOf(value)];
      } catch {
        /* a date still being typed */
      }
      return { ...prev, startDay: value, days };
    });
  };

  /** The rule the form asks for. Unchanged choices keep the saved text (a split's UNTIL is to the
   * second, which an end date in days would move). */
  function rule(start, tz) {
    const saved = form.saved;
    const wanted = repeatIn(form);
    if (saved && JSON.stringify(wanted) === JSON.stringify(saved.repeat) && form.startDay === saved.startDay) return saved.rule;
    return ruleOf(wanted, start, tz);
  }

  function fields() {
    const start = form.allDay ? form.startDay : `${form.startDay}T${form.startTime}`;
    const end = form.allDay ? addDays(form.endDay < form.startDay ? form.startDay : form.endDay, 1) : `${form.endDay}T${form.endTime}`;
    const rrule = rule(start, form.allDay ? null : form.tz);
    /** @type {Record<string, any>} */
    const out = { calendar: form.calendar, title: form.title.trim(), description: form.description, location: form.location, start, end, rrule };
    // An all-day event has no zone: null clears one the event had (a new one simply has none).
    out.tz = form.allDay ? null : form.tz;
    return out;
  }

  const minutes = () => reminderMinutes(form.reminders);

  /** The invitation card in the channel, when someone other than me is invited. */
  async function invite(id, wanted, users) {
    if (!channel || !users.some((u) => u !== app.queries.me.value)) return;
    const when = `${wanted.start.replace('T', ' ')}${wanted.tz ? ` (${wanted.tz})` : ''}`;
    await postInvitation(app, channel, ct('invited', { title: wanted.title, when, id }));
  }

  async function save(scope) {
    let wanted;
    try {
      wanted = fields();
    } catch (err) {
      if (err instanceof RepeatError) return (setAsking(null), setError(ct(`repeat_${err.message}`)));
      throw err;
    }
    if (!wanted.title) return setError(ct('eventTitle'));
    if (wanted.end < wanted.start) return setError(ct('end'));
    try {
      if (!target.event) {
        const { rrule, tz, ...rest } = wanted;
        const id = await createEvent(app, { ...rest, ...(rrule ? { rrule } : {}), ...(tz ? { tz } : {}) }, {
          reminders: minutes(), attendees: form.attendees,
        });
        await invite(id, wanted, form.attendees);
      } else if (occurrence && scope === 'this') {
        const { start, end, title, description, location } = wanted;
        await changeOccurrence(app, target.event, target.recurrence_id, { start, end, title, description, location });
      } else if (occurrence && scope === 'following') {
        const { calendar, rrule, ...rest } = wanted;
        await splitSeries(app, target.event, target.recurrence_id, rest);
      } else {
        const { calendar, ...rest } = wanted;
        if (!rest.tz && !app.queries.record('events', target.event)?.fields.tz) delete rest.tz;
        await updateEvent(app, target.event, rest, { reminders: minutes(), attendees: channel ? form.attendees : null });
        // People invited now, not before, get the card in the channel too.
        const before = new Set(initialAttendees);
        await invite(target.event, wanted, form.attendees.filter((u) => !before.has(u)));
      }
      onClose();
    } catch (err) {
      setError(err?.message || String(err));
    }
  }

  function submit(event) {
    event.preventDefault();
    if (occurrence) setAsking(true);
    else save('all');
  }

  if (asking) {
    return html`<${Dialog} id="event-scope" title=${ct('which')} onClose=${onClose}>
      <div class="dialog__actions dialog__actions--stack">
        <button type="button" class="button" onClick=${() => save('this')}>${ct('thisEvent')}</button>
        <button type="button" class="button" onClick=${() => save('following')}>${ct('following')}</button>
        <button type="button" class="button" onClick=${() => save('all')}>${ct('all')}</button>
        <button type="button" class="button button--ghost" onClick=${onClose}>${ct('cancel')}</button>
      </div>
    <//>`;
  }
  const writable = calendars.filter((c) => !target.event || c.id === form.calendar);
  return html`<${Dialog} id="event-editor" title=${target.event ? ct('editEvent') : ct('newEvent')} onClose=${onClose}>
    <form class="dialog__form cal-editor" onSubmit=${submit}>
      <div class="field"><label for="ev-title">${ct('eventTitle')}</label>
        <input id="ev-title" required maxlength="200" value=${form.title} onInput=${set('title')} /></div>
      <div class="field"><label for="ev-calendar">${ct('calendar')}</label>
        <select id="ev-calendar" value=${form.calendar} onChange=${set('calendar')} disabled=${Boolean(target.event)}>
          ${writable.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
        </select></div>
      <label class="choice"><input type="checkbox" checked=${form.allDay} onChange=${set('allDay')} /><span>${ct('allDay')}</span></label>
      <div class="cal-editor__row">
        <div class="field"><label for="ev-start-day">${ct('start')}</label>
          <input id="ev-start-day" type="date" required value=${form.startDay} onInput=${setStartDay} /></div>
        ${form.allDay ? null : html`<div class="field"><label for="ev-start-time">${ct('startTime')}</label>
          <input id="ev-start-time" type="time" required value=${form.startTime} onInput=${set('startTime')} /></div>`}
      </div>
      <div class="cal-editor__row">
        <div class="field"><label for="ev-end-day">${ct('end')}</label>
          <input id="ev-end-day" type="date" required value=${form.endDay} onInput=${set('endDay')} /></div>
        ${form.allDay ? null : html`<div class="field"><label for="ev-end-time">${ct('endTime')}</label>
          <input id="ev-end-time" type="time" required value=${form.endTime} onInput=${set('endTime')} /></div>`}
      </div>
      ${form.allDay ? null : html`<div class="field"><label for="ev-tz">${ct('zone')}</label>
        <select id="ev-tz" value=${form.tz} onChange=${set('tz')}>
          ${[...new Set([form.tz, ...ZONES])].map((z) => html`<option value=${z}>${z}</option>`)}
        </select></div>`}
      <div class="cal-editor__row">
        <div class="field"><label for="ev-repeat">${ct('repeat')}</label>
          <select id="ev-repeat" value=${form.repeat} onChange=${set('repeat')}>
            ${SHAPES.map((r) => html`<option value=${r}>${ct(r)}</option>`)}
          </select></div>
        ${UNITS[form.repeat]
          ? html`<div class="field"><label for="ev-interval">${ct('interval', { unit: ct(UNITS[form.repeat]) })}</label>
              <input id="ev-interval" inputmode="numeric" pattern="[0-9]*" value=${form.interval} onInput=${set('interval')} /></div>`
          : null}
      </div>
      ${form.repeat === 'weekly'
        ? html`<fieldset class="choices cal-editor__days"><legend>${ct('onDays')}</legend>
            ${WEEKDAYS.map((d, i) => html`<label class="choice" key=${d}>
              <input type="checkbox" checked=${form.days.includes(d)}
                onChange=${(e) => { const on = e.currentTarget.checked; setForm((prev) => ({ ...prev, days: on ? [...prev.days, d] : prev.days.filter((x) => x !== d) })); }} />
              <span>${dayLabel(addDays(MONDAY, i), { weekday: 'short' })}</span></label>`)}
          </fieldset>`
        : null}
      ${UNITS[form.repeat]
        ? html`<div class="cal-editor__row">
            <div class="field"><label for="ev-count">${ct('count')}</label>
              <input id="ev-count" inputmode="numeric" pattern="[0-9]*" value=${form.count} onInput=${set('count')} /></div>
            <div class="field"><label for="ev-until">${ct('until')}</label>
              <input id="ev-until" type="date" value=${form.until} onInput=${set('until')} /></div>
          </div>`
        : null}
      ${form.repeat === 'custom' ? html`<div class="field"><label for="ev-rrule">${ct('custom')}</label>
        <input id="ev-rrule" value=${form.custom} onInput=${set('custom')} /></div>` : null}
      <div class="field"><label for="ev-location">${ct('location')}</label>
        <input id="ev-location" maxlength="500" value=${form.location} onInput=${set('location')} /></div>
      <div class="field"><label for="ev-description">${ct('description')}</label>
        <textarea id="ev-description" rows="3" maxlength="10000" value=${form.description} onInput=${set('description')}></textarea></div>
      <div class="field"><label for="ev-reminders">${ct('reminders')}</label>
        <input id="ev-reminders" inputmode="numeric" aria-describedby="ev-reminders-hint" value=${form.reminders} onInput=${set('reminders')} />
        <p id="ev-reminders-hint" class="field__hint">${ct('remindersHint')}</p></div>
      ${people.length
        ? html`<fieldset class="choices"><legend>${ct('attendees')}</legend>
            ${people.map((user) => html`<label class="choice" key=${user}>
              <input type="checkbox" checked=${form.attendees.includes(user)}
                onChange=${(e) => { const on = e.currentTarget.checked; setForm((prev) => ({ ...prev, attendees: on ? [...prev.attendees, user] : prev.attendees.filter((u) => u !== user) })); }} />
              <span>${app.queries.userName(user) || user}</span></label>`)}
          </fieldset>`
        : null}
      ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}
      <div class="dialog__actions">
        <button type="button" class="button button--ghost" onClick=${onClose}>${ct('cancel')}</button>
        <button type="submit" class="button button--primary">${ct('save')}</button>
      </div>
    </form>
  <//>`;
}
