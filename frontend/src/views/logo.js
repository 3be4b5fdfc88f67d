import { html } from './html.js';

/** The mark: a speech bubble. Decorative; the product name is said beside or around it. */
export function Logo({ small = false }) {
  return html`<svg class=${small ? 'logo logo--small' : 'logo'} viewBox="0 0 48 48" aria-hidden="true" focusable="false">
    <rect width="48" height="48" rx="12" class="logo__bg" />
    <path class="logo__bubble" d="M12 15a5 5 0 0 1 5-5h14a5 5 0 0 1 5 5v10a5 5 0 0 1-5 5h-8l-7 6v-6h-0a4 4 0 0 1-4-4z" />
    <circle class="logo__dot" cx="18.5" cy="20" r="2" />
    <circle class="logo__dot" cx="24" cy="20" r="2" />
    <circle class="logo__dot" cx="29.5" cy="20" r="2" />
  </svg>`;
}
