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
