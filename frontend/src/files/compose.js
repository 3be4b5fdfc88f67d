// From files the person chose to a queued message: ids made here (offline), a smaller copy of
// photos when asked, each image's upright size for placeholders; the bytes go to the queue.

import { ulid } from '../lib/ulid.js';
import { downscale as smaller, imageSize } from './images.js';

/**
 * `task`: the message is a comment on that task, so its files are the task's attachments.
 * @param {any} app @param {{channel: string, text: string, thread: string | null, task?: string | null, files: File[], downscale: boolean}} o
 */
export async function queueWithFiles(app, { channel, text, thread, task = null, files, downscale }) {
  const prepared = [];
  for (const original of files) {
    const file = downscale ? await smaller(original).catch(() => original) : original;
    const size = await imageSize(file);
    prepared.push({ id: ulid(), blob: file, name: file.name || 'file', type: file.type, ...(size ?? {}) });
  }
  const message = ulid();
  const job = await app.files.queue.add({ id: message, channel, text, thread, task, message, files: prepared });
  app.files.run(); // online: it goes now; offline: the 'online' event or the next open starts it
  return job;
}
