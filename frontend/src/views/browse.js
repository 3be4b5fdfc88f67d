// Public channels of the workspace: open the ones I am in, join the others.

import { useState } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { href, navigate } from './router.js';
import { MainHeader } from './header.js';

export function BrowseView({ app, onNewChannel }) {
  const [filter, setFilter] = useState('');
  const needle = filter.trim().toLowerCase();
  const channels = app.queries.publicChannels.value.filter(
    (c) => !needle || c.name.toLowerCase().includes(needle) || c.topic.toLowerCase().includes(needle),
  );

  async function join(id) {
    await app.actions.joinChannel(id);
    navigate('channel', id);
  }

  return html`<section class="main" aria-labelledby="main-title">
    <${MainHeader} app=${app} title=${t('browse.title')}
      more=${[{ key: 'new', label: t('channel.new'), onSelect: onNewChannel }]}>
      <button type="button" class="button button--small" onClick=${onNewChannel}>${t('channel.new')}</button>
    <//>
    <div class="page">
      <div class="field">
        <label for="browse-filter">${t('browse.search')}</label>
        <input id="browse-filter" type="search" value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)} />
      </div>
      ${channels.length === 0
        ? html`<p class="empty">${needle ? t('browse.noMatch') : t('browse.none')}</p>`
        : html`<ul class="card-list">
            ${channels.map(
              (c) => html`<li key=${c.id} class="card-list__item">
                <div class="card-list__text">
                  <a class="card-list__title" href=${href('channel', c.id)}># ${c.name}</a>
                  ${c.topic ? html`<p class="card-list__sub">${c.topic}</p>` : null}
                </div>
                ${c.joined
                  ? html`<span class="pill">${t('browse.joined')}</span>`
                  : html`<button type="button" class="button button--small button--primary" onClick=${() => join(c.id)}
                      aria-label=${t('browse.joinNamed', { name: c.name })}>
                      ${t('channel.join')}
                    </button>`}
              </li>`,
            )}
          </ul>`}
    </div>
  </section>`;
}
