// A Web Worker that computes a file's SHA-256, so hashing a 200 MB video never freezes the page.
// Message in: {id, blob} ({streamed: true} forces the streamed way: bench/files_hashing.py);
// messages out: {id, done, total} while reading, then {id, digest} (or
// {id, error}).
//
// Two ways, one digest:
// - WebCrypto (BoringSSL, with the CPU's SHA instructions: several times faster than WASM) for a
//   file the device can hold in memory for a moment: up to WHOLE_MAX, which scales with the
//   device's memory (64 MB per GB, so 256 MB on a 4 GB phone, 512 MB at most). WebCrypto has no
//   streaming digest, so the worker reads such a file whole, hashes it and lets it go.
// - Streamed (hash-wasm) for anything larger or where WebCrypto is missing: the file is read in
//   the browser's chunks and never held whole, whatever its size.

import { createSHA256 } from 'hash-wasm';

const MB = 1024 * 1024;
const memoryGb = Math.min(8, Math.max(1, Number(/** @type {any} */ (self.navigator)?.deviceMemory) || 2));
export const WHOLE_MAX = memoryGb * 64 * MB;

const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');

async function whole(id, blob) {
  const bytes = await blob.arrayBuffer();
  self.postMessage({ id, done: blob.size, total: blob.size });
  return hex(await crypto.subtle.digest('SHA-256', bytes));
}

async function streamed(id, blob) {
  const hasher = await createSHA256();
  hasher.init();
  const reader = blob.stream().getReader();
  let done = 0;
  let last = 0;
  for (;;) {
    const { value, done: finished } = await reader.read();
    if (finished) break;
    hasher.update(value);
    done += value.byteLength;
    if (done - last > 8 * MB) {
      last = done;
      self.postMessage({ id, done, total: blob.size });
    }
  }
  return hasher.digest('hex');
}

self.onmessage = async (event) => {
  const { id, blob, streamed: stream = false } = event.data;
  try {
    const useWhole = !stream && blob.size <= WHOLE_MAX && typeof crypto?.subtle?.digest === 'function';
    const digest = useWhole ? await whole(id, blob) : await streamed(id, blob);
    self.postMessage({ id, digest });
  } catch (error) {
    self.postMessage({ id, error: String(error?.message ?? error) });
  }
};
