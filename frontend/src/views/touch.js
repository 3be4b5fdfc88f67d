// Touch gestures, as hooks: a long press (a message's action sheet) and a swipe in from the
// left edge of the screen (back). Both read touch input only; a mouse and a keyboard have their
// own ways to the same actions (the hover bar, the back link, Alt+arrows).

import { useEffect, useRef } from 'preact/hooks';

const LONG_PRESS_MS = 450;
// A finger that moves further than this is scrolling, not pressing.
const SLOP_PX = 10;
// A swipe starts this close to the left edge (inside the platform's own edge zone on iOS,
// which the installed app does not use for "back")...
const EDGE_PX = 24;
// ...and goes back once it has travelled this far, mostly sideways.
const SWIPE_PX = 64;

/**
 * Pointer handlers that call `onLongPress` when a touch stays put for LONG_PRESS_MS.
 * The browser's own long-press menu (contextmenu) is replaced by it; the click that
 * ends a long press is swallowed, so it does not also follow a link under the finger.
 * @param {(() => void) | null} onLongPress null: no handlers at all (nothing to act on)
 */
export function useLongPress(onLongPress) {
  const state = useRef(/** @type {{timer: any, x: number, y: number, fired: boolean}} */ ({ timer: 0, x: 0, y: 0, fired: false }));
  useEffect(() => () => clearTimeout(state.current.timer), []);
  if (!onLongPress) return {};
  const s = state.current;
  const cancel = () => {
    clearTimeout(s.timer);
    s.timer = 0;
  };
  const fire = () => {
    cancel();
    s.fired = true;
    navigator.vibrate?.(10);
    onLongPress();
  };
  return {
    onPointerDown: (/** @type {PointerEvent} */ e) => {
      s.fired = false;
      if (e.pointerType !== 'touch' || !e.isPrimary) return;
      if (/** @type {Element} */ (e.target).closest('a, button, input, textarea, select, summary')) return;
      s.x = e.clientX;
      s.y = e.clientY;
      cancel();
      s.timer = setTimeout(fire, LONG_PRESS_MS);
    },
    onPointerMove: (/** @type {PointerEvent} */ e) => {
      if (s.timer && Math.hypot(e.clientX - s.x, e.clientY - s.y) > SLOP_PX) cancel();
    },
    onPointerUp: cancel,
    onPointerCancel: cancel,
    onContextMenu: (/** @type {MouseEvent} */ e) => {
      // Android fires contextmenu on a long press (sometimes before our timer): one sheet, no
      // browser menu. A right click with a mouse keeps the browser's menu.
      if (!s.timer && !s.fired) return;
      e.preventDefault();
      if (!s.fired) fire();
    },
    onClickCapture: (/** @type {MouseEvent} */ e) => {
      if (!s.fired) return;
      s.fired = false;
      e.preventDefault();
      e.stopPropagation();
    },
  };
}

/**
 * Call `onBack` when a finger swipes in from the left edge of the screen, as the platform's
 * back gesture does in native apps (an installed PWA has none of its own on iOS).
 * @param {(() => void) | null} onBack null while there is nowhere to go back to
 */
export function useEdgeSwipe(onBack) {
  const latest = useRef(onBack);
  latest.current = onBack;
  useEffect(() => {
    /** Where the swipe began and where the finger is now. @type {{x: number, y: number, lastX: number, lastY: number} | null} */
    let swipe = null;
    const down = (/** @type {TouchEvent} */ e) => {
      const touch = e.touches[0];
      const starts = e.touches.length === 1 && touch.clientX <= EDGE_PX && latest.current;
      swipe = starts ? { x: touch.clientX, y: touch.clientY, lastX: touch.clientX, lastY: touch.clientY } : null;
    };
    const move = (/** @type {TouchEvent} */ e) => {
      const touch = e.touches[0];
      if (swipe && touch) Object.assign(swipe, { lastX: touch.clientX, lastY: touch.clientY });
    };
    // Decided on the finger's last position (touchend's own may be missing or stale).
    const up = () => {
      if (!swipe) return;
      const dx = swipe.lastX - swipe.x;
      const dy = Math.abs(swipe.lastY - swipe.y);
      swipe = null;
      if (dx >= SWIPE_PX && dy < dx / 2) latest.current?.();
    };
    const cancel = () => {
      swipe = null;
    };
    document.addEventListener('touchstart', down, { passive: true });
    document.addEventListener('touchmove', move, { passive: true });
    document.addEventListener('touchend', up, { passive: true });
    document.addEventListener('touchcancel', cancel, { passive: true });
    return () => {
      document.removeEventListener('touchstart', down);
      document.removeEventListener('touchmove', move);
      document.removeEventListener('touchend', up);
      document.removeEventListener('touchcancel', cancel);
    };
  }, []);
}
