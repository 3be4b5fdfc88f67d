// A channel's Files view: everything shared there, newest first, with a thumbnail, the name,
// the type, the size, who shared it and when; filters by type and by person, and a search by
// name over what this device holds (it works offline).

import { useState } from 'preact/hooks';
import { html } from './html.js';
import { t, formatDateTime } from '../lib/i18n.js';
import { Thumbnail, displayName, formatBytes } from './attachments.js';
import { isImage } from '../files/images.js';

const KINDS = ['all', 'images', 'pdf', 'text', 'other'];

export function kindOf(type) {
  if (isImage(type)) return 'images';
  if (type === 'application/pdf') return 'pdf';
  if ((type ?? '').startsWith('text/')) return 'text';
  return 'other';
}

export function FilesPanel({ app, channelId, onClose }) {
  const [kind, setKind] = useState('all');
  const [person, setPerson] = useState('all');
  const [words, setWords] = useState('');
  const all = app.files?.inChannel(channelId) ?? [];
  const people = [...new Set(all.map((f) => f.uploader).filter(Boolean))];
  const needle = words.trim().toLowerCase();
  const shown = all.filter(
    (f) =>
      (kind === 'all' || kindOf(f.type) === kind) &&
      (person === 'all' || f.uploader === person) &&
      (!needle || displayName(f.name).toLowerCase().includes(needle)),
  );
  return html`<section class="panel files-panel" aria-labelledby="files-title">
    <header class="panel__header">
      <h2 id="files-title" class="panel__title">${t('files.title')}</h2>
      <button type="button" class="icon-button" onClick=${onClose}>
        <span aria-hidden="true">×</span><span class="visually-hidden">${t('dialog.close')}</span>
      </button>
    </header>
    <div class="files-panel__filters">
      <label>${t('files.search')}
        <input type="search" value=${words} onInput=${(e) => setWords(e.currentTarget.value)} />
      </label>
      <label>${t('files.filterType')}
        <select value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
          ${KINDS.map((k) => html`<option value=${k}>${t(`files.kind.${k}`)}</option>`)}
        </select>
      </label>
      <label>${t('files.filterPerson')}
        <select value=${person} onChange=${(e) => setPerson(e.currentTarget.value)}>
          <option value="all">${t('files.everyone')}</option>
          ${people.map((p) => html`<option value=${p}>${app.queries.userName(p) || p}</option>`)}
        </select>
      </label>
    </div>
    ${shown.length
      ? html`<ul class="files-panel__list" aria-label=${t('files.title')}>
          ${shown.map(
            (f) => html`<li key=${f.id} class="files-panel__item">
              ${isImage(f.type) || f.type === 'application/pdf' ? html`<${Thumbnail} file=${f} />` : html`<span class="file-card__icon" aria-hidden="true">📄</span>`}
              <div class="files-panel__about">
                <a class="files-panel__name" href=${`/api/files/${f.id}`} target="_blank" rel="noopener">${displayName(f.name)}</a>
                <span class="files-panel__meta">${f.type} · ${formatBytes(f.size ?? 0)} · ${app.queries.userName(f.uploader) || t('message.someone')}
                  ${typeof f.at === 'number' ? html` · <time datetime=${new Date(f.at).toISOString()}>${formatDateTime(f.at)}</time>` : null}</span>
              </div>
            </li>`,
          )}
        </ul>`
      : html`<p class="empty">${t('files.none')}</p>`}
  </section>`;
}
