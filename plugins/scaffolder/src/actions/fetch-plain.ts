import type { Action } from '../types.ts';
import { fetchIntoWorkspace } from './skeleton.ts';

export const fetchPlain: Action = {
  id: 'fetch:plain',
  description: 'Copy a directory of the template into the workspace as-is (url, targetPath)',
  handler: (ctx) => fetchIntoWorkspace(ctx, 'fetch:plain'),
};
