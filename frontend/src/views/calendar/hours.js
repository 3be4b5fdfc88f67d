// The day and week views: an hour grid. A head row holds each day's number (the focus target)
// and its all-day items (events and tasks' due dates); below, a column per day holds the timed
// items placed by time (lib/hour-grid.js), side by side where they overlap. The columns scroll
// as one box, opened at the morning (or at the first item that starts in view, if earlier). Positions are set through
// the CSSOM (preact's style object), which the CSP's `style-src 'self'` allows.
// Keyboard: ArrowUp/ArrowDown step through a day's items (its number first, then in time order);
// the other keys are the calendar's (index.js).

import { useLayoutEffect, useRef } from 'preact/hooks';
import { html } from '../html.js';
import { Chip, dayLabel } from './grid.js';
import { placeDay, DAY_MINUTES } from '../../lib/hour-grid.js';

const HOURS = Array.from({ length: 24 }, (_, h) => h);
const MORNING = 7 * 60;

const pct = (/** @type {number} */ minutes) => `${(minutes / DAY_MINUTES) * 100}%`;

/** @param {{days: Map<string, any[]>, today: string, focus: string, colors: Map<string, number>,
 *   onOpen: (item: any) => void, onPick: (day: string, mode?: string) => void, label: string,
 *   zone: string, least: number}} props */
export function HourGrid({ days, today, focus, colors, onOpen, onPick, label, zone, least }) {
  const scroller = useRef(/** @type {HTMLElement | null} */ (null));
  const placed = [...days.entries()].map(([day, items]) => ({ day, ...placeDay(items, day, zone, least) }));
  const first = Math.min(MORNING, ...placed.flatMap((d) => d.timed.filter((t) => !t.continued).map((t) => t.start)));
  const range = `${placed[0]?.day}/${placed.length}`;
  useLayoutEffect(() => {
    const box = scroller.current;
    // Half an hour above the first item, so its top edge is not the box's.
    if (box) box.scrollTop = (box.scrollHeight * Math.max(0, first - 30)) / DAY_MINUTES;
  }, [range]);
  const cols = `cal-hours cal-hours--${placed.length}`;
  return html`<div class=${cols} role="group" aria-label=${label}>
    <div class="cal-hours__head">
      <span class="cal-hours__corner" aria-hidden="true"></span>
      ${placed.map(({ day, allDay }) => html`<div key=${day} data-day=${day}
          class=${`cal-hours__day${day === today ? ' cal-hours__day--today' : ''}${day === focus ? ' cal-hours__day--focus' : ''}`}>
        <button type="button" class="cal-day__number" tabindex=${day === focus ? 0 : -1}
          aria-current=${day === today ? 'date' : undefined} onClick=${() => onPick(day, 'day')}>
          <span class="cal-hours__weekday">${dayLabel(day, { weekday: 'short' })}</span> <span class="cal-hours__date">${Number(day.slice(8))}</span> <span class="visually-hidden">${dayLabel(day, { month: 'long', year: 'numeric' })}</span>
        </button>
        <ul class="cal-hours__all-day" aria-label=${dayLabel(day, { dateStyle: 'full' })}>
          ${allDay.map((item) => html`<li key=${`${item.event}/${item.recurrence_id}`}><${Chip} item=${item} colors=${colors} onOpen=${onOpen} /></li>`)}
        </ul>
      </div>`)}
    </div>
    <div class="cal-hours__body" ref=${scroller}>
      <ol class="cal-hours__gutter" aria-hidden="true">
        ${HOURS.map((h) => html`<li key=${h}>${h ? `${String(h).padStart(2, '0')}:00` : ''}</li>`)}
      </ol>
      ${placed.map(({ day, timed }) => html`<ul key=${day} data-day=${day} class="cal-hours__col"
          aria-label=${dayLabel(day, { dateStyle: 'full' })}>
        ${timed.map((p) => html`<li key=${`${p.item.event}/${p.item.recurrence_id}`} class="cal-hours__slot"
            style=${{ top: pct(Math.min(p.start, DAY_MINUTES - least)), height: pct(Math.max(p.end - p.start, least)), left: `${(p.lane / p.lanes) * 100}%`, width: `${100 / p.lanes}%` }}>
          <${Chip} item=${p.item} colors=${colors} onOpen=${onOpen} />
        </li>`)}
      </ul>`)}
    </div>
  </div>`;
}

/** ArrowUp/ArrowDown within a day of the grid: its number, then its items in order. Returns
 * whether the key was used. @param {KeyboardEvent} event */
export function stepWithinDay(event) {
  if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return false;
  const target = /** @type {HTMLElement} */ (event.target);
  const grid = target.closest?.('.cal-hours');
  const day = target.closest?.('[data-day]')?.getAttribute('data-day');
  if (!grid || !day) return false;
  const stops = [...grid.querySelectorAll(`[data-day="${day}"] .cal-day__number, [data-day="${day}"] .cal-item`)];
  const at = stops.indexOf(target);
  const next = stops[at + (event.key === 'ArrowDown' ? 1 : -1)];
  if (at < 0 || !(next instanceof HTMLElement)) return false;
  event.preventDefault();
  next.focus();
  next.scrollIntoView({ block: 'nearest' });
  return true;
}
