// Row heights of a windowed list (views/messages.js): where each row starts, for rows that have
// never been in the DOM as much as for those that have. Pure: no DOM, no clock.
//
// Rule 1. A row measured once keeps its height by id, so a page of older history (which shifts
//         every index) or a channel switch and back costs no re-measuring.
// Rule 2. A row not measured yet is estimated as the mean of the rows measured so far. A window
//         planned with a constant guess (say 60 px, for rows that are really 25) holds too few
//         rows and needs a second mount and layout once measured; with the mean it is nearly
//         right the first time.
// Rule 3. Offsets are rebuilt lazily, in place, over typed arrays (no Map lookups, no new
//         buffer), so re-planning a 50,000-row list after a measurement is a short loop.

export class RowHeights {
  #known = new Map();
  #sum = 0;
  #fallback;
  #rows = [];
  #sizes = new Float64Array(0);
  #offsets = new Float64Array(1);
  #stale = false;

  /** `fallback`: the estimate before anything has been measured. */
  constructor(fallback = 60) {
    this.#fallback = fallback;
  }

  /** The height a row not measured yet is given. */
  get estimate() {
    return this.#known.size ? this.#sum / this.#known.size : this.#fallback;
  }

  /** The rows, in order (objects with an `id`). Cheap when given the same array again. */
  setRows(rows) {
    if (rows === this.#rows) return;
    this.#rows = rows;
    this.#sizes = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) this.#sizes[i] = this.#known.get(rows[i].id) ?? 0;
    this.#stale = true;
  }

  /** Record the height of the row at `index` as shown; true when that changed anything. */
  measure(index, px) {
    const row = this.#rows[index];
    if (!row || !(px > 0) || this.#sizes[index] === px) return false;
    const before = this.#known.get(row.id);
    this.#sum += px - (before ?? 0);
    this.#known.set(row.id, px);
    this.#sizes[index] = px;
    this.#stale = true;
    return true;
  }

  /** offsets[i] is where row i starts; offsets[rows.length] is the height of them all. */
  get offsets() {
    if (this.#stale) {
      const sizes = this.#sizes;
      const guess = this.estimate;
      if (this.#offsets.length !== sizes.length + 1) this.#offsets = new Float64Array(sizes.length + 1);
      const offsets = this.#offsets;
      for (let i = 0; i < sizes.length; i++) offsets[i + 1] = offsets[i] + (sizes[i] || guess);
      this.#stale = false;
    }
    return this.#offsets;
  }

  get total() {
    return this.offsets[this.#sizes.length];
  }

  /** The row that spans `y` (the first row ending below it), clamped to the list. */
  indexAt(y) {
    const offsets = this.offsets;
    let lo = 0;
    let hi = offsets.length - 2;
    if (hi < 0) return 0;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offsets[mid + 1] <= y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
