import { html } from './html.js';
import { t } from '../lib/i18n.js';

const KEYS = { Online: 'status.online', Offline: 'status.offline', Syncing: 'status.syncing' };

/**
 * The connection state, read by assistive tech as a polite live region. Its text is exactly
 * the state's word; `data-pending` says how many changes wait in the outbox. `compact` (a phone's
 * header): only the coloured dot shows, a fixed size that never covers the title; the word is
 * still read out, and shown in a tooltip.
 */
export function ConnectionStatus({ app, compact = false }) {
  const status = app.store.status.value;
  const pending = app.queries.pendingCount.value;
  const title = pending ? t('status.pendingTitle', { count: pending }) : t('status.allSaved');
  const word = t(KEYS[status] ?? status);
  return html`<div class=${`status status--${status.toLowerCase()}${compact ? ' status--compact' : ''}`}
    title=${compact ? `${word} · ${title}` : title}>
    <span class="status__dot" aria-hidden="true"></span>
    <span role="status" class=${compact ? 'visually-hidden' : undefined} data-state=${status} data-pending=${pending}>${word}</span>
  </div>`;
}
