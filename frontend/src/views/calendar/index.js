// The calendar: every calendar I have, combined and coloured, as agenda, day, week or month.
// Day and week are an hour grid (hours.js); on a phone the week is three days from the focused
// one. Keyboard: arrows move the focused day (in the hour grid ArrowUp/ArrowDown first step
// through the day's items), PageUp/PageDown the period, Home goes to today, A/D/W/M switch the
// layout, Enter opens what has focus. Everything reads the replica, so it works offline.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { MainHeader } from '../header.js';
import { ct } from './strings.js';
import { MonthGrid, DayList, dayLabel, step } from './grid.js';
import { HourGrid, stepWithinDay } from './hours.js';
import { phone, touch } from '../viewport.js';
import { EventEditor } from './editor.js';
import { EventDetail } from './detail.js';
import { FeedPanel } from './feeds.js';
import { setHidden } from './actions.js';
import {
  NARROW_WEEK, addDays, addMonths, byDay, calendarsOf, dueTasks, localZone, occurrencesIn, rangeOf,
} from '../../lib/calendar-model.js';
import { REGISTRY } from '../../sync/registry.js';

const MODES = ['agenda', 'day', 'week', 'month'];
const today = () => new Date(Date.now() - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 10);

/** My calendars (Rule 1 of calendar-model.js), as a signal-driven list. */
export function useCalendars(app) {
  const q = app.queries;
  const me = q.me.value;
  const named = new Map();
  for (const [, r] of q.collection('calendars').value.entries()) named.set(r.fields.calendar, r.fields);
  const prefs = new Map();
  for (const [, r] of q.collection('calendar_prefs').value.entries()) if (r.fields.user === me) prefs.set(r.fields.calendar, r.fields);
  const channels = q.myChannels.value.map((c) => ({ id: c.id, name: `#${c.name}` }));
  return calendarsOf({ me, channels, named, prefs }).map((c) => (c.personal ? { ...c, name: c.name || ct('personal') } : c));
}

export function CalendarView({ app, eventId = null }) {
  const [mode, setMode] = useState(globalThis.matchMedia?.('(max-width: 40rem)').matches ? 'agenda' : 'month');
  const [focus, setFocus] = useState(today());
  const [editing, setEditing] = useState(null);
  const [open, setOpen] = useState(null);
  const [feeds, setFeeds] = useState(false);
  const body = useRef(null);
  const calendars = useCalendars(app);
  const shown = new Set(calendars.filter((c) => !c.hidden).map((c) => c.id));
  const colors = new Map(calendars.map((c) => [c.id, c.color]));
  const narrow = phone.value;
  const [from, to] = rangeOf(mode, focus, narrow);
  const events = app.queries.collection('events').value;
  const exceptions = app.queries.collection('occurrences').value;
  const tasks = Object.hasOwn(REGISTRY, 'tasks') ? app.queries.collection('tasks').value : null;
  const shownKey = [...shown].join();
  const days = useMemo(() => {
    const items = occurrencesIn(events.entries(), exceptions.entries(), { from, to, zone: localZone(), shown });
    if (tasks) items.push(...dueTasks(tasks.entries(), { from, to }).filter((t) => shown.has(t.calendar)));
    return byDay(items, from, to);
  }, [events, exceptions, tasks, from, to, shownKey]);

  useEffect(() => {
    if (eventId) setOpen({ event: eventId, recurrence_id: null });
  }, [eventId]);

  function move(by) {
    if (mode === 'month') setFocus(addMonths(focus, by));
    else setFocus(addDays(focus, by * (mode === 'week' ? (narrow ? NARROW_WEEK : 7) : mode === 'agenda' ? 30 : 1)));
  }

  function onKey(event) {
    if (event.target.closest('input, textarea, select, dialog')) return;
    if (stepWithinDay(event)) return;
    const by = step(event.key, mode);
    let next = null;
    // From the day that holds the keyboard focus (a click or Tab may have put it there).
    if (by !== null) next = addDays(event.target.closest('[data-day]')?.getAttribute('data-day') ?? focus, by);
    else if (event.key === 'PageUp' || event.key === 'PageDown') return (event.preventDefault(), move(event.key === 'PageUp' ? -1 : 1));
    else if (event.key === 'Home') next = today();
    else if ('adwm'.includes(event.key) && event.key.length === 1 && !event.ctrlKey && !event.metaKey) {
      return setMode(MODES['adwm'.indexOf(event.key)]);
    }
    if (next === null) return;
    event.preventDefault();
    setFocus(next);
    // At once when the day is on screen (the next key must start from it), else once it is drawn.
    const target = () => body.current?.querySelector(`[data-day="${next}"] .cal-day__number`);
    if (target()) target().focus();
    else requestAnimationFrame(() => target()?.focus());
  }

  function pick(day, nextMode) {
    setFocus(day);
    if (nextMode) setMode(nextMode);
  }

  const title = mode === 'month'
    ? dayLabel(`${focus.slice(0, 8)}01`, { month: 'long', year: 'numeric' })
    : mode === 'week' ? `${dayLabel(from, { day: 'numeric', month: 'short' })} – ${dayLabel(addDays(to, -1), { day: 'numeric', month: 'short', year: 'numeric' })}`
    : dayLabel(focus, { dateStyle: 'long' });
  const props = { days, today: today(), focus, colors, onOpen: setOpen, onPick: pick };
  // The shortest drawn item, in minutes: a --target tall at the grid's hour height (calendar.css).
  const least = narrow || touch.value ? 48 : 40;
  return html`<section class="main main--calendar" aria-labelledby="main-title">
    <${MainHeader} app=${app} title=${ct('title')} icon="📅"
      more=${[{ key: 'feeds', label: ct('subscribe'), onSelect: () => setFeeds(true) }]}>
      <button type="button" class="button button--small" onClick=${() => setFeeds(true)}>${ct('subscribe')}</button>
    <//>
    <div class="page cal" onKeyDown=${onKey}>
      <div class="cal-toolbar">
        <div class="cal-toolbar__nav">
          <button type="button" class="button button--small" onClick=${() => move(-1)} aria-label=${ct('previous')}>‹</button>
          <button type="button" class="button button--small" onClick=${() => setFocus(today())}>${ct('today')}</button>
          <button type="button" class="button button--small" onClick=${() => move(1)} aria-label=${ct('next')}>›</button>
          <h2 class="cal-toolbar__title" aria-live="polite">${title}</h2>
        </div>
        <div class="cal-toolbar__modes" role="group" aria-label=${ct('views')}>
          ${MODES.map((m) => html`<button type="button" key=${m} class="button button--small" aria-pressed=${mode === m ? 'true' : 'false'}
            onClick=${() => setMode(m)}>${ct(m)}</button>`)}
        </div>
        <button type="button" class="button button--primary button--small" onClick=${() => setEditing({ day: focus })}>${ct('newEvent')}</button>
      </div>
      <fieldset class="cal-legend">
        <legend class="visually-hidden">${ct('calendars')}</legend>
        ${calendars.map((c) => html`<label key=${c.id} class=${`cal-legend__item cal-c${c.color}`}>
          <input type="checkbox" checked=${!c.hidden} onChange=${(e) => setHidden(app, c.id, !e.currentTarget.checked)} />
          <span class="cal-item__dot" aria-hidden="true"></span><span>${c.name}</span>
        </label>`)}
      </fieldset>
      <div class="cal-body" ref=${body}>
        ${mode === 'month'
          ? html`<${MonthGrid} ...${props} month=${focus.slice(0, 7)} />`
          : mode === 'agenda'
            ? html`<${DayList} ...${props} skipEmpty label=${title} />`
            : html`<${HourGrid} ...${props} label=${title} zone=${localZone()} least=${least} />`}
      </div>
    </div>
    ${editing ? html`<${EventEditor} app=${app} calendars=${calendars} start=${editing} onClose=${() => setEditing(null)} />` : null}
    ${open && !editing
      ? html`<${EventDetail} app=${app} item=${open} calendars=${calendars} onClose=${() => setOpen(null)}
          onEdit=${(target) => (setOpen(null), setEditing(target))} />`
      : null}
    ${feeds ? html`<${FeedPanel} app=${app} calendars=${calendars} onClose=${() => setFeeds(false)} />` : null}
  </section>`;
}
