/**
 * Skeletons at a URL for fetch:template and fetch:plain, read through the catalogue's allow-listed URL
 * reader (PORTAL_READING_ALLOW, no private addresses, no redirects off the list, size-capped). A URL names:
 * - a directory of a configured GitHub or GitLab integration (`https://github.com/o/r/tree/<ref>/<dir>`,
 *   `https://gitlab.example/g/r/-/tree/<ref>/<dir>`): the repository's tar archive at that ref is read
 *   through the provider's API and the directory taken out of it;
 * - a `.tar.gz`/`.tgz` archive: its entries;
 * - anything else: one file (named by the URL's last segment).
 * Archive entries are plain files and directories only: links, devices and paths leaving the archive are
 * refused, so nothing read from a URL can point outside the workspace.
 */
import { gunzipSync } from 'node:zlib';
import { InputError } from '@bank/plugin-kit';
import { safeRelative } from '../paths.ts';
import type { ActionContext } from '../types.ts';

export interface FetchedEntry {
  rel: string;
  content: Buffer;
  executable: boolean;
}

const MAX_UNPACKED = 64 * 1024 * 1024;

/** Where to read a URL skeleton from, and which directory of the archive is wanted. */
function archiveOf(
  ctx: ActionContext,
  url: URL,
): { url: string; dir: string; stripTop: boolean; token?: string } | undefined {
  const host = url.host.toLowerCase();
  const integration = (ctx.env.integrations ?? []).find((i) => i.host === host);
  if (integration?.type === 'github') {
    const m = /^\/([^/]+)\/([^/]+)\/tree\/([^/]+)(?:\/(.*))?$/.exec(url.pathname);
    if (m)
      return {
        url: `${integration.apiBaseUrl}/repos/${m[1]}/${m[2]}/tarball/${m[3]}`,
        dir: decodeURIComponent(m[4] ?? ''),
        stripTop: true,
      };
  }
  if (integration?.type === 'gitlab') {
    const m = /^\/(.+?)\/-\/tree\/([^/]+)(?:\/(.*))?$/.exec(url.pathname);
    if (m) {
      const dir = decodeURIComponent(m[3] ?? '');
      return {
        url: `${integration.apiBaseUrl}/projects/${encodeURIComponent(m[1] as string)}/repository/archive.tar.gz?sha=${encodeURIComponent(m[2] as string)}${dir ? `&path=${encodeURIComponent(dir)}` : ''}`,
        dir,
        stripTop: true,
      };
    }
  }
  if (/\.(tar\.gz|tgz)$/i.test(url.pathname)) return { url: url.toString(), dir: '', stripTop: false };
  return undefined;
}

/** The entries of the skeleton at `url`, relative to the directory it names. */
export async function readUrlSkeleton(
  ctx: ActionContext,
  raw: string,
  field: string,
): Promise<FetchedEntry[]> {
  const reader = ctx.env.reader;
  if (!reader) throw new InputError(`${field}: "${raw}": reading URLs is not configured here`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(`${field}: "${raw}" is not a URL`);
  }
  const archive = archiveOf(ctx, url);
  const read = async (u: string) => {
    const why = reader.refusal(u);
    if (why) throw new InputError(`${field}: ${why}`);
    try {
      return (await reader.read(u)).body;
    } catch (err) {
      throw new InputError(`${field}: ${(err as Error).message}`);
    }
  };
  if (!archive) {
    const name = decodeURIComponent(url.pathname.split('/').pop() ?? '');
    const rel = safeRelative(name, field);
    if (!rel) throw new InputError(`${field}: "${raw}" names no file`);
    return [{ rel, content: await read(url.toString()), executable: false }];
  }
  const body = await read(archive.url);
  let tar: Buffer;
  try {
    tar = gunzipSync(body, { maxOutputLength: MAX_UNPACKED });
  } catch (err) {
    throw new InputError(
      `${field}: ${archive.url} is not a gzip archive within ${MAX_UNPACKED} bytes (${(err as Error).message})`,
    );
  }
  const dir = archive.dir ? safeRelative(archive.dir, field) : '';
  const out: FetchedEntry[] = [];
  for (const e of readTar(tar, `${field} (${archive.url})`)) {
    let rel = e.name;
    if (archive.stripTop) rel = rel.split('/').slice(1).join('/');
    if (!rel) continue;
    rel = safeRelative(rel, `${field} entry ${e.name}`);
    if (dir) {
      if (!rel.startsWith(`${dir}/`)) continue;
      rel = rel.slice(dir.length + 1);
    }
    if (e.type === 'dir') continue;
    out.push({ rel, content: e.content, executable: e.executable });
  }
  if (out.length === 0)
    throw new InputError(`${field}: "${raw}" holds no files${dir ? ` under ${dir}` : ''}`);
  return out.sort((a, b) => (a.rel < b.rel ? -1 : 1));
}

/** A ustar/pax/GNU tar reader for plain files and directories; any other entry type is refused. */
export function readTar(
  buf: Buffer,
  what: string,
): { name: string; type: 'file' | 'dir'; content: Buffer; executable: boolean }[] {
  const out: { name: string; type: 'file' | 'dir'; content: Buffer; executable: boolean }[] = [];
  const cstr = (b: Buffer) => {
    const z = b.indexOf(0);
    return b.subarray(0, z < 0 ? b.length : z).toString('utf8');
  };
  const octal = (b: Buffer) => Number.parseInt(cstr(b).trim() || '0', 8);
  let off = 0;
  let longName: string | undefined;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const size = octal(h.subarray(124, 136));
    if (!Number.isFinite(size) || size < 0 || off + 512 + size > buf.length)
      throw new InputError(`${what}: a truncated or corrupt tar archive`);
    const type = String.fromCharCode(h[156] as number);
    const data = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'g') continue; // pax global header (GitHub puts the commit there)
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (m) longName = m[1];
      continue;
    }
    if (type === 'L') {
      longName = cstr(data);
      continue;
    }
    const prefix = h.subarray(257, 263).toString('latin1').startsWith('ustar')
      ? cstr(h.subarray(345, 500))
      : '';
    const name = longName ?? (prefix ? `${prefix}/${cstr(h.subarray(0, 100))}` : cstr(h.subarray(0, 100)));
    longName = undefined;
    if (name.includes('\0')) throw new InputError(`${what}: entry name with a NUL byte`);
    if (type === '5')
      out.push({ name: name.replace(/\/$/, ''), type: 'dir', content: Buffer.alloc(0), executable: false });
    else if (type === '0' || type === '\0' || type === '7')
      out.push({
        name,
        type: 'file',
        content: Buffer.from(data),
        executable: (octal(h.subarray(100, 108)) & 0o100) !== 0,
      });
    else
      throw new InputError(
        `${what}: entry "${name}" is a ${type === '1' ? 'hard link' : type === '2' ? 'symbolic link' : `type ${JSON.stringify(type)} entry`}; archives may hold only files and directories`,
      );
  }
  return out;
}
