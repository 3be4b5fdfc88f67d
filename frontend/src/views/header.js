// The header every main view has, built phone-first (frontend/README.md, "Phone-first rules"):
//
//   [‹ back]  [title, one line, ellipsis — a tap shows it whole]  [● state]  [More]
//
// On a phone the secondary actions fold into one "More" button that opens an action sheet, and
// the connection state is a dot (its word stays readable to assistive tech). From the phone
// breakpoint up the actions sit in the header itself, as they always have. A tap on the
// header's empty space scrolls the view back to its top, as a tap on the status bar does in
// native apps (the browser gives a page no status-bar tap of its own).

import { useState } from 'preact/hooks';
import { html } from './html.js';
import { t } from '../lib/i18n.js';
import { href } from './router.js';
import { ConnectionStatus } from './status.js';
import { Dialog } from './dialog.js';
import { phone } from './viewport.js';

export function BackLink() {
  return html`<a class="back-link" href=${href('home')}>
    <span aria-hidden="true">‹</span><span class="visually-hidden">${t('nav.back')}</span>
  </a>`;
}

/**
 * One entry of the "More" sheet.
 * @typedef {{key: string, label: string, onSelect: () => void, pressed?: boolean, danger?: boolean}} MoreItem
 */

function MoreSheet({ items, onClose }) {
  return html`<${Dialog} id="more" title=${t('header.more')} onClose=${onClose} sheet>
    <ul class="sheet__list">
      ${items.map(
        (item) => html`<li key=${item.key}>
          <button type="button" class=${item.danger ? 'sheet__item sheet__item--danger' : 'sheet__item'}
            aria-pressed=${item.pressed === undefined ? undefined : String(item.pressed)}
            onClick=${() => (onClose(), item.onSelect())}>${item.label}</button>
        </li>`,
      )}
    </ul>
  <//>`;
}

/** Scroll the view this header heads back to its top (a tap on the header's empty space). */
function scrollToTop(event) {
  const target = /** @type {Element} */ (event.target);
  if (target.closest('a, button, summary, input, select, textarea, .main__heading, dialog')) return;
  const scroller = event.currentTarget.parentElement?.querySelector('.messages, .page');
  scroller?.scrollTo({ top: 0, behavior: 'smooth' });
}

/**
 * @param {{app: any, title: any, icon?: string | null, tag?: any, topic?: string | null,
 *   back?: boolean, more?: MoreItem[], fold?: boolean, children?: any}} props
 *   `children`: the actions shown in the header from the phone breakpoint up; `more`: the same
 *   actions as sheet entries, for a phone; `fold`: use the sheet at any width (a side panel is open).
 */
export function MainHeader({ app, title, icon = null, tag = null, topic = null, back = true, more = [], fold = false, children = null }) {
  const [whole, setWhole] = useState(false);
  const [open, setOpen] = useState(false);
  // A phone, or a column narrowed by a side panel (a thread beside the channel): one "More".
  const onPhone = phone.value || fold;
  return html`<header class="main__header" onClick=${scrollToTop}>
    ${back ? html`<${BackLink} />` : null}
    <div class=${`main__heading${whole ? ' main__heading--whole' : ''}`} onClick=${() => setWhole(!whole)}>
      <h1 id="main-title" class="main__title">
        ${icon ? html`<span class="main__icon" aria-hidden="true">${icon}</span>` : null}
        <span class="main__name" title=${typeof title === 'string' ? title : undefined}>${title}</span>
        ${tag}
      </h1>
      ${topic ? html`<p class="main__topic">${topic}</p>` : null}
    </div>
    <div class="main__status"><${ConnectionStatus} app=${app} compact /></div>
    ${onPhone
      ? more.length
        ? html`<button type="button" class="icon-button main__more" aria-haspopup="dialog" aria-expanded=${open ? 'true' : 'false'}
            onClick=${() => setOpen(true)}>
            <span aria-hidden="true">⋮</span><span class="visually-hidden">${t('header.more')}</span>
          </button>`
        : null
      : children}
    ${open && onPhone ? html`<${MoreSheet} items=${more} onClose=${() => setOpen(false)} />` : null}
  </header>`;
}
