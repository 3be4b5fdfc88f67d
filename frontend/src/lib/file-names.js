// A file name as people see it: display data only, never a path (the server's rule:
// sync_protocol/collections_files.py display_name; both pass vectors/file_names.json).
// Control and format characters (bidirectional overrides, zero-width joiners) and line or
// paragraph separators are removed, path separators become "_", at most 255 code points.

const HIDDEN = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/** @param {string} name */
export function displayName(name) {
  const kept = (name ?? '').replace(HIDDEN, '').replace(/[/\\]/g, '_').trim();
  if (kept === '' || kept === '.' || kept === '..') return 'file';
  return [...kept].slice(0, 255).join('');
}
