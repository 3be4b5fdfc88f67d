/**
 * The search query syntax, shared by server search and offline search on this device.
 * A port of sync_protocol/search_query.py; both pass sync_protocol/vectors/search_query.json.
 *
 * Rule 1. Whitespace separates tokens; a double-quoted run is one phrase token (an unclosed
 *         quote runs to the end).
 * Rule 2. `in:` names a channel (a leading `#` is dropped) or, as `in:@person`, the direct and
 *         group messages with that person (the `@` is kept); `from:` names a person (a leading
 *         `@` is dropped); `before:`/`after:` a UTC day `YYYY-MM-DD`. A filter with an empty or
 *         invalid value is an ordinary word.
 * Rule 3. Text matches when every word and every phrase occurs in it, case-insensitively, as a
 *         substring — so the same rule works for languages written without spaces (Chinese).
 * Rule 4. `before:D` keeps messages sent before day D began; `after:D` keeps those sent after
 *         day D ended (both in UTC).
 * Rule 5. A person is named, case-insensitively, by their id, email, the email's part before `@`,
 *         full name, first name, or name without spaces.
 *
 * Pure functions: no DOM, no I/O.
 */

export const DAY_MS = 86_400_000;
const DAY = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

/** @param {string} value */
function validDay(value) {
  if (!DAY.test(value)) return false;
  const [y, m, d] = value.split('-').map(Number);
  if (y < 1) return false;
  const date = new Date(Date.UTC(y, m - 1, d));
  date.setUTCFullYear(y); // years below 100 are not 19xx
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/**
 * @param {string} query
 * @returns {{words: string[], phrases: string[], channels: string[], people: string[],
 *   before: string|null, after: string|null}}
 */
/**
 * The query without the `key:value` tokens `take(key, value)` keeps (key lower-cased, value as
 * typed; a phrase is never a filter), whitespace collapsed: how the file and task filters are
 * split off before the rest goes to parseQuery, on the same tokens (Rule 1). Python:
 * search_query.take_filters.
 * @param {string} query
 * @param {(key: string, value: string) => boolean} take
 */
export function takeFilters(query, take) {
  const text = String(query);
  const rest = [];
  let cursor = 0;
  for (const match of text.matchAll(/"([^"]*)"?|(\S+)/gu)) {
    const token = match[2];
    if (token === undefined) continue;
    const colon = token.indexOf(':');
    const key = (colon < 0 ? token : token.slice(0, colon)).toLowerCase();
    if (!take(key, colon < 0 ? '' : token.slice(colon + 1))) continue;
    rest.push(text.slice(cursor, match.index));
    cursor = /** @type {number} */ (match.index) + match[0].length;
  }
  rest.push(text.slice(cursor));
  return rest.join(' ').split(/\s+/u).filter(Boolean).join(' ');
}

export function parseQuery(query) {
  const parsed = { words: [], phrases: [], channels: [], people: [], before: null, after: null };
  for (const match of String(query).matchAll(/"([^"]*)"?|(\S+)/gu)) {
    const [, phrase, token] = match;
    if (phrase !== undefined) {
      if (phrase.trim()) parsed.phrases.push(phrase.trim());
      continue;
    }
    const colon = token.indexOf(':');
    const key = (colon < 0 ? token : token.slice(0, colon)).toLowerCase();
    const value = colon < 0 ? '' : token.slice(colon + 1);
    const channel = value.replace(/^#+/, '');
    const person = value.replace(/^@+/, '');
    if (key === 'in' && channel) parsed.channels.push(channel);
    else if (key === 'from' && person) parsed.people.push(person);
    else if (key === 'before' && validDay(value)) parsed.before = value;
    else if (key === 'after' && validDay(value)) parsed.after = value;
    else parsed.words.push(token);
  }
  return parsed;
}

/** Everything that must occur in the text, lower-cased. */
export function needles(parsed) {
  return [...parsed.words, ...parsed.phrases].map((n) => n.toLowerCase());
}

export function textMatches(parsed, text) {
  const lowered = String(text ?? '').toLowerCase();
  return needles(parsed).every((needle) => lowered.includes(needle));
}

/** Rule 5: does `value` (from `from:` or `in:@`) name this person? */
export function personNamed(value, id, name, email) {
  const wanted = String(value ?? '').toLowerCase();
  const lowName = String(name ?? '').toLowerCase();
  const lowEmail = String(email ?? '').toLowerCase();
  const parts = lowName.split(/\s+/).filter(Boolean);
  const names = [String(id ?? '').toLowerCase(), lowEmail, lowEmail.split('@')[0], lowName, parts[0] ?? '', parts.join('')];
  return wanted !== '' && names.includes(wanted);
}

export function dayStartMs(day) {
  const [y, m, d] = day.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  date.setUTCFullYear(y);
  return date.getTime();
}

export function timeMatches(parsed, atMs) {
  if (parsed.before !== null && atMs >= dayStartMs(parsed.before)) return false;
  return !(parsed.after !== null && atMs < dayStartMs(parsed.after) + DAY_MS);
}

/** Build a query from the search form's filters (the same syntax people can type). */
export function composeQuery({ text = '', channel = '', person = '', after = '', before = '' }) {
  const parts = [text.trim()];
  const quoteless = (s) => s.replace(/\s+/g, '');
  if (channel) parts.push(`in:#${quoteless(channel)}`);
  if (person) parts.push(`from:@${quoteless(person)}`);
  if (after) parts.push(`after:${after}`);
  if (before) parts.push(`before:${before}`);
  return parts.filter(Boolean).join(' ');
}
