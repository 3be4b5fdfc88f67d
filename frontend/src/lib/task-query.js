/**
 * The task filters of the shared search syntax (`is:task`, `assignee:@person`, `status:`,
 * `due:`): a port of sync_protocol/task_query.py; both pass sync_protocol/vectors/task_query.json.
 * The filters are split off before the rest goes to parseQuery (./search-query.js).
 *
 * Rule 1. `is:task` asks for tasks; so does any of the other three filters.
 * Rule 2. `assignee:` names a person (leading `@` dropped; `me` is the searcher).
 * Rule 3. `status:` matches case-insensitively; several match any of them.
 * Rule 4. `due:` is a My-tasks group (overdue, today, week, later, none) or a day YYYY-MM-DD.
 * Rule 5. A task's text is its title and description joined by a newline.
 *
 * Pure functions: no DOM, no I/O.
 */

import { takeFilters } from './search-query.js';
import { GROUPS } from './tasks.js';

const DAY = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

/** @returns {[{tasks: boolean, assignees: string[], statuses: string[], due: string|null}, string]} */
export function splitTaskFilters(query) {
  const filters = { tasks: false, assignees: [], statuses: [], due: null };
  const rest = takeFilters(query, (key, value) => {
    const person = value.replace(/^@+/, '');
    if (key === 'is' && value.toLowerCase() === 'task') filters.tasks = true;
    else if (key === 'assignee' && person) filters.assignees.push(person);
    else if (key === 'status' && value) filters.statuses.push(value.toLowerCase());
    else if (key === 'due' && (GROUPS.includes(value.toLowerCase()) || DAY.test(value))) filters.due = value.toLowerCase();
    else return false;
    return true;
  });
  filters.tasks = filters.tasks || filters.assignees.length > 0 || filters.statuses.length > 0 || filters.due !== null;
  return [filters, rest];
}

export const taskText = (title, description) => `${title ?? ''}\n${description ?? ''}`;

export const statusMatches = (filters, status) =>
  !filters.statuses.length || filters.statuses.includes(String(status ?? '').toLowerCase());

export function dueMatches(filters, due, group) {
  if (filters.due === null) return true;
  if (GROUPS.includes(filters.due)) return group === filters.due;
  return typeof due === 'string' && due.slice(0, 10) === filters.due;
}
