// From files the person chose to a queued message: ids made here (offline), a smaller copy of
// photos when asked, each image's upright size for placeholders; the bytes go to the queue.

import { ulid } from '../lib/ulid.js';
import { downscale as smaller, imageSize } from './images.js';

/** Refused before anything is queued: a file over the server's limit (Tus-Max-Size). */
export class FileTooLarge extends Error {
  constructor(name, max) {
    super(`${name} is larger than ${max} bytes`);
    this.name = 'FileTooLarge';
    this.file = name;
    this.max = max;
  }
}

/** The first file over `max` bytes, or null. @param {{name: string, size: number}[]} files */
export function oversized(files, max) {
  return files.find((f) => f.size > max) ?? null;
}

/**
 * `task`: the message is a comment on that task, so its files are the task's attachments.
 * @param {any} app @param {{channel: string, text: string, thread: string | null, task?: string | null, files: File[], downscale: boolean}} o
 */
export async function queueWithFiles(app, { channel, text, thread, task = null, files, downscale }) {
  const big = oversized(files, app.files.maxFileBytes()); // the server checks again, before any byte
  if (big) throw new FileTooLarge(big.name, app.files.maxFileBytes());
  const prepared = [];
  for (const original of files) {
    const file = downscale ? await smaller(original).catch(() => original) : original;
    const size = await imageSize(file);
    prepared.push({ id: ulid(), blob: file, name: file.name || 'file', type: file.type, ...(size ?? {}) });
  }
  const message = ulid();
  const mentions = app.actions.mentionsIn(channel, text);
  const job = await app.files.queue.add({ id: message, channel, text, thread, task, message, mentions, files: prepared });
  app.files.run(); // online: it goes now; offline: the 'online' event or the next open starts it
  return job;
}

/** A new version of a shared file (`of`: its first version's id), queued like an attachment. */
export async function queueVersion(app, { channel, of, file }) {
  if (oversized([file], app.files.maxFileBytes())) throw new FileTooLarge(file.name, app.files.maxFileBytes());
  const size = await imageSize(file);
  const id = ulid();
  const prepared = [{ id, blob: file, name: file.name || 'file', type: file.type, ...(size ?? {}) }];
  const job = await app.files.queue.add({ id, channel, text: '', thread: null, message: null, versionOf: of, files: prepared });
  app.files.run();
  return job;
}
