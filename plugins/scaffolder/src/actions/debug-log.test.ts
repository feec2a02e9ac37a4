import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Workspace } from '../workspace.ts';
import { debugLog } from './debug-log.ts';
import { makeContext } from './testing.ts';

describe('debug:log', () => {
  it('writes the message to the task log (a mapping as JSON) and, asked, lists the workspace with its links', async () => {
    const ws = new Workspace();
    ws.write('src/main.ts', 'x');
    ws.symlink('current', 'src');
    const ctx = makeContext({ message: 'hello', listWorkspace: true }, { workspace: ws });
    await debugLog.handler(ctx);
    assert.deepEqual(ctx.logs, ['hello', '  current -> src', '  src/main.ts']);
    const json = makeContext({ message: { a: 1 } });
    await debugLog.handler(json);
    assert.deepEqual(json.logs, ['{"a":1}']);
    const quiet = makeContext({});
    await debugLog.handler(quiet);
    assert.deepEqual(quiet.logs, [], 'no message, no listing: nothing logged');
  });
});
