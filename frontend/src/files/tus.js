// One file's bytes to the server over tus (PROTOCOL.md, "Files"), with tus-js-client.
//
// The creation request is ours (fetch), so that dedup is seen: when the server already holds the
// digest it answers Upload-Offset = Upload-Length and nothing is sent. Otherwise tus-js-client
// takes the upload's URL, asks HEAD where it stands, and sends the rest in chunks; after a reload
// the URL kept in the queue makes it go on from the last byte the server confirmed. An upload the
// server no longer knows (expired, 404) is created again.

import { Upload } from 'tus-js-client';
import { FetchHttpStack } from './fetch-stack.js';

const ENDPOINT = '/api/files/uploads';
const CHUNK = 8 * 1024 * 1024;

const b64 = (text) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

/** Thrown for answers that retrying will not change (too large, quota, no such channel). */
export class UploadRefused extends Error {
  constructor(status, body) {
    super(body?.detail ?? `the server refused the upload (${status})`);
    this.status = status;
    this.code = body?.error;
  }
}

async function create({ file, blob, channel, csrf }) {
  const metadata = { filename: file.name, filetype: file.type, sha256: file.digest, channel };
  const response = await fetch(ENDPOINT, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Length': String(blob.size),
      'Upload-Metadata': Object.entries(metadata).map(([k, v]) => `${k} ${b64(v)}`).join(','),
      'x-csrftoken': csrf() ?? '',
    },
  });
  if (response.status !== 201) throw new UploadRefused(response.status, await response.json().catch(() => null));
  return { location: response.headers.get('Location'), offset: Number(response.headers.get('Upload-Offset') ?? 0) };
}

/**
 * Upload one queued file (the queue's `upload` function).
 * @param {{csrf: () => string | null}} context
 */
export function tusUploader({ csrf }) {
  return async (file, blob, { job, onProgress, onLocation, signal }) => {
    const channel = job.channel;
    let location = file.location;
    if (!location) {
      const created = await create({ file, blob, channel, csrf });
      location = created.location;
      onLocation(location);
      if (created.offset === blob.size) return onProgress(blob.size); // dedup: stored already
    }
    try {
      await send(blob, location, { onProgress, signal, csrf });
    } catch (error) {
      if (error?.originalResponse?.getStatus?.() !== 404) throw error;
      const created = await create({ file, blob, channel, csrf }); // expired: start again
      onLocation(created.location);
      if (created.offset === blob.size) return onProgress(blob.size);
      await send(blob, created.location, { onProgress, signal, csrf });
    }
  };
}

function send(blob, location, { onProgress, signal, csrf }) {
  return new Promise((resolve, reject) => {
    const upload = new Upload(blob, {
      uploadUrl: location,
      chunkSize: CHUNK,
      retryDelays: [0, 1000, 3000, 5000],
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: true,
      headers: { 'x-csrftoken': csrf() ?? '' },
      // A service worker has no XMLHttpRequest (the library's browser stack): fetch there.
      ...(typeof XMLHttpRequest === 'undefined' ? { httpStack: new FetchHttpStack() } : {}),
      onProgress: (sent) => onProgress(sent),
      onSuccess: () => resolve(undefined),
      onError: (error) => reject(error),
    });
    signal.addEventListener('abort', () => {
      upload.abort(false);
      reject(new Error('paused'));
    });
    upload.start();
  });
}
