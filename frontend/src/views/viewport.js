// What kind of screen the app is on, as signals views can read, and the one place that follows
// the visual viewport (the part of the screen the on-screen keyboard leaves).
//
//   phone  narrower than --bp-phone (styles/tokens.css): one column, header actions fold into
//          "More". The same breakpoint the stylesheets write as `@media (--phone)`.
//   touch  the primary pointer is coarse: long-press opens a message's action sheet instead of
//          the hover bar, and every target is 44 x 44.

import { signal } from '@preact/signals';

/** The media query for "a phone", from the one breakpoint scale in styles/tokens.css. */
export function phoneQuery() {
  const width = getComputedStyle(document.documentElement).getPropertyValue('--bp-phone').trim();
  return `(width < ${width || '48rem'})`;
}

export const phone = signal(false);
export const touch = signal(false);

/** A signal that follows a media query from now on. */
function follow(target, query) {
  const list = matchMedia(query);
  target.value = list.matches;
  list.addEventListener('change', () => {
    target.value = list.matches;
  });
}

/**
 * Start following the screen: the phone and touch signals, and `--app-height` on the root, the
 * visual viewport's height. With the on-screen keyboard open that is the height above the
 * keyboard (browsers that resize only the visual viewport, as iOS Safari does, would otherwise
 * leave the composer under the keyboard); `#app` uses it in place of 100dvh.
 */
export function startViewport() {
  follow(phone, phoneQuery());
  follow(touch, '(pointer: coarse)');
  const vv = globalThis.visualViewport;
  if (!vv) return;
  const root = document.documentElement;
  let frame = 0;
  const update = () => {
    frame = 0;
    // Zoomed in, the visual viewport is small for another reason: keep the layout as it is.
    if (vv.scale > 1.01) return root.style.removeProperty('--app-height');
    root.style.setProperty('--app-height', `${Math.round(vv.height)}px`);
    // iOS scrolls the page up to show a focused field; the app fits the viewport, so undo it.
    if (vv.offsetTop > 0 && document.scrollingElement) document.scrollingElement.scrollTop = 0;
  };
  const schedule = () => {
    frame ||= requestAnimationFrame(update);
  };
  vv.addEventListener('resize', schedule);
  vv.addEventListener('scroll', schedule);
  update();
}
