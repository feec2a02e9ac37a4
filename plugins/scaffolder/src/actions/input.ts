/** Reading an action's input: each value checked, and an error naming the field it came from. */
import { InputError } from '@bank/plugin-kit';
import type { ActionContext } from '../types.ts';

export class ActionError extends InputError {}

export function str(
  ctx: ActionContext,
  key: string,
  opts: { required?: boolean; fallback?: string } = {},
): string {
  const v = ctx.input[key];
  if (v === undefined || v === null || v === '') {
    if (opts.required) throw new ActionError(`${ctx.field}.${key}: is required`);
    return opts.fallback ?? '';
  }
  if (typeof v !== 'string') throw new ActionError(`${ctx.field}.${key}: must be a string, got ${typeof v}`);
  return v;
}

export function strList(ctx: ActionContext, key: string): string[] {
  const v = ctx.input[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new ActionError(`${ctx.field}.${key}: must be a list of strings`);
  return v as string[];
}
