// Settings → Files on this device: the space files take, per channel (copies opened recently or
// pinned "Keep offline", and bytes waiting to upload), and a button per channel that frees the
// kept copies. Waiting uploads are never removed (files/feature.js, free). Messages' space is
// Settings → Offline (views/offline.js), just above.

import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { formatBytes } from './attachments.js';

export function FilesSpace({ app }) {
  const [space, setSpace] = useState(null);
  const [tick, setTick] = useState(0);
  const jobs = app.files?.jobs.value;
  useEffect(() => {
    let live = true;
    app.files?.space().then((found) => live && setSpace(found), () => live && setSpace(null));
    return () => {
      live = false;
    };
  }, [tick, jobs]);
  if (!app.files || !space) return null;
  const q = app.queries;
  const rows = [...space.channels.entries()]
    .map(([id, row]) => ({ id, ...row, name: q.channel(id)?.name ?? id, kind: q.channel(id)?.kind }))
    .sort((a, b) => b.kept + b.waiting - (a.kept + a.waiting));
  const label = (r) => (r.kind === 'dm' || r.kind === 'group' ? r.name : `#${r.name}`);
  return html`<section class="page-section" aria-labelledby="files-space-title">
    <h2 id="files-space-title" class="page-section__title">${t('filesSpace.title')}</h2>
    <p class="lead">${t('filesSpace.lead')}</p>
    <p>${t('filesSpace.total', { size: formatBytes(space.total) })}</p>
    ${rows.length
      ? html`<ul class="card-list" aria-label=${t('filesSpace.channels')}>
          ${rows.map(
            (r) => html`<li key=${r.id} class="card-list__item">
              <div class="card-list__text">
                <span class="card-list__title">${label(r)}</span>
                <p class="card-list__sub">
                  ${t('filesSpace.kept', { size: formatBytes(r.kept) })}${r.pinned ? ` · ${t('filesSpace.pinned', { count: r.pinned })}` : ''}
                  ${r.waiting ? ` · ${t('filesSpace.waiting', { size: formatBytes(r.waiting) })}` : ''}
                </p>
              </div>
              <button type="button" class="button button--small" disabled=${r.kept === 0}
                onClick=${() => app.files.free(r.id).then(() => setTick(tick + 1))}>${t('filesSpace.free', { name: label(r) })}</button>
            </li>`,
          )}
        </ul>`
      : html`<p class="empty">${t('filesSpace.none')}</p>`}
  </section>`;
}
