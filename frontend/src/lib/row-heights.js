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
// Rule 4. New rows before or after the rows already known (a backfill page of older history, a
//         new message) look up only the new rows' heights; the known ones are moved over in the
//         same buffer. Buffers grow by half again, so a backfill of 100,000 rows in pages of
//         2,500 allocates a few buffers, not two 800 KB ones per page (that garbage and its
//         collector's pauses were the backfill's slow frames, issue 16).

export class RowHeights {
  #known = new Map();
  #sum = 0;
  #fallback;
  #rows = [];
  /** How many rows there are (the buffers below may be longer). */
  #count = 0;
  #sizes = new Float64Array(0);
  #offsets = new Float64Array(1);
  /** `#offsets` cut to `#count + 1` (a view, made again only when the count changes). */
  #view = this.#offsets.subarray(0, 1);
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
    const old = this.#rows;
    const n = rows.length;
    const m = old.length;
    // Rule 4: the old rows as a block at the end (older rows came) or at the start (newer came).
    const shift = n > m && m > 0 ? (sameIds(rows, n - m, old) ? n - m : sameIds(rows, 0, old) ? 0 : -1) : -1;
    if (this.#sizes.length < n) {
      const grown = new Float64Array(Math.max(n, Math.ceil(this.#sizes.length * 1.5)));
      if (shift >= 0) grown.set(this.#sizes.subarray(0, m), shift);
      this.#sizes = grown;
      this.#offsets = new Float64Array(grown.length + 1);
    } else if (shift > 0) this.#sizes.copyWithin(shift, 0, m);
    const sizes = this.#sizes;
    const known = this.#known;
    if (shift < 0) for (let i = 0; i < n; i++) sizes[i] = known.get(rows[i].id) ?? 0;
    else {
      // Only the new rows: those before the old block, or after it.
      const [from, to] = shift > 0 ? [0, shift] : [m, n];
      for (let i = from; i < to; i++) sizes[i] = known.get(rows[i].id) ?? 0;
    }
    this.#rows = rows;
    if (this.#count !== n || this.#view.buffer !== this.#offsets.buffer) this.#view = this.#offsets.subarray(0, n + 1);
    this.#count = n;
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
      const offsets = this.#offsets;
      const n = this.#count;
      offsets[0] = 0;
      for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + (sizes[i] || guess);
      this.#stale = false;
    }
    return this.#view;
  }

  get total() {
    return this.offsets[this.#count];
  }

  /** The row that spans `y` (the first row ending below it), clamped to the list. */
  indexAt(y) {
    const offsets = this.offsets;
    let lo = 0;
    let hi = this.#count - 1;
    if (hi < 0) return 0;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offsets[mid + 1] <= y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Do `rows` from index `at` hold the rows of `old`, in order (by id: items are remade on change)? */
function sameIds(rows, at, old) {
  for (let i = 0; i < old.length; i++) {
    const a = rows[at + i];
    const b = old[i];
    if (a !== b && a.id !== b.id) return false;
  }
  return true;
}
