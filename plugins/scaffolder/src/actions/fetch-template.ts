import type { Action } from '../types.ts';
import { fetchIntoWorkspace } from './skeleton.ts';

export const fetchTemplate: Action = {
  id: 'fetch:template',
  description:
    'Render a skeleton directory of the template into the workspace (url, targetPath, values, copyWithoutTemplating, templateFileExtension, replace)',
  handler: (ctx) => fetchIntoWorkspace(ctx, 'fetch:template'),
};
