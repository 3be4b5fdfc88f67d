// A channel's unread count, derived — never stored. Port of `unread_count` in
// sync_protocol/replica.py; both pass sync_protocol/vectors/unread.json.
//
// The numbers past my read cursor up to the last one held, less my own messages among them
// (what I wrote, on any device, is never news to me). A number the device does not hold yet
// counts, since its author is unknown.

/**
 * @param {{n?: number, author?: string|null, state?: string}[]} messages top-level messages in
 *   display order: sent ones by n first; unsent ones (no n) after them are ignored.
 * @param {number} read my read cursor
 * @param {string} me
 */
export function unreadCount(messages, read, me) {
  const sent = (m) => typeof m.n === 'number' && m.state !== 'pending';
  // Binary search for the first sent message past the cursor (read ones form a prefix).
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sent(messages[mid]) && messages[mid].n <= read) lo = mid + 1;
    else hi = mid;
  }
  let last = read;
  let mine = 0;
  for (let i = lo; i < messages.length && sent(messages[i]); i++) {
    last = messages[i].n;
    if (messages[i].author === me) mine += 1;
  }
  return last - read - mine;
}
