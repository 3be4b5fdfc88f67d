// The layout audit test_layout.py runs in the page (evaluated through DevTools, as axe is): what
// a person holding the phone would hit. Returns a list of problems, each one line; [] is a pass.
//
//   - nothing scrolls sideways: not the page, not any scroller (code blocks may: they say so);
//     and no element reaches past the screen's left or right edge (the app clips its root, so the
//     page's own scrollWidth alone would not show it);
//   - every interactive element in view lies inside the screen and every box that clips it, and
//     is what a tap on its centre reaches (document.elementFromPoint);
//   - every target is at least `min` x `min` CSS px; the reviewed dense ones (`dense`) at least
//     24 x 24 and overlapping no other target (WCAG 2.5.8); links in running text (`inline`) are
//     the text's size (the "inline" exception of WCAG 2.5.5 and 2.5.8): hit-tested on their
//     first line, not measured.
// With a modal dialog open only the dialog is audited: the rest of the page is inert.
({ min, dense, inline, hiddenUntilFocused }) => {
  const problems = [];
  const vw = document.documentElement.clientWidth;
  const vh = document.documentElement.clientHeight;
  const name = (el) => {
    const label = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('title') || '').trim().replace(/\s+/g, ' ');
    const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
    return `<${el.tagName.toLowerCase()}${cls}> "${label.slice(0, 40)}"`;
  };
  const round = (r) => `${Math.round(r.width)}x${Math.round(r.height)} at (${Math.round(r.left)}, ${Math.round(r.top)})`;
  const modal = document.querySelector('dialog[open]');
  const scope = modal ?? document.body;

  // 1. Sideways overflow.
  if (document.documentElement.scrollWidth > vw + 1) {
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px wide in ${vw}`);
  }
  for (const el of scope.querySelectorAll('*')) {
    if (el.closest(hiddenUntilFocused) || !el.checkVisibility({ visibilityProperty: true })) continue;
    const style = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) continue;
    if ((style.overflowX === 'auto' || style.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${name(el)} scrolls sideways: ${el.scrollWidth} px of content in ${el.clientWidth}`);
    }
    if (r.right > vw + 1 || r.left < -1) problems.push(`${name(el)} reaches past the screen's edge: ${round(r)}`);
  }

  // 2. Interactive elements: in view, unclipped, reachable, big enough.
  const selector = 'a[href], button, input:not([type="hidden"]), select, textarea, summary, [tabindex]:not([tabindex="-1"])';
  const targets = [];
  for (const el of scope.querySelectorAll(selector)) {
    if (el.matches(hiddenUntilFocused) || el.closest('[inert]')) continue;
    // Not rendered: display: none, visibility: hidden, the inside of a closed <details>.
    if (!el.checkVisibility({ visibilityProperty: true })) continue;
    // A radio or a checkbox is pressed through the label around it: that is its target.
    const target = el.matches('input[type="radio"], input[type="checkbox"]') && el.closest('label') ? el.closest('label') : el;
    const isInline = el.matches(inline);
    // A link that wraps is hit on its first line.
    const r = isInline ? [...target.getClientRects()].find((line) => line.width > 1) : target.getBoundingClientRect();
    if (!r || (r.width === 0 && r.height === 0)) continue;
    // The box it can be seen in: the screen, cut by every ancestor that clips.
    let clip = { left: 0, top: 0, right: vw, bottom: vh };
    let scrolls = false;
    for (let a = target.parentElement; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
      const b = a.getBoundingClientRect();
      clip = { left: Math.max(clip.left, b.left), top: Math.max(clip.top, b.top), right: Math.min(clip.right, b.right), bottom: Math.min(clip.bottom, b.bottom) };
      if (s.overflowY === 'auto' || s.overflowY === 'scroll') scrolls = true;
    }
    const cx = r.left + r.width / 2;
    const cy = r.top + r.height / 2;
    const inside = cx >= clip.left && cx <= clip.right && cy >= clip.top && cy <= clip.bottom;
    if (!inside) {
      // Scrolled away in a list you can scroll back: not a problem. Anything else is.
      const sideways = r.left < clip.left - 1 || r.right > clip.right + 1;
      if (!scrolls || sideways) problems.push(`${name(el)} is outside the screen or clipped away: ${round(r)}`);
      continue;
    }
    if (r.left < clip.left - 1 || r.right > clip.right + 1) problems.push(`${name(el)} is cut off at the side: ${round(r)}`);
    const hit = document.elementFromPoint(cx, cy);
    if (!hit || !(target.contains(hit) || hit === el || (hit instanceof HTMLLabelElement && hit.control === el))) {
      problems.push(`${name(el)} is covered at its centre (${Math.round(cx)}, ${Math.round(cy)}) by ${hit ? name(hit) : 'nothing'}`);
    }
    const isDense = el.matches(dense);
    const least = isDense ? 24 : min;
    if (!isInline && (r.width < least - 0.5 || r.height < least - 0.5)) {
      problems.push(`${name(el)} is ${Math.round(r.width)}x${Math.round(r.height)}, under ${least}x${least}`);
    }
    targets.push({ el, target, r, isDense });
  }
  // Dense targets keep their distance: none overlaps another target.
  for (const a of targets) {
    if (!a.isDense) continue;
    for (const b of targets) {
      if (a === b || a.target.contains(b.target) || b.target.contains(a.target)) continue;
      const overlap = a.r.left < b.r.right && b.r.left < a.r.right && a.r.top < b.r.bottom && b.r.top < a.r.bottom;
      if (overlap) problems.push(`dense target ${name(a.el)} overlaps ${name(b.el)}`);
    }
  }
  return problems;
}
