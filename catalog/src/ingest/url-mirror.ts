import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDescriptor } from './parse.ts';
import { rawUrlOf, type UrlReader } from './url-reader.ts';

/**
 * URL locations are read into a mirror folder laid out as the URLs are (`<mirror>/<scheme>/<host_port>/<path>`)
 * and ingested from there: a relative Location target or `$text`/`$json`/`$yaml` placeholder in a URL
 * descriptor is fetched through the same reader to where the local rules (relative to the descriptor,
 * confined to its host's folder) find it, and positions in errors are the fetched file's own. A fetch that
 * fails leaves the last good copy in place: nothing read before is lost because a host was down.
 */
export function mirrorPathOf(mirrorDir: string, url: string): string {
  const u = new URL(url);
  const host = u.host.replace(/:/g, '_');
  // URL parsing has already removed `..` segments; decoded segments with a separator are refused.
  const segments = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (
    segments.some((s) => s === '..' || s === '.' || s.includes('/') || s.includes('\\') || s.includes('\0'))
  )
    throw new Error(`${url}: path segments that leave their folder are not read`);
  if (segments.length === 0 || u.pathname.endsWith('/')) segments.push('index.yaml');
  return path.join(mirrorDir, u.protocol.replace(':', ''), host, ...segments);
}

/** The folder a mirrored file's host maps to: what its Location targets and placeholders stay inside. */
export function mirrorConfineOf(mirrorDir: string, file: string): string | undefined {
  const rel = path.relative(mirrorDir, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const [scheme, host] = rel.split(path.sep);
  if (!scheme || !host) return undefined;
  return path.join(mirrorDir, scheme, host);
}

/** The URL a mirrored file was read from. */
export function urlOfMirrorPath(mirrorDir: string, file: string): string | undefined {
  const rel = path.relative(mirrorDir, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const [scheme, host, ...rest] = rel.split(path.sep);
  if (!scheme || !host || rest.length === 0) return undefined;
  return `${scheme}://${host.replace(/_/g, ':')}/${rest.map(encodeURIComponent).join('/')}`;
}

function writeAtomically(file: string, body: Buffer): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, body);
  renameSync(tmp, file);
}

const PLACEHOLDERS = new Set(['$text', '$json', '$yaml']);
const isRelative = (t: string) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('/');

/**
 * Fetch a URL descriptor, the relative targets of its Locations (recursively, at most 200 files) and its
 * relative placeholders into the mirror. Throws when the descriptor itself cannot be read; problems with
 * what it names are returned (the ingest then reports them at their positions).
 */
export async function mirrorUrlLocation(
  reader: UrlReader,
  url: string,
  mirrorDir: string,
): Promise<{ file: string; files: string[]; problems: string[] }> {
  const files: string[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  const fetchDescriptor = async (target: string): Promise<string> => {
    const { body } = await reader.read(target);
    // Kept under the URL as asked (a blob URL as its raw file), not where a redirect led: that is where the
    // location's copy is looked for, and what its relative targets are resolved against, as in Backstage.
    const read = rawUrlOf(target);
    const file = mirrorPathOf(mirrorDir, read);
    seen.add(read);
    const parsed = parseDescriptor(body);
    const named: { kind: 'location' | 'placeholder'; target: string }[] = [];
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) {
        for (const item of v) visit(item);
        return;
      }
      if (!v || typeof v !== 'object') return;
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (
        keys.length === 1 &&
        PLACEHOLDERS.has(keys[0] as string) &&
        typeof o[keys[0] as string] === 'string'
      ) {
        named.push({ kind: 'placeholder', target: o[keys[0] as string] as string });
        return;
      }
      for (const k of keys) visit(o[k]);
    };
    for (const doc of parsed.documents) {
      const data = doc.data as { kind?: unknown; spec?: { target?: unknown; targets?: unknown } } | null;
      visit(data);
      if (typeof data?.kind === 'string' && data.kind.toLowerCase() === 'location') {
        const targets = [data.spec?.target, ...(Array.isArray(data.spec?.targets) ? data.spec.targets : [])];
        for (const t of targets) if (typeof t === 'string') named.push({ kind: 'location', target: t });
      }
    }
    writeAtomically(file, body);
    files.push(file);
    for (const n of named) {
      if (!isRelative(n.target)) continue; // the local rules report it at its position
      const next = new URL(n.target, read).toString();
      if (seen.has(next)) continue;
      if (seen.size >= 200) {
        problems.push(`${url}: more than 200 files named; ${next} not read`);
        continue;
      }
      seen.add(next);
      try {
        if (n.kind === 'location') await fetchDescriptor(next);
        else {
          const r = await reader.read(next);
          const f = mirrorPathOf(mirrorDir, next);
          writeAtomically(f, r.body);
          files.push(f);
        }
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    return file;
  };
  const file = await fetchDescriptor(url);
  return { file, files, problems };
}
