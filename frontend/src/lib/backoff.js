// Exponential backoff with full jitter: the n-th retry waits a random time in
// [base/2, min(cap, base * 2^n)], so a fleet of devices coming back online spreads out.

export function backoffDelay(attempt, { base = 500, cap = 30_000, random = Math.random } = {}) {
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt));
  const floor = Math.min(base / 2, ceiling);
  return Math.round(floor + random() * (ceiling - floor));
}
