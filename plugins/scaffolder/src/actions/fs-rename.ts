/**
 * fs:rename, as Backstage's: move files or directories inside the workspace (`files: [{from, to,
 * overwrite}]`). Both paths stay inside the workspace and go through none of its symbolic links; an
 * existing target is replaced only with `overwrite: true`.
 */
import { InputError } from '@bank/plugin-kit';
import type { Action } from '../types.ts';

export const fsRename: Action = {
  id: 'fs:rename',
  description: 'Rename or move files and directories inside the workspace (files: [{from, to, overwrite}])',
  async handler(ctx) {
    const files = ctx.input.files;
    if (!Array.isArray(files))
      throw new InputError(`${ctx.field}.files: must be a list of {from, to, overwrite?}`);
    for (const [i, raw] of files.entries()) {
      const field = `${ctx.field}.files[${i}]`;
      const f = raw as { from?: unknown; to?: unknown; overwrite?: unknown };
      if (typeof f?.from !== 'string' || !f.from) throw new InputError(`${field}.from: is required`);
      if (typeof f.to !== 'string' || !f.to) throw new InputError(`${field}.to: is required`);
      const n = ctx.workspace.move(f.from, f.to, { overwrite: f.overwrite === true, field });
      ctx.log(`renamed ${f.from} to ${f.to}${n > 1 ? ` (${n} entries)` : ''}`);
    }
  },
};
