// Markdown trees (lib/markdown.js) as vnodes. User text only ever becomes text nodes; links
// are http(s)/mailto only, open in a new tab, and never pass the opener.
//
// A long channel mounts dozens of messages per frame while it scrolls, so the tree becomes
// vnodes through plain function calls (no component per line or per inline run), the common
// case — one line of plain text — is the text itself, and parses are cached by text.

import { html } from './html.js';
import { parseMarkdown } from '../lib/markdown.js';

function inline(nodes) {
  return nodes.map((node) => {
    switch (node.type) {
      case 'strong':
        return html`<strong>${inline(node.children)}</strong>`;
      case 'em':
        return html`<em>${inline(node.children)}</em>`;
      case 'code':
        return html`<code>${node.text}</code>`;
      case 'link':
        return html`<a href=${node.href} target="_blank" rel="noopener noreferrer">${inline(node.children)}</a>`;
      default:
        return node.text;
    }
  });
}

function lines(lines) {
  if (lines.length === 1 && lines[0].length === 1 && lines[0][0].type === 'text') return lines[0][0].text;
  return lines.map((nodes, i) => (i ? [html`<br />`, inline(nodes)] : inline(nodes)));
}

// Parses by text, least recently used out first: one screen re-shown after a scroll back is
// never parsed twice, and memory stays bounded however long the channel.
const CACHE = 2000;
const cache = new Map();
function parsed(text) {
  let blocks = cache.get(text);
  if (blocks) cache.delete(text);
  else {
    blocks = parseMarkdown(text);
    if (cache.size >= CACHE) cache.delete(cache.keys().next().value);
  }
  cache.set(text, blocks);
  return blocks;
}

/** A message's text. One plain paragraph renders without a wrapper, as the text itself. */
export function Markdown({ text, class: className = 'msg__text' }) {
  const blocks = parsed(text);
  if (blocks.length === 1 && blocks[0].type === 'p') {
    return html`<div class=${className}>${lines(blocks[0].lines)}</div>`;
  }
  return html`<div class=${`${className} md`}>
    ${blocks.map((block) => {
      if (block.type === 'code') return html`<pre><code>${block.text}</code></pre>`;
      if (block.type === 'ul') return html`<ul>${block.items.map((nodes) => html`<li>${inline(nodes)}</li>`)}</ul>`;
      if (block.type === 'ol') return html`<ol start=${block.start}>${block.items.map((nodes) => html`<li>${inline(nodes)}</li>`)}</ol>`;
      return html`<p>${lines(block.lines)}</p>`;
    })}
  </div>`;
}
