// A Web Worker that computes a file's SHA-256 as it streams (hash-wasm), so a 200 MB video
// never freezes the page and is never held whole in memory. Message in: {id, blob};
// messages out: {id, done, total} while reading, then {id, digest} (or {id, error}).

import { createSHA256 } from 'hash-wasm';

self.onmessage = async (event) => {
  const { id, blob } = event.data;
  try {
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
      if (done - last > 8 * 1024 * 1024) {
        last = done;
        self.postMessage({ id, done, total: blob.size });
      }
    }
    self.postMessage({ id, digest: hasher.digest('hex') });
  } catch (error) {
    self.postMessage({ id, error: String(error?.message ?? error) });
  }
};
