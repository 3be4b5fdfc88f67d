// Keep offline (frontend/README.md): the choice per channel (channel menu and Settings → Offline),
// space used, the backfill's progress and pauses, the budget, and the browser's answer to
// navigator.storage.persist(). Reads app.keeping (dispatch/offline.js) and app.backfill.

import { useState } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { KEEP_LEVELS } from '../lib/offline-plan.js';

const MB = 1024 * 1024;
const mb = (bytes) => (bytes / MB).toLocaleString(undefined, { maximumFractionDigits: bytes < 10 * MB ? 1 : 0 });

async function choose(app, channelId, keep) {
  const answer = await app.actions.setKeep(channelId, keep, { device: app.keeping.device });
  if (answer !== null) app.keeping.persisted.value = answer;
  if (keep === 'recent') await app.backfill?.forget(channelId);
}

/** Recent / Last 30 days / Everything, as radio buttons (a label each is the target). */
export function KeepChoices({ app, channelId, name }) {
  const keep = app.keeping.keep(channelId);
  return html`<fieldset class="choices">
    <legend>${t('offline.keepNamed', { name })}</legend>
    ${KEEP_LEVELS.map(
      (level) => html`<label class="choice" key=${level}>
        <input type="radio" name=${`keep-${channelId}`} value=${level} checked=${keep === level}
          onChange=${() => choose(app, channelId, level)} />
        <span>${t(`offline.keep.${level}`)}</span>
      </label>`,
    )}
  </fieldset>`;
}

/** A channel's small indicator while the device fills it (sidebar, channel header). */
export function OfflineMark({ app, channelId }) {
  const status = app.backfill?.status.value;
  if (!status || status.state !== 'running' || status.channel !== channelId) return null;
  return html`<span class="offline-mark" role="img" aria-label=${t('offline.filling')} title=${t('offline.filling')}>⤓</span>`;
}

function statusText(app) {
  const status = app.backfill?.status.value;
  if (!status) return t('offline.status.elsewhere');
  if (status.state === 'running') return t('offline.status.running', { name: app.queries.channel(status.channel)?.name ?? '' });
  if (status.state === 'paused') return t(`offline.status.paused.${status.reason}`) ?? status.reason;
  return t('offline.status.idle');
}

/** Settings → Offline. */
export function OfflineSettings({ app }) {
  const keeping = app.keeping;
  const channels = keeping.channels();
  const used = keeping.sizes.value.total;
  const budget = app.backfill?.budget.value ?? null;
  const [draft, setDraft] = useState('');
  const persisted = keeping.persisted.value;

  function saveBudget(event) {
    event.preventDefault();
    const value = Number(draft);
    if (value > 0) app.backfill?.setBudget(Math.round(value * MB));
  }

  return html`<section class="page-section" aria-labelledby="offline-title">
    <h2 id="offline-title" class="page-section__title">${t('offline.title')}</h2>
    <p class="lead">${t('offline.lead')}</p>
    <p aria-live="polite" class="offline-status">${statusText(app)}</p>
    <p>${budget ? t('offline.usage', { used: mb(used), budget: mb(budget) }) : t('offline.usageOnly', { used: mb(used) })}</p>
    ${persisted === null ? null : html`<p>${persisted ? t('offline.persisted') : t('offline.notPersisted')}</p>`}
    <form class="inline-form" onSubmit=${saveBudget} aria-label=${t('offline.budget')}>
      <label class="field">${t('offline.budgetMb')}
        <input type="number" min="0.01" step="any" inputmode="decimal" value=${draft}
          placeholder=${budget ? mb(budget) : ''} onInput=${(e) => setDraft(e.currentTarget.value)} /></label>
      <button type="submit" class="button button--small">${t('offline.budgetSave')}</button>
    </form>
    <ul class="card-list" aria-label=${t('offline.channels')}>
      ${channels.map(
        (c) => html`<li key=${c.id} class="card-list__item offline-row">
          <div class="card-list__text">
            <span class="card-list__title">${c.kind === 'dm' || c.kind === 'group' ? c.name : `#${c.name}`}</span>
            <p class="card-list__sub">
              ${t('offline.held', { held: c.held.toLocaleString(), total: c.last.toLocaleString() })} · ${t('offline.space', { size: mb(c.bytes) })}
            </p>
            ${c.keep !== 'recent' && c.last > 0
              ? html`<progress max=${c.last} value=${c.held} aria-label=${t('offline.progress', { name: c.name })}></progress>`
              : null}
          </div>
          <${KeepChoices} app=${app} channelId=${c.id} name=${c.name} />
        </li>`,
      )}
    </ul>
  </section>`;
}
