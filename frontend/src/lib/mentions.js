// @mentions in message text. Pure helpers: no DOM, no I/O.
//
// Rule 1. `@channel` (also `@here`, `@everyone`) mentions everyone in the channel: `channel`.
// Rule 2. `@Full Name` or `@emailname` of a member mentions that member (case aside), when what
//         follows the name is not a letter or digit. Longer names are tried first, so
//         "@Ada Lovelace" is Ada Lovelace even if someone is called "Ada".
// The `mentions` field is the space-separated list: user ids and/or `channel`.

const BROADCAST = /(^|[^\p{L}\p{N}_])@(channel|here|everyone)(?![\p{L}\p{N}_])/iu;

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * @param {string} text
 * @param {{id: string, name: string, email?: string}[]} people the channel's members
 * @returns {string} the `mentions` field value ('' when nobody)
 */
export function findMentions(text, people) {
  const found = [];
  if (BROADCAST.test(text)) found.push('channel');
  const handles = [];
  for (const p of people) {
    if (p.name) handles.push([p.name, p.id]);
    const local = (p.email ?? '').split('@')[0];
    if (local) handles.push([local, p.id]);
  }
  handles.sort((a, b) => b[0].length - a[0].length);
  let rest = text;
  for (const [handle, id] of handles) {
    const pattern = new RegExp(`(^|[^\\p{L}\\p{N}_])@${escape(handle)}(?![\\p{L}\\p{N}_])`, 'iu');
    if (pattern.test(rest)) {
      if (!found.includes(id)) found.push(id);
      rest = rest.replace(new RegExp(`@${escape(handle)}`, 'giu'), ' ');
    }
  }
  return found.join(' ');
}

/** The `@partial` being typed just before the caret, or null. */
export function mentionAt(text, caret) {
  const before = text.slice(0, caret);
  const match = /(^|\s)@([\p{L}\p{N}_.\-]*(?: [\p{L}\p{N}_.\-]*)?)$/u.exec(before);
  if (!match) return null;
  return { query: match[2], start: caret - match[2].length - 1 };
}
