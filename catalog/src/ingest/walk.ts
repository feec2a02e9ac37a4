import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export const DESCRIPTOR_NAMES = new Set(['catalog-info.yaml', 'catalog-info.yml']);
const SKIP_DIRS = new Set(['node_modules', '.git', '.next', 'dist', 'data', 'k8s', 'skeleton']);

/** A descriptor file found under a root: its path relative to the root (POSIX), and its bytes' hash. */
export interface FoundFile {
  root: string;
  /** Relative to root, POSIX separators: the file's identity in the store. */
  rel: string;
  abs: string;
  bytes: Uint8Array;
  hash: string;
}

export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Whether the tree walk of `root` would find this file (its name, and no skipped or hidden folder on the way). */
export function isDescriptorPath(root: string, abs: string): boolean {
  if (!DESCRIPTOR_NAMES.has(path.basename(abs))) return false;
  const folders = path.relative(root, path.dirname(abs)).split(path.sep).filter(Boolean);
  return !folders.some((f) => f === '..' || SKIP_DIRS.has(f) || f.startsWith('.'));
}

/** Every catalog-info.yaml under `root`, in a stable order. Symlinked directories are not followed. */
export async function findDescriptorFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const subdirs: string[] = [];
    for (const e of entries) {
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) subdirs.push(path.join(dir, e.name));
      } else if (e.isFile() && DESCRIPTOR_NAMES.has(e.name)) {
        found.push(path.join(dir, e.name));
      }
    }
    await Promise.all(subdirs.map(walk));
  }
  const s = await stat(root);
  if (s.isFile()) return [root];
  await walk(root);
  return found.sort();
}

export async function readFound(root: string, abs: string): Promise<FoundFile> {
  const bytes = await readFile(abs);
  return { root, rel: toRel(root, abs), abs, bytes, hash: hashBytes(bytes) };
}

export function toRel(root: string, abs: string): string {
  return path.relative(root, abs).split(path.sep).join('/');
}

/**
 * Real paths found during one ingest (null: the path does not exist), so a Location listing thousands of
 * files resolves its folder once and each target once, however many stages ask. One per run: files move
 * between runs.
 */
export type RealPaths = Map<string, string | null>;

/** The real path of `p` (null when it does not exist), through `memo` when given. */
export async function realPathIn(p: string, memo?: RealPaths): Promise<string | null> {
  const known = memo?.get(p);
  if (known !== undefined) return known;
  let real: string | null;
  try {
    // Synchronous: a thread-pool round trip per target costs more than the system call (as for reads).
    real = realpathSync.native(p);
  } catch {
    real = null;
  }
  memo?.set(p, real);
  return real;
}

/**
 * Resolve a Location target relative to the file that names it, and refuse anything that leaves the
 * ingest root once symlinks are resolved. Returns the absolute path, or an error a person can act on.
 */
export async function resolveLocationTarget(
  root: string,
  fromFile: string,
  target: string,
  memo?: RealPaths,
): Promise<{ abs: string } | { error: string }> {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('file:')) {
    return {
      error: `Location target "${target}" is a URL; a Location read from a file reads URLs only when it says spec.type: url (as in Backstage)`,
    };
  }
  const plain = target.replace(/^file:/, '');
  if (path.isAbsolute(plain)) {
    return {
      error: `Location target "${target}" is an absolute path; use a path relative to ${path.basename(fromFile)}`,
    };
  }
  const abs = path.resolve(path.dirname(fromFile), plain);
  const realRoot = (await realPathIn(root, memo)) ?? (await realpath(root));
  const inside = (p: string) => p === realRoot || p.startsWith(realRoot + path.sep);
  if (!inside(abs)) {
    return {
      error: `Location target "${target}" points outside the catalogue tree (${realRoot}); it was not read`,
    };
  }
  const real = await realPathIn(abs, memo);
  if (real === null)
    return { error: `Location target "${target}" does not exist (looked for ${toRel(root, abs)})` };
  if (!inside(real)) {
    return {
      error: `Location target "${target}" resolves through a symlink to ${real}, outside the catalogue tree (${realRoot}); it was not read`,
    };
  }
  return { abs: real };
}
