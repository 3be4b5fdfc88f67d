// A job whose files are stored becomes changes: its file records, then its message, written in
// one transaction so the message never arrives before its files. The page (Actions#sendWithFiles)
// and the service worker (sw/uploads.js) both write exactly these. A new version of a file
// (`versionOf`: the first version's id) is a file record alone, with no message.

/**
 * `task`: the message is a comment on that task, so its files are the task's attachments.
 * @param {{channel: string, text: string, thread: string | null, task?: string | null, message: string | null, mentions?: string,
 *   versionOf?: string | null,
 *   files: {id: string, name: string, type: string, size: number, digest?: string, width?: number, height?: number}[]}} job
 * @returns {{collection: string, id: string, fields: Record<string, unknown>}[]}
 */
export function fileMessageChanges({ channel, text, thread, task = null, message, mentions = '', versionOf = null, files }) {
  /** @type {{collection: string, id: string, fields: Record<string, unknown>}[]} */
  const changes = files.map((f) => ({
    collection: 'files',
    id: f.id,
    fields: {
      channel,
      ...(message ? { message } : {}),
      ...(versionOf ? { version_of: versionOf } : {}),
      name: f.name,
      size: f.size,
      type: f.type,
      digest: f.digest,
      ...(f.width ? { width: f.width, height: f.height } : {}),
    },
  }));
  if (!message) return changes;
  /** @type {Record<string, unknown>} */
  const fields = { channel, text };
  if (thread) fields.thread = thread;
  if (task) fields.task = task;
  if (mentions) fields.mentions = mentions;
  changes.push({ collection: 'messages', id: message, fields });
  return changes;
}
