// Search, as the search view asks for it (App#search): on the server (every channel I may see)
// when online, else over what this device holds, with the same syntax. A query with a task filter
// (is:task, assignee:, status:, due:) searches tasks, one with is:file files by name; the rest are
// messages. Every answer says where it came from: `where` is 'server' | 'device'. Searching what
// the device holds (`searchHeld`) is Queries#searchLocal.

import { splitTaskFilters } from '../lib/task-query.js';
import { splitFileFilter } from '../lib/file-query.js';
import { parseQuery, personNamed, timeMatches } from '../lib/search-query.js';
import { zone } from './task-queries.js';

/**
 * What a search reads; the App's own parts (`tasks` and `files` may not be made yet).
 * @typedef {{transport: any, store: import('./store.js').Store, queries: import('./queries.js').Queries,
 *   keeping: import('./offline.js').OfflineQueries, tasks: import('./task-queries.js').TaskQueries | null,
 *   files: any}} Searched
 */

/**
 * Did the server fail to answer in a way that this device's answer should stand in for?
 * (Offline, an older server without the endpoint, or a server error; any other error is the query's.)
 * @param {any} error
 */
function unanswered(error) {
  return error.offline || error.status === 404 || error.status >= 500;
}

/**
 * @param {Searched} from
 * @param {string} query
 * @param {{limit?: number}} [options]
 */
export async function search(from, query, { limit = 50 } = {}) {
  if (splitTaskFilters(query)[0].tasks) return searchTasks(from, query, limit);
  if (splitFileFilter(query)[0]) return searchFiles(from, query, limit);
  if (from.store.status.value !== 'Offline') {
    try {
      const answer = await from.transport.search(query, limit);
      return { where: 'server', results: answer.results ?? [] };
    } catch (error) {
      if (!unanswered(error)) throw error;
    }
  }
  const { queries } = from;
  const local = queries.searchLocal(query, { limit });
  // Say which channels were only partly searched: "the newest 3,000 of 41,000 messages in #site-a".
  const partial = local.channels
    .filter((id) => queries.isMember(id))
    .map((id) => ({ id, name: queries.channel(id)?.name ?? id, ...from.keeping.coverage(id) }))
    .filter((c) => c.partial && c.total > 0);
  return { where: 'device', results: local.results, partial };
}

/**
 * Tasks (is:task, assignee:, status:, due:): the server's answer online, this device's offline.
 * @param {Searched} from
 * @param {string} query
 * @param {number} limit
 */
async function searchTasks(from, query, limit) {
  if (from.store.status.value !== 'Offline') {
    try {
      const answer = await from.transport.searchTasks(query, zone(), limit);
      return { where: 'server', results: (answer.results ?? []).map((r) => ({ ...r, task: true })) };
    } catch (error) {
      if (!unanswered(error)) throw error;
    }
  }
  return { where: 'device', results: (from.tasks?.search(query, { limit })?.results ?? []).map((r) => ({ ...r, task: true })) };
}

/**
 * Files by name (is:file): the server's answer online, what this device holds offline.
 * @param {Searched} from
 * @param {string} query
 * @param {number} limit
 */
async function searchFiles(from, query, limit) {
  if (from.store.status.value !== 'Offline') {
    try {
      const answer = await from.transport.searchFiles(query, limit);
      return { where: 'server', results: (answer.results ?? []).map((r) => ({ ...r, file: true })) };
    } catch (error) {
      if (!unanswered(error)) throw error;
    }
  }
  return { where: 'device', results: from.files?.search(query, { limit }) ?? [] };
}

/**
 * Search what this device holds (Queries#searchLocal), with the shared query syntax. Newest first.
 * Returns {results, total, channels} (results capped at `limit`; `channels`: those searched).
 * @param {import('./queries.js').Queries} queries
 * @param {string | ReturnType<typeof parseQuery>} query
 * @param {{limit?: number}} [options]
 */
export function searchHeld(queries, query, { limit = 50 } = {}) {
  const parsed = typeof query === 'string' ? parseQuery(query) : query;
  const me = queries.me.value;
  const names = (id, value) => {
    const u = queries.user(id) ?? {};
    return personNamed(value, id, u.name, u.email);
  };
  const named = (c) => parsed.channels.some((value) => {
    const conversation = c.kind === 'dm' || c.kind === 'group';
    if (value.startsWith('@')) return conversation && queries.membersOf(c.id).some((u) => u !== me && names(u, value.slice(1)));
    return !conversation && (c.name.toLowerCase() === value.toLowerCase() || c.id.toLowerCase() === value.toLowerCase());
  });
  const allowedChannels = new Set();
  for (const c of queries.channels.value) {
    if (!parsed.channels.length || named(c)) allowedChannels.add(c.id);
  }
  const authorOk = new Map();
  const personMatches = (author) => {
    if (!parsed.people.length) return true;
    if (!authorOk.has(author)) authorOk.set(author, parsed.people.some((value) => names(author, value)));
    return authorOk.get(author);
  };
  const needles = [...parsed.words, ...parsed.phrases].map((n) => n.toLowerCase());
  const results = [];
  for (const [, record] of queries.collection('messages').value) {
    const f = record.fields;
    if (f.deleted || typeof f.text !== 'string' || !allowedChannels.has(f.channel)) continue;
    if (needles.length) {
      const lowered = f.text.toLowerCase();
      let all = true;
      for (const needle of needles) if (!lowered.includes(needle)) { all = false; break; }
      if (!all) continue;
    }
    const author = f.author ?? queries.me.value;
    if (!personMatches(author)) continue;
    if ((parsed.before || parsed.after) && !(typeof f.at === 'number' && timeMatches(parsed, f.at))) continue;
    results.push({ id: record.id ?? f.id, channel: f.channel, thread: f.thread ?? null, author, n: f.n ?? null, tn: f.tn ?? null, at: f.at ?? null, text: f.text });
  }
  results.sort((a, b) => (b.at ?? Infinity) - (a.at ?? Infinity));
  return { results: results.slice(0, limit), total: results.length, channels: [...allowedChannels] };
}
