/**
 * catalog:write, as Backstage's: write an entity as a YAML descriptor into the workspace (`filePath`,
 * default catalog-info.yaml). The entity is validated first (kind schemas), so a broken descriptor fails
 * the step that wrote it, naming the field, instead of the registration later.
 */
import { validateEntity } from '@bank/catalog';
import { InputError } from '@bank/plugin-kit';
import { stringify } from 'yaml';
import { safeRelative } from '../paths.ts';
import type { Action } from '../types.ts';

export const catalogWrite: Action = {
  id: 'catalog:write',
  description:
    'Write a catalogue entity descriptor into the workspace (entity, filePath = catalog-info.yaml)',
  async handler(ctx) {
    // `component` is the input's name in older Backstage templates (software-templates' rails-demo).
    const older = ctx.input.entity === undefined && ctx.input.component !== undefined;
    if (older) ctx.log('input "component" read as "entity" (its older name)');
    const entity = older ? ctx.input.component : ctx.input.entity;
    if (!entity || typeof entity !== 'object' || Array.isArray(entity))
      throw new InputError(`${ctx.field}.entity: must be an entity (apiVersion, kind, metadata, spec)`);
    const filePath = safeRelative(
      typeof ctx.input.filePath === 'string' && ctx.input.filePath ? ctx.input.filePath : 'catalog-info.yaml',
      `${ctx.field}.filePath`,
    );
    const via = ctx.workspace.linkOnTheWay(filePath);
    if (via)
      throw new InputError(`${ctx.field}.filePath: "${filePath}" goes through the symbolic link "${via}"`);
    const problems = await validateEntity(entity);
    if (problems.length)
      throw new InputError(
        `${ctx.field}.entity: ${problems.map((p) => `${p.path.length ? `${p.path.join('.')}: ` : ''}${p.message}`).join('; ')}`,
      );
    ctx.workspace.write(filePath, stringify(entity, { lineWidth: 0 }), {
      replace: true,
      field: `${ctx.field}.filePath`,
    });
    ctx.log(`wrote ${filePath}`);
  },
};
