import type { Action } from '../types.ts';

export const debugLog: Action = {
  id: 'debug:log',
  description: 'Write a message to the task log; listWorkspace: true lists the workspace files',
  async handler(ctx) {
    const message = ctx.input.message;
    if (message !== undefined) ctx.log(typeof message === 'string' ? message : JSON.stringify(message));
    if (ctx.input.listWorkspace === true) {
      for (const f of ctx.workspace.list())
        ctx.log(`  ${f.path}${f.entry.kind === 'symlink' ? ` -> ${f.entry.target}` : ''}`);
    }
  },
};
