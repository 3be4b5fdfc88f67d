// Banners for states the user must know about: a new version, storage trouble, a database
// upgrade in another tab. Each says what happened and what to do.

import { html } from './html.js';
import { t } from '../lib/i18n.js';

function Banner({ tone = 'info', text, action, onAction }) {
  return html`<div class=${`banner banner--${tone}`} role=${tone === 'error' ? 'alert' : undefined}>
    <p class="banner__text">${text}</p>
    ${action ? html`<button type="button" class="button button--small" onClick=${onAction}>${action}</button>` : null}
  </div>`;
}

export function Banners({ app, sw }) {
  const list = [];
  const reload = () => location.reload();
  if (sw.waiting.value) {
    list.push(html`<${Banner} key="sw" text=${t('update.available')} action=${t('update.reload')} onAction=${() => sw.activate()} />`);
  } else if (app.updateRequired.value) {
    list.push(html`<${Banner} key="426" tone="warn" text=${t('update.required')} action=${t('update.reload')} onAction=${reload} />`);
  }
  if (app.storageError.value === 'quota') {
    list.push(html`<${Banner} key="quota" tone="error" text=${t('storage.quota')} />`);
  } else if (app.storageError.value) {
    list.push(html`<${Banner} key="storage" tone="error" text=${t('storage.failed')} action=${t('update.reload')} onAction=${reload} />`);
  }
  const db = app.dbState.value;
  if (db === 'blocked') list.push(html`<${Banner} key="db" tone="warn" text=${t('db.blocked')} />`);
  if (db === 'versionchange' || db === 'terminated') {
    list.push(html`<${Banner} key="db" tone="warn" text=${t(`db.${db}`)} action=${t('update.reload')} onAction=${reload} />`);
  }
  return list.length ? html`<div class="banners">${list}</div>` : null;
}
