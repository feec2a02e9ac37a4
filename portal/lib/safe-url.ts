/**
 * The UI renders a link only when its URL is http, https or mailto (security-lessons §5). The scheme is
 * read after removing control characters and whitespace, so `java\tscript:` and ` javascript:` are
 * refused; relative URLs are refused too (links from descriptors are always absolute).
 */
export function safeHref(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > 2048) return null;
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
  // A URL whose visible text hides characters the browser would drop is not worth the risk.
  if (raw.trim() !== cleaned) return null;
  return raw.trim();
}
