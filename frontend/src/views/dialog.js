// A modal built on <dialog>: focus is trapped and restored by the browser, Escape closes it.
// `sheet`: an action sheet, which rises from the bottom edge on a phone (within thumb's reach)
// and is an ordinary dialog elsewhere.

import { useEffect, useRef } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';

export function Dialog({ title, onClose, children, id = 'dialog', sheet = false }) {
  const ref = useRef(null);
  useEffect(() => {
    const el = ref.current;
    if (el && !el.open) el.showModal();
    return () => el?.open && el.close();
  }, []);
  return html`<dialog ref=${ref} class=${sheet ? 'dialog dialog--sheet' : 'dialog'} aria-labelledby=${`${id}-title`} onClose=${onClose}
    onClick=${(e) => e.target === ref.current && onClose()}>
    <div class="dialog__box">
      <header class="dialog__header">
        <h2 id=${`${id}-title`} class="dialog__title">${title}</h2>
        <button type="button" class="icon-button" onClick=${onClose}>
          <span aria-hidden="true">×</span><span class="visually-hidden">${t('dialog.close')}</span>
        </button>
      </header>
      ${children}
    </div>
  </dialog>`;
}
