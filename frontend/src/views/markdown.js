// Markdown trees (lib/markdown.js) as vnodes. User text only ever becomes text nodes; links
// are http(s)/mailto only, open in a new tab, and never pass the opener.

import { html } from './html.js';
import { parseMarkdown } from '../lib/markdown.js';

function Inline({ nodes }) {
  return nodes.map((node) => {
    switch (node.type) {
      case 'strong':
        return html`<strong><${Inline} nodes=${node.children} /></strong>`;
      case 'em':
        return html`<em><${Inline} nodes=${node.children} /></em>`;
      case 'code':
        return html`<code>${node.text}</code>`;
      case 'link':
        return html`<a href=${node.href} target="_blank" rel="noopener noreferrer"><${Inline} nodes=${node.children} /></a>`;
      default:
        return node.text;
    }
  });
}

function Lines({ lines }) {
  return lines.map((nodes, i) => html`${i ? html`<br />` : null}<${Inline} nodes=${nodes} />`);
}

const cache = new Map();
function parsed(text) {
  let blocks = cache.get(text);
  if (!blocks) {
    blocks = parseMarkdown(text);
    if (cache.size > 2000) cache.clear();
    cache.set(text, blocks);
  }
  return blocks;
}

/** A message's text. One plain paragraph renders without a wrapper, as the text itself. */
export function Markdown({ text, class: className = 'msg__text' }) {
  const blocks = parsed(text);
  if (blocks.length === 1 && blocks[0].type === 'p') {
    return html`<div class=${className}><${Lines} lines=${blocks[0].lines} /></div>`;
  }
  return html`<div class=${`${className} md`}>
    ${blocks.map((block) => {
      if (block.type === 'code') return html`<pre><code>${block.text}</code></pre>`;
      if (block.type === 'ul') return html`<ul>${block.items.map((nodes) => html`<li><${Inline} nodes=${nodes} /></li>`)}</ul>`;
      if (block.type === 'ol') {
        return html`<ol start=${block.start}>${block.items.map((nodes) => html`<li><${Inline} nodes=${nodes} /></li>`)}</ol>`;
      }
      return html`<p><${Lines} lines=${block.lines} /></p>`;
    })}
  </div>`;
}
