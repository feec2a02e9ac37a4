/**
 * A template's skeleton directory, read and copied into the workspace: what fetch:template and fetch:plain
 * share (fetch:template also renders paths and contents).
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { compileTemplate, renderTemplate } from '../expr/render.ts';
import { isInside, PathError, resolveSafeChildPath, safeRelative } from '../paths.ts';
import type { ActionContext } from '../types.ts';
import { readUrlSkeleton } from './fetch-url.ts';
import { ActionError, str, strList } from './input.ts';

const MAX_SKELETON_FILE = 1024 * 1024;

/** `**`, `*` and `?` globs to a RegExp over POSIX paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
        i += glob[i + 2] === '/' ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re.replace(/^\.\//, '')}$`);
}

interface SkeletonEntry {
  rel: string;
  kind: 'file' | 'symlink';
  abs: string;
  target?: string;
  executable?: boolean;
  /** The bytes, when the skeleton was read from a URL. */
  content?: Buffer;
}

/**
 * The files of a skeleton directory, not following links. A symlink is kept as a link only when it is
 * relative, resolves (whole chain) inside the skeleton, and is not dangling; otherwise the template is refused.
 */
export function readSkeleton(dir: string, shownAs: string): SkeletonEntry[] {
  const root = realpathSync(dir);
  const out: SkeletonEntry[] = [];
  const walk = (abs: string, rel: string) => {
    for (const d of readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const childAbs = path.join(abs, d.name);
      const childRel = rel ? `${rel}/${d.name}` : d.name;
      const st = lstatSync(childAbs);
      if (st.isSymbolicLink()) {
        const target = readlinkSync(childAbs);
        const shown = `${shownAs}/${childRel}`;
        if (path.isAbsolute(target))
          throw new PathError(
            `${shown}: symbolic link to an absolute path (${target}) is not allowed in a skeleton`,
          );
        const lexical = path.resolve(path.dirname(childAbs), target);
        if (!isInside(root, lexical))
          throw new PathError(`${shown}: symbolic link points outside the template (→ ${target})`);
        let real: string;
        try {
          real = realpathSync(childAbs);
        } catch {
          throw new PathError(`${shown}: dangling symbolic link (→ ${target})`);
        }
        if (!isInside(root, real))
          throw new PathError(`${shown}: symbolic link chain leads outside the template (→ ${real})`);
        out.push({ rel: childRel, kind: 'symlink', abs: childAbs, target });
      } else if (st.isDirectory()) walk(childAbs, childRel);
      else if (st.isFile()) {
        if (st.size > MAX_SKELETON_FILE)
          throw new PathError(`${shownAs}/${childRel}: larger than ${MAX_SKELETON_FILE} bytes`);
        out.push({ rel: childRel, kind: 'file', abs: childAbs, executable: (st.mode & 0o100) !== 0 });
      } else
        throw new PathError(
          `${shownAs}/${childRel}: only files, directories and links are allowed in a skeleton`,
        );
    }
  };
  walk(root, '');
  return out;
}

function isBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8000).includes(0);
}

/** Render a path's `${{ }}` segments; returns undefined for paths Backstage skips ("", "/…", "//"). */
function renderPath(rel: string, scope: Record<string, unknown>, field: string): string | undefined {
  if (!rel.includes('${{')) return rel;
  const out = renderTemplate(compileTemplate(rel, field), scope);
  if (out === '' || out.startsWith('/') || out.includes('//')) return undefined;
  return out;
}

/**
 * Copy the skeleton at `url` into the workspace under `targetPath`; fetch:template also renders each
 * path and text file (but those matched by copyWithoutTemplating, or lacking templateFileExtension).
 */
export async function fetchIntoWorkspace(
  ctx: ActionContext,
  id: 'fetch:template' | 'fetch:plain',
): Promise<void> {
  const url = str(ctx, 'url', { required: true });
  const remote = /^https?:\/\//i.test(url);
  if (!remote && /^[a-z][a-z0-9+.-]*:/i.test(url))
    throw new PathError(
      `${ctx.field}.url: "${url}": only paths inside the template and http(s) URLs are allowed`,
    );
  const target = safeRelative(str(ctx, 'targetPath', { fallback: '.' }), `${ctx.field}.targetPath`);
  const replace = ctx.input.replace === true;
  const values = (ctx.input.values ?? {}) as Record<string, unknown>;
  if (typeof values !== 'object' || Array.isArray(values))
    throw new ActionError(`${ctx.field}.values: must be a mapping`);
  const raw = [...strList(ctx, 'copyWithoutTemplating'), ...strList(ctx, 'copyWithoutRender')].map(
    globToRegExp,
  );
  const extOpt = ctx.input.templateFileExtension;
  const ext =
    extOpt === true
      ? '.njk'
      : typeof extOpt === 'string' && extOpt
        ? extOpt.startsWith('.')
          ? extOpt
          : `.${extOpt}`
        : undefined;
  let shown: string;
  let entries: SkeletonEntry[];
  if (remote) {
    // A skeleton at a URL: read through the allow-listed URL reader (fetch-url.ts).
    shown = url;
    entries = (await readUrlSkeleton(ctx, url, `${ctx.field}.url`)).map((e) => ({
      rel: e.rel,
      kind: 'file',
      abs: '',
      content: e.content,
      executable: e.executable,
    }));
  } else {
    const srcRel = safeRelative(url, `${ctx.field}.url`);
    const src = resolveSafeChildPath(ctx.template.dir, srcRel, `${ctx.field}.url`);
    shown = `templates/${ctx.template.dirName}/${srcRel}`;
    if (lstatSync(src).isFile()) {
      entries = [{ rel: path.basename(src), kind: 'file', abs: src }];
    } else entries = readSkeleton(src, shown);
  }
  const scope = { values };
  let rendered = 0;
  for (const e of entries) {
    const field = `${shown}/${e.rel}`;
    let rel: string | undefined = e.rel;
    const templated =
      id === 'fetch:template' && !raw.some((r) => r.test(e.rel)) && (!ext || e.rel.endsWith(ext));
    if (id === 'fetch:template') {
      rel = renderPath(e.rel, scope, field);
      if (rel === undefined) {
        ctx.log(`skipped ${e.rel}: its path renders empty`);
        continue;
      }
      if (ext && rel.endsWith(ext)) rel = rel.slice(0, -ext.length);
    }
    const dest = target ? `${target}/${rel}` : rel;
    safeRelative(dest, field);
    if (e.kind === 'symlink') {
      ctx.workspace.symlink(dest, e.target as string, { replace, field });
      continue;
    }
    const bytes = e.content ?? readFileSync(e.abs);
    if (templated && !isBinary(bytes)) {
      const text = renderTemplate(compileTemplate(bytes.toString('utf8'), field), scope);
      ctx.workspace.write(dest, text, { executable: e.executable, replace, field });
      rendered++;
    } else ctx.workspace.write(dest, bytes, { executable: e.executable, replace, field });
  }
  ctx.log(`${id}: ${entries.length} entries from ${shown} into ./${target} (${rendered} rendered)`);
}
