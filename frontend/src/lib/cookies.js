// Reading one cookie out of a `document.cookie` string.

export function readCookie(cookieString, name) {
  for (const part of (cookieString || '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}
