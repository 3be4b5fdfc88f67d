// A job whose files are stored becomes changes: its file records, then its message, written in
// one transaction so the message never arrives before its files. The page (Actions#sendWithFiles)
// and the service worker (sw/uploads.js) both write exactly these.

/**
 * @param {{channel: string, text: string, thread: string | null, message: string, mentions?: string,
 *   files: {id: string, name: string, type: string, size: number, digest?: string, width?: number, height?: number}[]}} job
 * @returns {{collection: string, id: string, fields: Record<string, unknown>}[]}
 */
export function fileMessageChanges({ channel, text, thread, message, mentions = '', files }) {
  /** @type {{collection: string, id: string, fields: Record<string, unknown>}[]} */
  const changes = files.map((f) => ({
    collection: 'files',
    id: f.id,
    fields: { channel, message, name: f.name, size: f.size, type: f.type, digest: f.digest, ...(f.width ? { width: f.width, height: f.height } : {}) },
  }));
  /** @type {Record<string, unknown>} */
  const fields = { channel, text };
  if (thread) fields.thread = thread;
  if (mentions) fields.mentions = mentions;
  changes.push({ collection: 'messages', id: message, fields });
  return changes;
}
