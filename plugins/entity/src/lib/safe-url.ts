/**
 * Only http, https and mailto links are ever rendered (security-lessons §5). The scheme is read after
 * stripping control characters and whitespace, so `java\tscript:` is caught.
 */
export function safeUrl(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const cleaned = [...raw]
    .filter((ch) => {
      const code = ch.charCodeAt(0);
      return code > 0x20 && (code < 0x7f || code > 0x9f);
    })
    .join('');
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(cleaned);
  if (!m) return null;
  const scheme = m[1].toLowerCase();
  if (scheme !== 'http' && scheme !== 'https' && scheme !== 'mailto') return null;
  if (raw.trim() !== cleaned) return null;
  return raw.trim();
}
