// A channel's Files view: everything shared there, newest first, with a thumbnail, the name,
// the type, the size, who shared it and when; filters by type and by person, and a search by
// name over what this device holds (it works offline).
//
// Versions: records whose `version_of` names the same first version are one file. The row shows
// the newest version; "Upload new version" queues another (files/compose.js, queueVersion), and
// the versions list keeps every earlier one downloadable.

import { useState } from 'preact/hooks';
import { html } from './html.js';
import { t, formatDateTime } from '../lib/i18n.js';
import { Thumbnail, displayName, formatBytes } from './attachments.js';
import { isImage } from '../files/images.js';
import { queueVersion } from '../files/compose.js';

const KINDS = ['all', 'images', 'pdf', 'text', 'other'];

export function kindOf(type) {
  if (isImage(type)) return 'images';
  if (type === 'application/pdf') return 'pdf';
  if ((type ?? '').startsWith('text/')) return 'text';
  return 'other';
}

/**
 * Files grouped by their first version, newest version first in each, groups by their newest.
 * @param {any[]} files newest first (Files#inChannel)
 * @returns {{first: string, versions: any[]}[]}
 */
export function versionGroups(files) {
  const groups = new Map();
  for (const f of files) {
    const first = typeof f.version_of === 'string' ? f.version_of : f.id;
    if (!groups.has(first)) groups.set(first, { first, versions: [] });
    groups.get(first).versions.push(f);
  }
  return [...groups.values()];
}

/** A file found by Search (is:file): where, who, when; open and download. */
export function FileResult({ app, item }) {
  const channel = app.queries.channel(item.channel);
  const name = displayName(item.name);
  return html`<li class="result" data-id=${item.id}>
    <div class="result__meta">
      <span class="result__channel">${channel ? (channel.kind === 'dm' || channel.kind === 'group' ? channel.name : `#${channel.name}`) : ''}</span>
      <span class="tag">${t('files.result')}</span>
      <span class="result__author">${app.queries.userName(item.uploader) || t('message.someone')}</span>
      ${typeof item.at === 'number' ? html`<time datetime=${new Date(item.at).toISOString()}>${formatDateTime(item.at)}</time>` : null}
    </div>
    <p class="result__text">${name} · ${formatBytes(item.size ?? 0)}</p>
    <a class="result__open" href=${`/api/files/${item.id}`} target="_blank" rel="noopener">${t('files.open', { name })}</a>
    <a class="result__open" href=${`/api/files/${item.id}?download=true`} download=${name}>${t('files.download', { name })}</a>
  </li>`;
}

/** Deleting a file record hides it for everyone (its uploader may; so may an admin, on the server). */
function DeleteFile({ app, file, label }) {
  if (!file.uploader || file.uploader !== app.queries.me.value) return null;
  const remove = () => {
    if (globalThis.confirm(t('files.deleteConfirm'))) app.actions.writeChanges([{ collection: 'files', id: file.id, fields: { deleted: true } }]);
  };
  return html`<button type="button" class="button button--small button--ghost" onClick=${remove}>${label}</button>`;
}

function Versions({ app, group }) {
  const latest = group.versions[0];
  const name = displayName(latest.name);
  const count = group.versions.length;
  return html`<details class="files-panel__versions">
    <summary>${t('files.versions', { count })}</summary>
    <ol class="files-panel__version-list" reversed aria-label=${t('files.versionsOf', { name })}>
      ${group.versions.map((v, i) => {
        const number = count - i;
        return html`<li key=${v.id}>
          <a href=${`/api/files/${v.id}?download=true`} download=${displayName(v.name)}>${t('files.downloadVersion', { number, name })}</a>
          <${DeleteFile} app=${app} file=${v} label=${t('files.deleteVersion', { number, name })} />
          <span class="files-panel__meta"> ${displayName(v.name)} · ${formatBytes(v.size ?? 0)} · ${app.queries.userName(v.uploader) || t('message.someone')}
            ${typeof v.at === 'number' ? html` · <time datetime=${new Date(v.at).toISOString()}>${formatDateTime(v.at)}</time>` : null}</span>
        </li>`;
      })}
    </ol>
  </details>`;
}

function NewVersion({ app, channelId, group }) {
  const name = displayName(group.versions[0].name);
  const [error, setError] = useState(null);
  const pick = (event) => {
    const [file] = event.currentTarget.files ?? [];
    event.currentTarget.value = '';
    if (!file) return;
    setError(null);
    queueVersion(app, { channel: channelId, of: group.first, file }).catch((err) =>
      setError(err?.name === 'FileTooLarge' ? t('files.tooLarge', { name: displayName(err.file), max: formatBytes(err.max) }) : t('composer.failed')),
    );
  };
  return html`<label class="button button--small button--ghost files-panel__new-version">
      ${t('files.newVersion')}
      <input type="file" class="attach__input" aria-label=${t('files.newVersionOf', { name })} onChange=${pick} />
    </label>
    ${error ? html`<p class="form-error" role="alert">${error}</p>` : null}`;
}

export function FilesPanel({ app, channelId, onClose }) {
  const [kind, setKind] = useState('all');
  const [person, setPerson] = useState('all');
  const [words, setWords] = useState('');
  const all = app.files?.inChannel(channelId) ?? [];
  const people = [...new Set(all.map((f) => f.uploader).filter(Boolean))];
  const needle = words.trim().toLowerCase();
  const shown = versionGroups(all).filter(({ versions: [f], versions }) =>
    (kind === 'all' || kindOf(f.type) === kind) &&
    (person === 'all' || versions.some((v) => v.uploader === person)) &&
    (!needle || versions.some((v) => displayName(v.name).toLowerCase().includes(needle))),
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
          ${shown.map((group) => {
            const f = group.versions[0];
            return html`<li key=${group.first} class="files-panel__item">
              ${isImage(f.type) || f.type === 'application/pdf' ? html`<${Thumbnail} file=${f} />` : html`<span class="file-card__icon" aria-hidden="true">📄</span>`}
              <div class="files-panel__about">
                <a class="files-panel__name" href=${`/api/files/${f.id}`} target="_blank" rel="noopener">${displayName(f.name)}</a>
                <span class="files-panel__meta">${f.type} · ${formatBytes(f.size ?? 0)} · ${app.queries.userName(f.uploader) || t('message.someone')}
                  ${typeof f.at === 'number' ? html` · <time datetime=${new Date(f.at).toISOString()}>${formatDateTime(f.at)}</time>` : null}</span>
                <div class="files-panel__actions">
                  <${NewVersion} app=${app} channelId=${channelId} group=${group} />
                  <${DeleteFile} app=${app} file=${f} label=${t('files.delete', { name: displayName(f.name) })} />
                  ${group.versions.length > 1 ? html`<${Versions} app=${app} group=${group} />` : null}
                </div>
              </div>
            </li>`;
          })}
        </ul>`
      : html`<p class="empty">${t('files.none')}</p>`}
  </section>`;
}
