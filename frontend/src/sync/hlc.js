/**
 * Hybrid logical clocks, encoded as strings whose order is the clock order.
 * A port of sync_protocol/hlc.py; both pass sync_protocol/vectors/hlc.json.
 *
 * Rule 1. An HLC is (wall ms, counter, device). The encoding `MMMMMMMMMMMMM-CCCCC-device`
 *         (13-digit zero-padded ms, 5-digit zero-padded counter) sorts as plain strings exactly
 *         as the tuple sorts, so clocks compare with `<` in any language.
 * Rule 2. A clock never goes backwards: `tick` returns a value greater than every value this
 *         clock has issued or observed.
 * Rule 3. Only ASCII: digits are [0-9], a device id is 1-32 of [0-9A-Za-z_], and the whole
 *         string must match, so Python and JS accept exactly the same clocks.
 * Rule 4. Time is passed in. The caller gives the device's *corrected* wall time (device clock
 *         plus the offset learned from the server), so a phone whose clock is days off still
 *         stamps sensible times.
 *
 * Pure: no Date.now(), no I/O.
 */

export const MAX_COUNTER = 99_999;
const DEVICE = /^[0-9A-Za-z_]{1,32}$/;
const PATTERN = /^([0-9]{13})-([0-9]{5})-([0-9A-Za-z_]{1,32})$/;

/** @typedef {{ms: number, counter: number, device: string}} Hlc */

/**
 * Decode an encoded HLC; throws an Error naming the problem.
 * @param {string} value
 * @returns {Hlc}
 */
export function parse(value) {
  const match = typeof value === 'string' ? PATTERN.exec(value) : null;
  if (match === null) {
    throw new Error(`not a hybrid logical clock: ${JSON.stringify(String(value).slice(0, 60))}`);
  }
  return { ms: Number(match[1]), counter: Number(match[2]), device: match[3] };
}

/**
 * @param {Hlc} hlc
 * @returns {string}
 */
export function encode({ ms, counter, device }) {
  return `${String(ms).padStart(13, '0')}-${String(counter).padStart(5, '0')}-${device}`;
}

/** @param {unknown} value */
export function isValid(value) {
  return typeof value === 'string' && PATTERN.test(value);
}

/** One device's HLC. Sans-I/O: callers pass the wall time in milliseconds. */
export class Clock {
  #device;
  #ms = 0;
  #counter = 0;

  /**
   * @param {string} device
   * @param {string | null} [last] the last clock this device issued, to resume after a reload
   */
  constructor(device, last = null) {
    if (typeof device !== 'string' || !DEVICE.test(device)) {
      throw new Error(`a device id in a clock is 1-32 of [0-9A-Za-z_], not ${JSON.stringify(device)}`);
    }
    this.#device = device;
    if (last !== null && last !== undefined) {
      const parsed = parse(last);
      this.#ms = parsed.ms;
      this.#counter = parsed.counter;
    }
  }

  get device() {
    return this.#device;
  }

  /** The last clock issued or folded in, encoded. */
  get last() {
    return encode({ ms: this.#ms, counter: this.#counter, device: this.#device });
  }

  /**
   * Stamp a local event.
   * @param {number} wallMs corrected wall time, integer ms
   * @returns {string}
   */
  tick(wallMs) {
    checkWall(wallMs);
    if (wallMs > this.#ms) {
      this.#ms = wallMs;
      this.#counter = 0;
    } else {
      this.#bump();
    }
    return this.last;
  }

  /**
   * Fold in a clock seen on a received change, so later ticks order after it.
   * @param {string} remote
   * @param {number} wallMs corrected wall time, integer ms
   */
  observe(remote, wallMs) {
    checkWall(wallMs);
    const other = parse(remote);
    const top = Math.max(this.#ms, other.ms, wallMs);
    if (top === this.#ms && top === other.ms) {
      this.#counter = Math.max(this.#counter, other.counter);
      this.#bump();
    } else if (top === this.#ms) {
      this.#bump();
    } else if (top === other.ms) {
      this.#ms = top;
      this.#counter = other.counter;
      this.#bump();
    } else {
      this.#ms = top;
      this.#counter = 0;
    }
  }

  #bump() {
    if (this.#counter >= MAX_COUNTER) {
      // A hundred thousand events in one millisecond: borrow the next millisecond instead of
      // overflowing the fixed-width counter (order is still strictly increasing).
      this.#ms += 1;
      this.#counter = 0;
    } else {
      this.#counter += 1;
    }
  }
}

/** JS has no int type: a fractional or huge wall time would encode as a string that is no clock. */
function checkWall(wallMs) {
  if (!Number.isSafeInteger(wallMs) || wallMs < 0) {
    throw new TypeError(`wall time must be a whole number of ms, not ${wallMs}`);
  }
}
