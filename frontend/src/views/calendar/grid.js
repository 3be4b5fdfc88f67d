// The calendar's four layouts. Each is a list of days holding their items; the month is a grid
// (role grid, arrow keys move between days), the others are lists, so a phone reads them top to
// bottom. An item is a button that opens the event.

import { html } from '../html.js';
import { ct } from './strings.js';
import { addDays } from '../../lib/calendar-model.js';
import { locale } from '../../lib/i18n.js';

const MONTH_CHIPS = 3;

/** @param {string} day @param {Intl.DateTimeFormatOptions} options */
export function dayLabel(day, options) {
  return new Intl.DateTimeFormat(locale(), { timeZone: 'UTC', ...options }).format(new Date(`${day}T00:00Z`));
}

function Chip({ item, colors, onOpen }) {
  const color = colors.get(item.calendar) ?? 0;
  return html`<button type="button" class=${`cal-item cal-c${color}`} onClick=${() => onOpen(item)} title=${item.title}>
    <span class="cal-item__dot" aria-hidden="true"></span>
    ${item.time ? html`<span class="cal-item__time">${item.time}</span>` : null}
    <span class="cal-item__title">${item.task ? `☐ ${item.title}` : item.title}</span>
  </button>`;
}

export function MonthGrid({ days, month, today, focus, colors, onOpen, onPick }) {
  const keys = [...days.keys()];
  const weeks = [];
  for (let i = 0; i < keys.length; i += 7) weeks.push(keys.slice(i, i + 7));
  return html`<div class="cal-month" role="grid" aria-label=${dayLabel(`${month}-01`, { month: 'long', year: 'numeric' })}>
    <div class="cal-month__head" role="row">
      ${weeks[0].map((d) => html`<span role="columnheader" class="cal-month__weekday">${dayLabel(d, { weekday: 'short' })}</span>`)}
    </div>
    ${weeks.map(
      (week) => html`<div class="cal-month__week" role="row" key=${week[0]}>
        ${week.map((day) => {
          const items = days.get(day) ?? [];
          const outside = !day.startsWith(month);
          const cls = `cal-day${outside ? ' cal-day--outside' : ''}${day === today ? ' cal-day--today' : ''}`;
          return html`<div role="gridcell" class=${cls} key=${day} data-day=${day} aria-selected=${day === focus ? 'true' : 'false'}>
            <button type="button" class="cal-day__number" tabindex=${day === focus ? 0 : -1}
              aria-label=${dayLabel(day, { dateStyle: 'full' })} onClick=${() => onPick(day)}>${Number(day.slice(8))}</button>
            <span class="cal-day__dots" aria-hidden="true">
              ${items.slice(0, MONTH_CHIPS).map((item) => html`<span key=${`${item.event}/${item.recurrence_id}`} class=${`cal-item__dot cal-c${colors.get(item.calendar) ?? 0}`}></span>`)}
            </span>
            ${items.slice(0, MONTH_CHIPS).map((item) => html`<${Chip} key=${`${item.event}/${item.recurrence_id}`} item=${item} colors=${colors} onOpen=${onOpen} />`)}
            ${items.length > MONTH_CHIPS
              ? html`<button type="button" class="cal-day__more" onClick=${() => onPick(day, 'day')}>${ct('more', { count: items.length - MONTH_CHIPS })}</button>`
              : null}
          </div>`;
        })}
      </div>`,
    )}
  </div>`;
}

/** Week, day and agenda: days one under another (a phone's natural calendar list). */
export function DayList({ days, today, focus, colors, onOpen, onPick, skipEmpty = false, label }) {
  const entries = [...days.entries()].filter(([, items]) => !skipEmpty || items.length);
  return html`<ol class="cal-days" aria-label=${label}>
    ${entries.length === 0 ? html`<li class="empty">${ct('noEvents')}</li>` : null}
    ${entries.map(
      ([day, items]) => html`<li key=${day} class=${`cal-list-day${day === today ? ' cal-list-day--today' : ''}`} data-day=${day}>
        <h3 class="cal-list-day__title">
          <button type="button" class="cal-day__number" tabindex=${day === focus ? 0 : -1} onClick=${() => onPick(day, 'day')}>
            ${dayLabel(day, { weekday: 'long', day: 'numeric', month: 'long' })}
          </button>
        </h3>
        <ul class="cal-list-day__items" aria-label=${dayLabel(day, { dateStyle: 'full' })}>
          ${items.map((item) => html`<li key=${`${item.event}/${item.recurrence_id}`}><${Chip} item=${item} colors=${colors} onOpen=${onOpen} /></li>`)}
        </ul>
      </li>`,
    )}
  </ol>`;
}

/** The key that moves the focused day, and by how much (null: not ours). */
export function step(key, mode) {
  const week = mode === 'month' || mode === 'week' ? 7 : 1;
  return { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -week, ArrowDown: week }[key] ?? null;
}

export { addDays };
