// Every string the UI shows comes from here. A catalog maps a key to a string, or to plural
// forms keyed by Intl.PluralRules categories ("one", "other", ...). Placeholders look like
// {name}. Adding a language is adding a catalog: see ./locales/.

import en from './locales/en.js';
import zhCN from './locales/zh-CN.js';

export const CATALOGS = { en, 'zh-CN': zhCN };

let current = 'en';

/**
 * Pick the best catalog for a list of preferred languages (navigator.languages).
 * @param {readonly string[]} [preferred]
 */
export function negotiate(preferred = []) {
  for (const tag of preferred) {
    if (CATALOGS[tag]) return tag;
    const lower = tag.toLowerCase();
    if (lower.startsWith('zh') && !/^zh-(tw|hk|mo|hant)/.test(lower)) return 'zh-CN';
    const base = lower.split('-')[0];
    if (CATALOGS[base]) return base;
  }
  return 'en';
}

export function setLocale(tag) {
  current = CATALOGS[tag] ? tag : 'en';
  return current;
}

export function locale() {
  return current;
}

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Translate `key`; `params.count` selects the plural form when the entry has forms. */
export function t(key, params = {}) {
  const entry = CATALOGS[current][key] ?? en[key];
  if (entry === undefined) return key;
  if (typeof entry === 'string') return fill(entry, params);
  const category = formatter('plural', () => new Intl.PluralRules(current)).select(params.count ?? 0);
  return fill(entry[category] ?? entry.other, params);
}

/** A time of day in the current locale. */
export function formatTime(ms) {
  return formatter('time', () => new Intl.DateTimeFormat(current, { hour: 'numeric', minute: '2-digit' })).format(new Date(ms));
}

/** A date and time, for tooltips and the devices list. */
export function formatDateTime(ms) {
  return formatter('dateTime', () => new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' })).format(new Date(ms));
}

// Intl objects are costly to make (a message row's time, a plural in every badge): one of each
// kind per locale, made on first use. Keyed by locale, so setLocale needs no reset.
/** @type {Map<string, any>} */
const formatters = new Map();

/**
 * @template T
 * @param {string} kind
 * @param {() => T} make
 * @returns {T}
 */
function formatter(kind, make) {
  const key = `${current}|${kind}`;
  let made = formatters.get(key);
  if (!made) formatters.set(key, (made = make()));
  return made;
}
