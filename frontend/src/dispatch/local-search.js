// Search over the messages this device holds (Queries#searchLocal), with the same query syntax as
// the server's (lib/search-query.js): what search.js answers offline, and the coverage it reports.
// A module of its own, not in search.js: the service worker bundles Queries (sw/reads.js) and
// needs none of the online search's task and file filters.

import { parseQuery, personNamed, timeMatches } from '../lib/search-query.js';

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
