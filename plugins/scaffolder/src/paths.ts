/**
 * Path confinement: one function for every path the scaffolder reads or writes. A path is refused when it
 * is absolute, holds a NUL byte or a `..` that leaves the root, or when — after resolving every symlink of
 * its nearest existing ancestor — it is not inside the root's real path.
 */
import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '@bank/plugin-kit';

export class PathError extends InputError {}

/** Check a relative path's shape (no absolute, no NUL, no `..` escape) and normalise it to POSIX. */
export function safeRelative(rel: string, field: string): string {
  if (typeof rel !== 'string') throw new PathError(`${field}: must be a relative path`);
  if (rel.includes('\0')) throw new PathError(`${field}: contains a NUL byte`);
  if (path.isAbsolute(rel) || /^[A-Za-z]:[\\/]/.test(rel) || rel.startsWith('\\')) {
    throw new PathError(
      `${field}: "${rel}" is an absolute path; only paths relative to the template or service are allowed`,
    );
  }
  const norm = path.posix.normalize(rel.replace(/\\/g, '/'));
  if (norm === '..' || norm.startsWith('../')) {
    throw new PathError(`${field}: "${rel}" leaves its directory ("..")`);
  }
  return norm === '.' ? '' : norm.replace(/\/$/, '');
}

/** The nearest existing ancestor of `abs` (itself if it exists), found with lstat so links are not followed. */
function nearestExisting(abs: string): string {
  let p = abs;
  for (;;) {
    try {
      lstatSync(p);
      return p;
    } catch {
      const parent = path.dirname(p);
      if (parent === p) return p;
      p = parent;
    }
  }
}

/**
 * `root/rel` as an absolute path, refused unless it stays inside `root` once symlinks are resolved.
 * Call it again immediately before each operation: a link may have appeared since the last check.
 */
export function resolveSafeChildPath(root: string, rel: string, field = 'path'): string {
  const clean = safeRelative(rel, field);
  const realRoot = realpathSync(root);
  const target = path.resolve(realRoot, clean);
  if (target !== realRoot && !target.startsWith(realRoot + path.sep)) {
    throw new PathError(`${field}: "${rel}" leaves ${root}`);
  }
  const existing = nearestExisting(target);
  let real: string;
  try {
    real = realpathSync(existing);
  } catch {
    // A dangling link on the way: refuse rather than guess where it will point.
    throw new PathError(`${field}: "${rel}" goes through a dangling symbolic link (${existing})`);
  }
  const rest = path.relative(existing, target);
  const full = rest ? path.join(real, rest) : real;
  if (full !== realRoot && !full.startsWith(realRoot + path.sep)) {
    throw new PathError(
      `${field}: "${rel}" resolves outside ${root} through a symbolic link (${existing} → ${real})`,
    );
  }
  return target;
}

/** Is `p` inside (or equal to) `root`, lexically? */
export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
