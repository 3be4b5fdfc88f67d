// Which rows a windowed list (views/messages.js) mounts, and whether a measurement after a render
// changes that. Pure: no DOM, no clock; the heights come from RowHeights (lib/row-heights.js).
//
// Rule 1. The window is planned from the view's state: at the bottom, the last screen; anchored,
//         the anchor row where it was; each edge widened by a margin (none while flinging).
// Rule 2. A render's rows are measured after it (its layout effect). The list is drawn again
//         only when the plan made with those heights differs from the one drawn: other rows,
//         another spacer above or below them, or (away from the bottom, where the scroll
//         position follows the plan) another top. A new message measured at the bottom changes
//         none of these most of the time (its height falls inside the window, whose spacers are
//         the rows outside it), so it is drawn once, not twice: the second render was a whole
//         list diff and layout effect on the receiving page for every live message (issue 17).

/** @typedef {{ top: number, start: number, end: number, above: number, below: number }} Plan */

/**
 * The index of a row by id: its last index if the row is still there, else a search.
 * @param {{id: string}[]} items
 * @param {string} id
 * @param {number} hint
 */
export function locate(items, id, hint) {
  return items[hint]?.id === id ? hint : items.findIndex((m) => m.id === id);
}

/**
 * Rule 1. Moves the anchor's index to where its row now is (as the render always did).
 * @param {import('./row-heights.js').RowHeights} rows heights of `items`, in order (setRows done)
 * @param {{id: string}[]} items
 * @param {Record<string, any>} v the list's view state: `top`, `height`, `atBottom`, `anchor`
 *   ({id, index, delta} or null)
 * @param {number} margin rows kept beyond each edge, in px (0 while flinging)
 * @returns {Plan}
 */
export function planWindow(rows, items, v, margin) {
  const offsets = rows.offsets;
  const total = rows.total;
  let top = v.top;
  if (v.atBottom) top = Math.max(0, total - v.height);
  else if (v.anchor) {
    const i = locate(items, v.anchor.id, v.anchor.index);
    if (i >= 0) {
      v.anchor.index = i;
      top = offsets[i] - v.anchor.delta;
    }
  }
  const start = rows.indexAt(top - margin);
  const end = Math.min(items.length, rows.indexAt(top + v.height + margin) + 1);
  return { top, start, end, above: offsets[start], below: total - offsets[end] };
}

/**
 * Rule 2: does `drawn` (the plan a render drew) still hold with the heights measured since?
 * @param {Plan} drawn
 * @param {Plan} now the plan made again with the measured heights
 * @param {boolean} atBottom
 */
export function stillPlanned(drawn, now, atBottom) {
  return drawn.start === now.start && drawn.end === now.end && drawn.above === now.above
    && drawn.below === now.below && (atBottom || drawn.top === now.top);
}
