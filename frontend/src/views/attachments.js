// Files in chat: the composer's attach controls and chosen files, messages still waiting for
// their uploads (local previews, progress, pause, retry, cancel), and a sent message's files
// (thumbnails with a placeholder of the right shape, open, download, keep offline).
// File names are shown as text, never as markup or paths.

import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { isImage, rememberDownscale } from '../files/images.js';
import { displayName } from '../lib/file-names.js';

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export { displayName };

/** "Attach files" and, for phones, "Take photo" (the camera, through <input capture>). */
export function AttachControls({ onFiles, disabled }) {
  const pick = (event) => {
    const files = [...(event.currentTarget.files ?? [])];
    event.currentTarget.value = '';
    if (files.length) onFiles(files);
  };
  return html`<span class="attach">
    <label class="icon-button attach__button" title=${t('files.attach')}>
      <span aria-hidden="true">📎</span>
      <input type="file" multiple class="attach__input" aria-label=${t('files.attach')} onChange=${pick} disabled=${disabled} />
    </label>
    <label class="icon-button attach__button attach__camera" title=${t('files.camera')}>
      <span aria-hidden="true">📷</span>
      <input type="file" accept="image/*" capture="environment" class="attach__input" aria-label=${t('files.camera')}
        onChange=${pick} disabled=${disabled} />
    </label>
  </span>`;
}

/** The files chosen for the next message, with "smaller photos" (remembered). */
export function ChosenFiles({ files, onRemove, downscale, onDownscale }) {
  if (!files.length) return null;
  return html`<div class="chosen-files">
    <ul class="chosen-files__list" aria-label=${t('files.chosen')}>
      ${files.map(
        (file, i) => html`<li key=${i} class="chosen-files__item">
          <span class="chosen-files__name">${displayName(file.name)}</span>
          <span class="chosen-files__size">${formatBytes(file.size)}</span>
          <button type="button" class="icon-button icon-button--small" onClick=${() => onRemove(i)}>
            <span aria-hidden="true">×</span><span class="visually-hidden">${t('files.remove', { name: displayName(file.name) })}</span>
          </button>
        </li>`,
      )}
    </ul>
    ${files.some((f) => isImage(f.type))
      ? html`<label class="chosen-files__downscale">
          <input type="checkbox" checked=${downscale} onChange=${(e) => (rememberDownscale(e.currentTarget.checked), onDownscale(e.currentTarget.checked))} />
          ${t('files.smaller')}
        </label>`
      : null}
  </div>`;
}

function useObjectUrl(app, fileId) {
  const [url, setUrl] = useState(null);
  useEffect(() => {
    let made = null;
    let live = true;
    app.files?.queue?.blob(fileId).then((blob) => {
      if (!live || !blob) return;
      made = URL.createObjectURL(blob);
      setUrl(made);
    });
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [fileId]);
  return url;
}

function LocalPreview({ app, file }) {
  const url = useObjectUrl(app, file.id);
  const ratio = file.width && file.height ? `${file.width} / ${file.height}` : undefined;
  if (isImage(file.type)) {
    return html`<span class="file-thumb" style=${{ aspectRatio: ratio }}>
      ${url ? html`<img src=${url} alt=${displayName(file.name)} />` : null}
    </span>`;
  }
  return html`<span class="file-card__icon" aria-hidden="true">📄</span>`;
}

function JobStatus({ job }) {
  const size = job.files.reduce((sum, f) => sum + f.size, 0);
  const sent = job.files.reduce((sum, f) => sum + (f.sent ?? 0), 0);
  const percent = size ? Math.floor((sent * 100) / size) : 100;
  const words = {
    waiting: t('files.waiting'),
    uploading: t('files.uploading'),
    paused: t('files.paused'),
    failed: t('files.failed', { reason: job.error ?? '' }),
    done: t('files.done'),
  }[job.state];
  return html`<div class="upload-status">
    <span class="upload-status__state">${words}</span>
    ${job.state === 'uploading' || (job.state === 'paused' && sent > 0)
      ? html`<progress class="upload-status__bar" max=${size} value=${sent} aria-label=${t('files.progress')}></progress>
          <span class="upload-status__bytes">${t('files.bytes', { sent: formatBytes(sent), size: formatBytes(size), percent })}</span>`
      : null}
  </div>`;
}

/** Messages of this channel that wait for their files: shown after the sent ones. */
export function UploadingMessages({ app, channelId }) {
  const jobs = (app.files?.jobs.value ?? []).filter((j) => j.channel === channelId && j.state !== 'done');
  if (!jobs.length) return null;
  const queue = app.files.queue;
  return html`<ul class="uploading" aria-label=${t('files.waitingList')}>
    ${jobs.map(
      (job) => html`<li key=${job.id} class="uploading__item msg msg--pending">
        ${job.text ? html`<p class="msg__text">${job.text}</p>` : null}
        <div class="message-files">
          ${job.files.map((file) => html`<figure key=${file.id} class="file-card">
            <${LocalPreview} app=${app} file=${file} />
            <figcaption class="file-card__name">${displayName(file.name)}</figcaption>
          </figure>`)}
        </div>
        <${JobStatus} job=${job} />
        <div class="uploading__actions">
          ${job.state === 'uploading' || job.state === 'waiting'
            ? html`<button type="button" class="button button--small button--ghost" onClick=${() => queue.pause(job.id)}>${t('files.pause')}</button>`
            : null}
          ${job.state === 'paused' ? html`<button type="button" class="button button--small" onClick=${() => queue.resume(job.id)}>${t('files.resume')}</button>` : null}
          ${job.state === 'failed' ? html`<button type="button" class="button button--small" onClick=${() => queue.retry(job.id)}>${t('message.retry')}</button>` : null}
          <button type="button" class="button button--small button--ghost" onClick=${() => queue.cancel(job.id)}>${t('files.cancel')}</button>
        </div>
      </li>`,
    )}
  </ul>`;
}

/** A shared file's thumbnail: a placeholder of the right shape until the server has made it. */
export function Thumbnail({ file }) {
  const [tries, setTries] = useState(0);
  const [loaded, setLoaded] = useState(false);
  const ratio = file.width && file.height ? `${file.width} / ${file.height}` : '4 / 3';
  useEffect(() => {
    if (loaded || tries === 0 || tries > 30) return undefined;
    const timer = setTimeout(() => setTries(tries + 1), Math.min(500 * tries, 4000));
    return () => clearTimeout(timer);
  }, [tries, loaded]);
  return html`<span class=${`file-thumb${loaded ? '' : ' file-thumb--waiting'}`} style=${{ aspectRatio: loaded ? undefined : ratio }}>
    <img key=${tries} src=${`/api/files/${file.id}/thumb/small${tries ? `?try=${tries}` : ''}`} alt=${displayName(file.name)}
      onLoad=${() => setLoaded(true)} onError=${() => setTries((n) => n + 1)} />
  </span>`;
}

const previewable = (type) => isImage(type) || type === 'application/pdf';
const media = (type) => /^(audio|video)\//.test(type ?? '') ? type.split('/')[0] : null;
// As the server decides what has a text preview (backend/files/previews.py, kind_of).
const TEXT_SUFFIX = /\.(txt|md|markdown|csv|tsv|json|ya?ml|toml|ini|cfg|log|py|jsx?|tsx?|css|html?|xml|svg|sh|c|h|cpp|hpp|rs|go|java|kt|rb|php|sql|swift)$/i;
const TEXT_TYPES = new Set(['application/json', 'application/xml', 'application/javascript', 'application/x-yaml', 'application/toml']);
export const hasTextPreview = (type, name) => (type ?? '').startsWith('text/') || TEXT_TYPES.has(type) || TEXT_SUFFIX.test(name ?? '');

/** The first 200 lines of a text file, fetched when asked, shown as text (never as markup). */
function TextPreview({ app, file, name }) {
  const [text, setText] = useState(/** @type {string | null} */ (null));
  const [open, setOpen] = useState(false);
  const [failed, setFailed] = useState(false);
  function toggle() {
    setOpen(!open);
    if (text !== null) return;
    app.files.firstLines(file.id).then(setText, () => setFailed(true));
  }
  return html`<div class="file-text">
    <button type="button" class="button button--small button--ghost" aria-expanded=${open ? 'true' : 'false'}
      onClick=${toggle}>${t('files.showText', { name })}</button>
    ${open ? (failed ? html`<p class="file-text__error">${t('files.textFailed')}</p>` : html`<pre class="file-text__body" tabindex="0" aria-label=${t('files.textOf', { name })}>${text ?? '…'}</pre>`) : null}
  </div>`;
}

export function FileCard({ app, file }) {
  const name = displayName(file.name);
  const url = `/api/files/${file.id}`;
  const pinned = app.files?.pinned.value.has(url);
  const player = media(file.type);
  // Audio and video play in the page: the browser asks for byte ranges, so seeking works.
  const preview = previewable(file.type)
    ? html`<a href=${url} target="_blank" rel="noopener" class="file-card__open" aria-label=${t('files.open', { name })}><${Thumbnail} file=${file} /></a>`
    : player === 'video'
      ? html`<video class="file-card__media" controls preload="metadata" src=${url} aria-label=${name}></video>`
      : player === 'audio'
        ? html`<audio class="file-card__media" controls preload="metadata" src=${url} aria-label=${name}></audio>`
        : html`<span class="file-card__icon" aria-hidden="true">📄</span>`;
  return html`<figure class="file-card">
    ${preview}
    <figcaption class="file-card__caption">
      <span class="file-card__name">${name}</span>
      <span class="file-card__size">${formatBytes(file.size ?? 0)}</span>
      <a class="file-card__download" href=${`${url}?download=true`} download=${name}>${t('files.download', { name })}</a>
      <button type="button" class="button button--small button--ghost" aria-pressed=${pinned ? 'true' : 'false'}
        aria-label=${t('files.keepOfflineNamed', { name })} onClick=${() => app.files?.togglePin(file.id)}>${t('files.keepOffline')}</button>
    </figcaption>
    ${hasTextPreview(file.type, file.name) ? html`<${TextPreview} app=${app} file=${file} name=${name} />` : null}
  </figure>`;
}

/** The files of a sent message. */
export function MessageFiles({ app, item }) {
  const files = app.files?.byMessage.value.get(item.id);
  if (!files?.length || item.deleted) return null;
  return html`<div class="message-files">${files.map((file) => html`<${FileCard} key=${file.id} app=${app} file=${file} />`)}</div>`;
}
