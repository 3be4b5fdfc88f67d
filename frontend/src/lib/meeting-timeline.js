// A channel's meetings as rows of its message list ("Meeting · 34 min · Ada, Bob, Chen", or
// "Meeting in progress · 3 people · Join" while it runs). Pure: no DOM, no clock.
//
// Rule 1. A meeting goes where it started: after the last sent message the server accepted
//         before its start (`at`), before any unsent message (those always come last).
// Rule 2. Its row's `n` is that message's n + 0.5 (0.5 before the first), so the list stays
//         sorted by n: a binary search for a message's n (a jump, a gap) still finds it and
//         never a meeting. Rows are told apart by `kind: 'meeting'` and `state: 'meeting'`,
//         which nothing that counts messages (unread, "seen by", the read cursor) looks at.
// Rule 3. A meeting older than the oldest message held is left out while older history can
//         still be fetched: it will find its place when that page arrives, not jump there.
// Rule 4. No meeting to place: the very same array comes back (the list then does no work).

/**
 * @typedef {{id: string, channel?: string, started_at?: number}} Meeting
 * @typedef {{id: string, n?: number, at?: number, state: string, [key: string]: any}} Row
 */

/** The meetings of one channel, oldest first, from the `meetings` collection (a Map of records). */
export function channelMeetings(records, channelId) {
  /** @type {Meeting[]} */
  const found = [];
  for (const [id, record] of records.entries()) {
    const f = record.fields;
    if (f.channel === channelId && typeof f.started_at === 'number') found.push({ id, channel: channelId, started_at: f.started_at });
  }
  return found.sort((a, b) => a.started_at - b.started_at || (a.id < b.id ? -1 : 1));
}

/** The row of one meeting in the list. */
export function meetingRow(meeting, n) {
  const { id, channel, started_at: at } = meeting;
  return { id: `meeting:${id}`, kind: 'meeting', meeting: id, channel, state: 'meeting', n, at };
}

/**
 * `items` (sent messages by n, then unsent ones) with a row for each meeting (Rules 1-4).
 * @param {Row[]} items @param {Meeting[]} meetings oldest first @param {boolean} hasOlder
 * @returns {Row[]}
 */
export function withMeetings(items, meetings, hasOlder) {
  if (!meetings.length) return items;
  let sent = 0;
  while (sent < items.length && items[sent].state === 'sent') sent++;
  const firstAt = sent ? items[0].at : undefined;
  const out = [];
  let i = 0;
  for (const meeting of meetings) {
    if (hasOlder && (typeof firstAt !== 'number' || meeting.started_at < firstAt)) continue; // Rule 3
    while (i < sent && !(items[i].at > meeting.started_at)) out.push(items[i++]);
    const before = i > 0 ? items[i - 1].n ?? 0 : 0;
    out.push(meetingRow(meeting, before + 0.5));
  }
  if (out.length === i) return items; // every meeting was left out
  for (; i < items.length; i++) out.push(items[i]);
  return out;
}
