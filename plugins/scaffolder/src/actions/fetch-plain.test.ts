// biome-ignore-all lint/suspicious/noTemplateCurlyInString: template syntax in strings is what these tests feed the action
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Template } from '../template.ts';
import { fetchPlain } from './fetch-plain.ts';
import { makeContext } from './testing.ts';

describe('fetch:plain', () => {
  it('copies a template directory as it is: nothing rendered, the executable bit kept', async () => {
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'fetch-plain-')));
    mkdirSync(path.join(dir, 'files', '${{ values.name }}'), { recursive: true });
    writeFileSync(path.join(dir, 'files', '${{ values.name }}', 'a.txt'), 'hello ${{ values.name }}');
    writeFileSync(path.join(dir, 'files', 'run.sh'), '#!/bin/sh\n');
    chmodSync(path.join(dir, 'files', 'run.sh'), 0o755);
    const ctx = makeContext({ url: './files', targetPath: 'copy', values: { name: 'ledger' } });
    ctx.template = { name: 't', version: '1', dir, dirName: 't' } as unknown as Template;
    await fetchPlain.handler(ctx);
    assert.deepEqual(
      ctx.workspace.list().map((f) => f.path),
      ['copy/${{ values.name }}/a.txt', 'copy/run.sh'],
    );
    const a = ctx.workspace.get('copy/${{ values.name }}/a.txt');
    assert.equal(a?.kind === 'file' && a.content.toString(), 'hello ${{ values.name }}');
    const run = ctx.workspace.get('copy/run.sh');
    assert.equal(run?.kind === 'file' && run.executable, true);
  });
});
