// Search, as the search view asks for it (App#search): on the server (every channel I may see)
// when online, else over what this device holds, with the same syntax. A query with a task filter
// (is:task, assignee:, status:, due:) searches tasks, one with is:file files by name; the rest are
// messages. Every answer says where it came from: `where` is 'server' | 'device'. Searching the
// messages the device holds is local-search.js (Queries#searchLocal).

import { splitTaskFilters } from '../lib/task-query.js';
import { splitFileFilter } from '../lib/file-query.js';
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
