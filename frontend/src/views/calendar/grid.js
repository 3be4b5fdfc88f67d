// The month grid and the agenda list (the day and week views are hours.js). The month is a grid
// (role grid, arrow keys move between days); the agenda is a list of days, so a phone reads it
// top to bottom. An event is a button that opens it; a task's due date is a link to the task.

import { html } from '../html.js';
import { ct } from './strings.js';
import { addDays } from '../../lib/calendar-model.js';
import { locale } from '../../lib/i18n.js';
import { taskHref } from '../router.js';

const MONTH_CHIPS = 3;

/** Formats by locale and options: making one costs more than using it (a month asks ~90 times). */
const formats = new Map();

/** @param {string} day @param {Intl.DateTimeFormatOptions} options */
export function dayLabel(day, options) {
  const key = `${locale()} ${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (!format) formats.set(key, (format = new Intl.DateTimeFormat(locale(), { timeZone: 'UTC', ...options })));
  return format.format(new Date(`${day}T00:00Z`));
}

export function Chip({ item, colors, onOpen }) {
  const color = colors.get(item.calendar) ?? 0;
  if (item.task) {
    return html`<a class=${`cal-item cal-item--task cal-c${color}`} href=${taskHref(item.calendar.slice(2), item.task)} title=${item.title}>
      <span class="cal-item__dot" aria-hidden="true"></span>
      <span class="cal-item__title">${`☐ ${item.title}`}</span>
    </a>`;
  }
  return html`<button type="button" class=${`cal-item cal-c${color}`} onClick=${() => onOpen(item)} title=${item.title}>
    <span class="cal-item__dot" aria-hidden="true"></span>
    ${item.time ? html`<span class="cal-item__time">${item.time}</span>` : null}
    <span class="cal-item__title">${item.title}</span>
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

/** The agenda: days one under another (a phone's natural calendar list). */
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
  // In the hour grid ArrowUp/ArrowDown step through a day (hours.js) and then the week.
  return { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -week, ArrowDown: week }[key] ?? null;
}

export { addDays };
