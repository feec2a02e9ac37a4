/**
 * The task workspace, in memory. fetch actions render into it; nothing reaches the disk until a publish
 * action copies it out. That is what makes a dry-run complete (the whole tree and every file's contents)
 * and a failed task cheap to undo (an unpublished workspace is simply dropped).
 */
import { InputError } from '@bank/plugin-kit';
import { safeRelative } from './paths.ts';

export type WorkspaceEntry =
  | { kind: 'file'; content: Buffer; executable: boolean }
  | { kind: 'symlink'; target: string };

const MAX_FILES = 5_000;
const MAX_BYTES = 64 * 1024 * 1024;

export class Workspace {
  private readonly entries = new Map<string, WorkspaceEntry>();
  private bytes = 0;

  get size(): number {
    return this.entries.size;
  }

  has(rel: string): boolean {
    return this.entries.has(safeRelative(rel, 'path'));
  }

  get(rel: string): WorkspaceEntry | undefined {
    return this.entries.get(safeRelative(rel, 'path'));
  }

  /** Add a file; `field` names where the path came from for errors. Refuses to replace unless `replace`. */
  write(
    rel: string,
    content: Buffer | string,
    opts: { executable?: boolean; replace?: boolean; field?: string } = {},
  ): void {
    this.put(
      rel,
      {
        kind: 'file',
        content: Buffer.isBuffer(content) ? content : Buffer.from(content),
        executable: !!opts.executable,
      },
      opts,
    );
  }

  symlink(rel: string, target: string, opts: { replace?: boolean; field?: string } = {}): void {
    this.put(rel, { kind: 'symlink', target }, opts);
  }

  private put(rel: string, entry: WorkspaceEntry, opts: { replace?: boolean; field?: string }): void {
    const key = safeRelative(rel, opts.field ?? 'path');
    if (key === '') throw new InputError(`${opts.field ?? 'path'}: a file needs a name`);
    const prior = this.entries.get(key);
    if (prior && !opts.replace)
      throw new InputError(
        `${opts.field ?? 'path'}: "${key}" is written twice; set replace: true to overwrite`,
      );
    for (const other of this.entries.keys()) {
      if (other.startsWith(`${key}/`) || key.startsWith(`${other}/`)) {
        throw new InputError(
          `${opts.field ?? 'path'}: "${key}" clashes with "${other}" (a file cannot also be a directory)`,
        );
      }
    }
    const add = entry.kind === 'file' ? entry.content.length : entry.target.length;
    const drop = prior ? (prior.kind === 'file' ? prior.content.length : prior.target.length) : 0;
    if (this.entries.size + (prior ? 0 : 1) > MAX_FILES)
      throw new InputError(`the workspace holds more than ${MAX_FILES} files`);
    if (this.bytes + add - drop > MAX_BYTES)
      throw new InputError(`the workspace is larger than ${MAX_BYTES} bytes`);
    this.bytes += add - drop;
    this.entries.set(key, entry);
  }

  /**
   * The workspace's own symlink on the way to `key` (an ancestor that is a link), if any. Operations
   * refuse such a path: in the published tree it would lead wherever the link points.
   */
  linkOnTheWay(rel: string): string | undefined {
    const key = safeRelative(rel, 'path');
    const parts = key.split('/');
    for (let i = 1; i < parts.length; i++) {
      const anc = parts.slice(0, i).join('/');
      if (this.entries.get(anc)?.kind === 'symlink') return anc;
    }
    return undefined;
  }

  /** Remove a file or link, or a directory (every entry under it); answers the paths removed. */
  remove(rel: string, field = 'path'): string[] {
    const key = safeRelative(rel, field);
    if (key === '') throw new InputError(`${field}: refusing to delete the whole workspace`);
    const via = this.linkOnTheWay(key);
    if (via) throw new InputError(`${field}: "${key}" goes through the symbolic link "${via}"`);
    const gone = [...this.entries.keys()].filter((k) => k === key || k.startsWith(`${key}/`));
    for (const k of gone) {
      const e = this.entries.get(k) as WorkspaceEntry;
      this.bytes -= e.kind === 'file' ? e.content.length : e.target.length;
      this.entries.delete(k);
    }
    return gone.sort();
  }

  /**
   * Move a file, link or directory. Refused when the target exists (unless `overwrite`, which replaces
   * it), lies inside the source, or either path goes through a link; all or nothing.
   */
  move(from: string, to: string, opts: { overwrite?: boolean; field?: string } = {}): number {
    const field = opts.field ?? 'path';
    const src = safeRelative(from, `${field}.from`);
    const dst = safeRelative(to, `${field}.to`);
    if (src === '' || dst === '') throw new InputError(`${field}: cannot move the workspace's root`);
    for (const [p, f] of [
      [src, 'from'],
      [dst, 'to'],
    ] as const) {
      const via = this.linkOnTheWay(p);
      if (via) throw new InputError(`${field}.${f}: "${p}" goes through the symbolic link "${via}"`);
    }
    if (dst === src || dst.startsWith(`${src}/`))
      throw new InputError(`${field}.to: "${dst}" is inside "${src}"`);
    const moving = this.list().filter((e) => e.path === src || e.path.startsWith(`${src}/`));
    if (moving.length === 0) throw new InputError(`${field}.from: "${src}" is not in the workspace`);
    const clash = this.list().filter((e) => e.path === dst || e.path.startsWith(`${dst}/`));
    if (clash.length && !opts.overwrite)
      throw new InputError(`${field}.to: "${dst}" already exists; set overwrite: true to replace it`);
    const saved = new Map(this.entries);
    const savedBytes = this.bytes;
    try {
      for (const c of clash) this.remove(c.path, `${field}.to`);
      for (const m of moving) this.remove(m.path, `${field}.from`);
      for (const m of moving) {
        const target = m.path === src ? dst : `${dst}${m.path.slice(src.length)}`;
        this.put(target, m.entry, { field: `${field}.to` });
      }
    } catch (err) {
      this.entries.clear();
      for (const [k, v] of saved) this.entries.set(k, v);
      this.bytes = savedBytes;
      throw err;
    }
    return moving.length;
  }

  /** Entries under `prefix` ('' = all), sorted, with paths relative to the prefix. */
  list(prefix = ''): { path: string; entry: WorkspaceEntry }[] {
    const p = safeRelative(prefix, 'path');
    const out: { path: string; entry: WorkspaceEntry }[] = [];
    for (const [k, entry] of this.entries) {
      if (p === '' || k.startsWith(`${p}/`)) out.push({ path: p === '' ? k : k.slice(p.length + 1), entry });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
