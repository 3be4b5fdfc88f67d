// Finding files by name with the shared search syntax: a port of sync_protocol/file_query.py
// (read its rules there); both pass sync_protocol/vectors/file_query.json. Offline, the Search
// view runs this over the files this device holds; online the server runs the Python twin.
//
// Pure functions: no DOM, no I/O.

import { textMatches, personNamed, takeFilters, timeMatches } from './search-query.js';
import { displayName } from './file-names.js';

const ASKS = new Set(['file', 'files']);

/**
 * Rule 1: whether `query` asks for files, and the query without `is:file`.
 * @param {string} query
 * @returns {[boolean, string]}
 */
export function splitFileFilter(query) {
  let asks = false;
  const rest = takeFilters(query, (key, value) => {
    if (key !== 'is' || !ASKS.has(value.toLowerCase())) return false;
    asks = true;
    return true;
  });
  return [asks, rest];
}

/**
 * Rules 2-5: the ids of the matching files, newest first.
 * @param {ReturnType<typeof import('./search-query.js').parseQuery>} parsed
 * @param {Record<string, Record<string, any>>} files id -> fields
 * @param {Record<string, string>} channels the searcher's channels, id -> name
 * @param {Record<string, {name?: string, email?: string}>} people user id -> fields
 * @returns {string[]}
 */
export function searchFiles(parsed, files, channels, people) {
  const channelOk = (id) => {
    if (!Object.hasOwn(channels, id)) return false;
    const names = [id.toLowerCase(), String(channels[id]).toLowerCase()];
    return !parsed.channels.length || parsed.channels.some((value) => names.includes(value.toLowerCase()));
  };
  const personOk = (id) => {
    const p = people[id] ?? {};
    return !parsed.people.length || parsed.people.some((value) => personNamed(value, id, p.name ?? '', p.email ?? ''));
  };
  const hits = [];
  for (const [id, f] of Object.entries(files)) {
    if (f.deleted === true || !channelOk(String(f.channel))) continue;
    if (!textMatches(parsed, displayName(String(f.name ?? '')))) continue;
    if (!personOk(String(f.uploader ?? ''))) continue;
    const at = Number.isInteger(f.at) ? f.at : null;
    if ((parsed.before || parsed.after) && (at === null || !timeMatches(parsed, at))) continue;
    hits.push([at ?? Number.MAX_SAFE_INTEGER, id]);
  }
  hits.sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return hits.map(([, id]) => id);
}
