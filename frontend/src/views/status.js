import { html } from './html.js';
import { t } from '../lib/i18n.js';

const KEYS = { Online: 'status.online', Offline: 'status.offline', Syncing: 'status.syncing' };

/**
 * The connection state, read by assistive tech as a polite live region. Its text is exactly
 * the state's word; `data-pending` says how many changes wait in the outbox.
 */
export function ConnectionStatus({ app }) {
  const status = app.store.status.value;
  const pending = app.queries.pendingCount.value;
  const title = pending ? t('status.pendingTitle', { count: pending }) : t('status.allSaved');
  return html`<div class=${`status status--${status.toLowerCase()}`} title=${title}>
    <span class="status__dot" aria-hidden="true"></span>
    <span role="status" data-state=${status} data-pending=${pending}>${t(KEYS[status] ?? status)}</span>
  </div>`;
}
