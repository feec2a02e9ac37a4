/**
 * fs:delete, as Backstage's: remove files or directories from the workspace. `files` are paths or globs
 * (`*`, `**`, `?`) relative to the workspace; a path that leaves it, is absolute, or goes through one of
 * its symbolic links is refused, and a link itself is removed, never what it points to.
 */

import { InputError } from '@bank/plugin-kit';
import { safeRelative } from '../paths.ts';
import type { Action } from '../types.ts';
import { globToRegExp } from './skeleton.ts';

export const fsDelete: Action = {
  id: 'fs:delete',
  description: 'Delete files or directories from the workspace (files: paths or globs inside the workspace)',
  async handler(ctx) {
    const files = ctx.input.files;
    if (!Array.isArray(files) || files.some((f) => typeof f !== 'string'))
      throw new InputError(`${ctx.field}.files: must be a list of paths or globs`);
    let removed = 0;
    for (const [i, raw] of (files as string[]).entries()) {
      const field = `${ctx.field}.files[${i}]`;
      const clean = safeRelative(raw, field);
      if (/[*?]/.test(clean)) {
        const re = globToRegExp(clean);
        const matched = ctx.workspace.list().filter((e) => re.test(e.path));
        // A glob matching inside a link's directory is refused like a plain path would be.
        for (const m of matched) {
          const via = ctx.workspace.linkOnTheWay(m.path);
          if (via) throw new InputError(`${field}: "${m.path}" goes through the symbolic link "${via}"`);
        }
        for (const m of matched)
          if (ctx.workspace.get(m.path)) removed += ctx.workspace.remove(m.path, field).length;
        ctx.log(
          `${raw}: ${matched.length ? `deleted ${matched.map((m) => m.path).join(', ')}` : 'nothing matched'}`,
        );
      } else {
        const gone = ctx.workspace.remove(clean, field);
        removed += gone.length;
        ctx.log(`${raw}: ${gone.length ? `deleted ${gone.join(', ')}` : 'not in the workspace'}`);
      }
    }
    ctx.output('deleted', removed);
  },
};
