import { html } from './html.js';

const HUES = [210, 340, 160, 30, 270, 190, 10, 120];

export function initials(name) {
  const words = (name || '?').trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[words.length - 1][0] : (words[0] || '?').slice(0, 2);
  return letters.toUpperCase();
}

function hue(id) {
  let sum = 0;
  for (const ch of id || '') sum = (sum * 31 + ch.charCodeAt(0)) >>> 0;
  return HUES[sum % HUES.length];
}

/** A decorative avatar (the name is always said next to it). */
/** presence: null (no dot), or 'online' | 'away' | 'offline'. */
export function Avatar({ id, name, size = 'md', presence = null }) {
  return html`<span class=${`avatar avatar--${size} hue-${hue(id)}`} aria-hidden="true">
    ${initials(name)}${presence === null ? null : html`<span class=${`presence presence--${presence}`}></span>`}
  </span>`;
}
