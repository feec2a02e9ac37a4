/**
 * Links have one home: which URLs the catalogue accepts in a descriptor and which the portal renders as a
 * link (security-lessons §5: only http, https and mailto). Light on purpose (no store, no validators), so
 * the UI's client code imports it as it is.
 */

const SAFE_URL_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/** Longer URLs are refused for rendering: no runbook or repo link needs more, and a page should not carry one. */
export const MAX_LINK_LENGTH = 2048;

/**
 * Whether validation accepts a descriptor's link (metadata.links, URL annotations): it parses as a URL whose
 * scheme is http, https or mailto. Rendering is stricter still: see {@link safeUrl}.
 */
export function isSafeUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return SAFE_URL_PROTOCOLS.has(new URL(value).protocol);
  } catch {
    return false;
  }
}

/**
 * The URL to render as a link, or null: only absolute http, https and mailto URLs of at most
 * {@link MAX_LINK_LENGTH} characters. The scheme is read after removing control characters and whitespace,
 * so `java\tscript:` and ` javascript:` are refused; a URL whose text hides characters a browser would drop
 * is refused too. Relative URLs are refused (links from descriptors are always absolute).
 */
export function safeUrl(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > MAX_LINK_LENGTH) return null;
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
