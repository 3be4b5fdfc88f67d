// A safe subset of Markdown, parsed into a small tree that views turn into vnodes (never HTML
// strings): **bold**, *italics*, `code`, ``` code blocks ```, [links](https://…), bare
// http(s) links, and - / 1. lists. Pure functions: no DOM, no I/O.
//
// Rule 1. Nothing here produces markup: every piece of user text stays a text node.
// Rule 2. Links go only to http:, https: and mailto:. Anything else ([x](javascript:…)) is
//         shown as the text that was written.
// Rule 3. Unclosed markers are text; the parse never fails.

const MAX_DEPTH = 4;
const LINK = /\[([^\]\n]{1,500})\]\(([^()\s]{1,2000})\)/y;
const BARE = /https?:\/\/[^\s<>"]+/iy;
const WORDCHAR = /[\p{L}\p{N}]/u;

/** True for the URLs a link may open. */
export function safeUrl(url) {
  if (!/^(https?:\/\/|mailto:)/i.test(url)) return false;
  try {
    return ['http:', 'https:', 'mailto:'].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

/** Inline nodes: text, strong, em, code, link. */
export function parseInline(text, depth = 0) {
  const out = [];
  let buf = '';
  const flush = () => {
    if (buf) out.push({ type: 'text', text: buf });
    buf = '';
  };
  const nested = (inner) => (depth < MAX_DEPTH ? parseInline(inner, depth + 1) : [{ type: 'text', text: inner }]);
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '`') {
      const end = text.indexOf('`', i + 1);
      if (end > i + 1) {
        flush();
        out.push({ type: 'code', text: text.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if ((ch === '*' || ch === '_') && text[i + 1] === ch) {
      const end = text.indexOf(ch + ch, i + 2);
      if (end > i + 2) {
        flush();
        out.push({ type: 'strong', children: nested(text.slice(i + 2, end)) });
        i = end + 2;
        continue;
      }
    }
    if ((ch === '*' || ch === '_') && text[i + 1] && text[i + 1] !== ' ' && text[i + 1] !== ch) {
      const opensWord = ch === '*' || !WORDCHAR.test(text[i - 1] ?? '');
      let end = text.indexOf(ch, i + 1);
      while (end > 0 && ch === '_' && WORDCHAR.test(text[end + 1] ?? '')) end = text.indexOf(ch, end + 1);
      if (opensWord && end > i + 1 && text[end - 1] !== ' ') {
        flush();
        out.push({ type: 'em', children: nested(text.slice(i + 1, end)) });
        i = end + 1;
        continue;
      }
    }
    if (ch === '[') {
      LINK.lastIndex = i;
      const m = LINK.exec(text);
      if (m) {
        flush();
        if (safeUrl(m[2])) out.push({ type: 'link', href: m[2], children: nested(m[1]) });
        else out.push({ type: 'text', text: m[0] });
        i += m[0].length;
        continue;
      }
    }
    if ((ch === 'h' || ch === 'H') && (i === 0 || /[\s(]/.test(text[i - 1]))) {
      BARE.lastIndex = i;
      const m = BARE.exec(text);
      if (m) {
        const url = m[0].replace(/[.,;:!?)\]'"]+$/, '');
        if (safeUrl(url)) {
          flush();
          out.push({ type: 'link', href: url, children: [{ type: 'text', text: url }] });
          i += url.length;
          continue;
        }
      }
    }
    buf += ch;
    i += 1;
  }
  flush();
  return out;
}

const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBER = /^\s*(\d{1,9})[.)]\s+(.*)$/;
const FENCE = /^\s*```/;

/** Blocks: p (lines of inlines), code (text), ul / ol (items of inlines). */
export function parseMarkdown(text) {
  const lines = String(text ?? '').split(/\r?\n/);
  const blocks = [];
  let para = null;
  let list = null;
  const end = () => {
    para = null;
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (FENCE.test(line)) {
      end();
      const body = [];
      let j = i + 1;
      while (j < lines.length && !FENCE.test(lines[j])) body.push(lines[j++]);
      blocks.push({ type: 'code', text: body.join('\n') });
      i = j;
      continue;
    }
    const bullet = BULLET.exec(line);
    const number = bullet ? null : NUMBER.exec(line);
    if (bullet || number) {
      const type = bullet ? 'ul' : 'ol';
      if (!list || list.type !== type) {
        para = null;
        list = { type, start: number ? Number(number[1]) : 1, items: [] };
        blocks.push(list);
      }
      list.items.push(parseInline(bullet ? bullet[1] : number[2]));
      continue;
    }
    if (!line.trim()) {
      end();
      continue;
    }
    list = null;
    if (!para) {
      para = { type: 'p', lines: [] };
      blocks.push(para);
    }
    para.lines.push(parseInline(line));
  }
  return blocks;
}
