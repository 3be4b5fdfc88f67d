// Search messages: on the server over every channel I may see when online, or over what this
// device holds when offline (same syntax, lib/search-query.js), saying which it was. Filters
// (channel, person, dates) are written into the query text, so typing them works the same.

import { useState } from 'preact/hooks';
import { html } from './html.js';
import { t, formatDateTime } from '../lib/i18n.js';
import { composeQuery } from '../lib/search-query.js';
import { messageHref } from './router.js';
import { MainHeader } from './header.js';
import { TaskResult } from './tasks-card.js';
import { FileResult } from './files.js';

/** A hit's snippet: `[` and `]` mark the matches (plain text, never markup). */
function Snippet({ text }) {
  const parts = [];
  const re = /\[([^\]]*)\]/g;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    parts.push(html`<mark>${m[1]}</mark>`);
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return html`<p class="result__text">${parts}</p>`;
}

/** A search hit or a mention. Opening it goes to the message itself, scrolled into view. */
export function ResultItem({ app, item, unread = false }) {
  if (item.task) return html`<${TaskResult} app=${app} item=${item} />`;
  if (item.file) return html`<${FileResult} app=${app} item=${item} />`;
  const q = app.queries;
  const channel = q.channel(item.channel);
  const to = messageHref(item);
  return html`<li class=${`result${unread ? ' result--unread' : ''}`} data-id=${item.id}>
    <div class="result__meta">
      <span class="result__channel">${channel ? (channel.kind === 'dm' || channel.kind === 'group' ? channel.name : `#${channel.name}`) : ''}</span>
      <span class="result__author">${q.userName(item.author) || t('message.someone')}</span>
      ${typeof item.at === 'number' ? html`<time datetime=${new Date(item.at).toISOString()}>${formatDateTime(item.at)}</time>` : null}
      ${unread ? html`<span class="tag tag--unread">${t('mentions.unread')}</span>` : null}
    </div>
    ${item.snippet ? html`<${Snippet} text=${item.snippet} />` : html`<p class="result__text">${item.deleted ? t('message.deleted') : item.text}</p>`}
    <a class="result__open" href=${to}>${t('search.open')}<span class="visually-hidden"> ${t('search.openIn', { name: channel?.name ?? '' })}</span></a>
  </li>`;
}

export function SearchView({ app }) {
  const q = app.queries;
  const [form, setForm] = useState({ text: '', channel: '', person: '', after: '', before: '' });
  const [answer, setAnswer] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const set = (name) => (e) => {
    const value = e.currentTarget.value;
    setForm((prev) => ({ ...prev, [name]: value }));
  };
  const channels = [...q.myChannels.value, ...q.myDirectMessages.value.filter((c) => c.kind !== 'dm')];
  const people = q.people.value;

  async function submit(event) {
    event.preventDefault();
    const person = people.find((p) => p.id === form.person);
    const query = composeQuery({ ...form, person: person ? person.email || person.name : '' });
    if (!query.trim()) return;
    setBusy(true);
    setError(null);
    const started = performance.now();
    try {
      const result = await app.search(query);
      setAnswer({ ...result, query, ms: Math.round(performance.now() - started) });
    } catch {
      setError(t('search.failed'));
    } finally {
      setBusy(false);
    }
  }

  return html`<section class="main main--search" aria-labelledby="main-title">
    <${MainHeader} app=${app} title=${t('search.title')} />
    <div class="page">
      <form class="search-form" role="search" onSubmit=${submit}>
        <div class="field search-form__words">
          <label for="search-words">${t('search.words')}</label>
          <input id="search-words" type="search" autocomplete="off" value=${form.text} onInput=${set('text')}
            aria-describedby="search-hint" />
          <p id="search-hint" class="field__hint">${t('search.hint')}</p>
        </div>
        <div class="search-form__filters">
          <div class="field">
            <label for="search-channel">${t('search.inChannel')}</label>
            <select id="search-channel" value=${form.channel} onChange=${set('channel')}>
              <option value="">${t('search.anyChannel')}</option>
              ${channels.map((c) => html`<option value=${c.name}>${c.name}</option>`)}
            </select>
          </div>
          <div class="field">
            <label for="search-person">${t('search.fromPerson')}</label>
            <select id="search-person" value=${form.person} onChange=${set('person')}>
              <option value="">${t('search.anyone')}</option>
              ${people.map((p) => html`<option value=${p.id}>${p.name}</option>`)}
            </select>
          </div>
          <div class="field">
            <label for="search-after">${t('search.after')}</label>
            <input id="search-after" type="date" value=${form.after} onInput=${set('after')} />
          </div>
          <div class="field">
            <label for="search-before">${t('search.before')}</label>
            <input id="search-before" type="date" value=${form.before} onInput=${set('before')} />
          </div>
        </div>
        <button type="submit" class="button button--primary" disabled=${busy}>${t('search.submit')}</button>
      </form>
      <div class="search-results" aria-live="polite">
        ${error ? html`<p class="form-error">${error}</p>` : null}
        ${answer
          ? html`<p class=${answer.where === 'device' ? 'search-where search-where--device' : 'search-where'}>
                ${answer.where === 'device' ? t('search.deviceOnly') : t('search.everywhere')}
                ${' '}${t('search.count', { count: answer.results.length })}
              </p>
              ${answer.partial?.length
                ? html`<ul class="search-coverage">
                    ${answer.partial.map(
                      (c) => html`<li key=${c.id}>${t('search.partial', { held: c.held.toLocaleString(), total: c.total.toLocaleString(), name: `#${c.name}` })}</li>`,
                    )}
                  </ul>`
                : null}
              <ol class="results" aria-label=${t('search.results')}>
                ${answer.results.map((item) => html`<${ResultItem} key=${item.id} app=${app} item=${item} />`)}
              </ol>`
          : null}
      </div>
    </div>
  </section>`;
}

export function MentionsView({ app }) {
  const mentions = app.queries.mentions.value;
  return html`<section class="main main--mentions" aria-labelledby="main-title">
    <${MainHeader} app=${app} title=${t('mentions.title')} />
    <div class="page">
      ${mentions.length
        ? html`<ol class="results" aria-label=${t('mentions.title')}>
            ${mentions.map((item) => html`<${ResultItem} key=${item.id} app=${app} item=${item} unread=${item.unread} />`)}
          </ol>`
        : html`<p class="empty">${t('mentions.none')}</p>`}
    </div>
  </section>`;
}
