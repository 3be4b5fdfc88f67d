// SHA-256 of a Blob, in the hashing worker (hash-worker.js, built to /hash-worker.js). Where no
// worker can start (node tests), the page hashes with WebCrypto instead.

let worker = null;
let next = 0;
const waiting = new Map();

function start() {
  if (worker || typeof Worker !== 'function') return worker;
  worker = new Worker('/hash-worker.js', { type: 'module' });
  worker.onmessage = (event) => {
    const { id, digest, error } = event.data;
    const pending = waiting.get(id);
    if (!pending || (digest === undefined && error === undefined)) return;
    waiting.delete(id);
    if (error !== undefined) pending.reject(new Error(error));
    else pending.resolve(digest);
  };
  return worker;
}

/** @param {Blob} blob @returns {Promise<string>} lowercase hex */
export async function sha256(blob) {
  if (!start()) {
    const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
    return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  }
  const id = ++next;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.postMessage({ id, blob });
  });
}
