import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

describe('test temp folders', () => {
  it('are there while the test process runs and gone once it exits', () => {
    const script = `
      import { existsSync } from 'node:fs';
      import { writeTree } from ${JSON.stringify(path.join(import.meta.dirname, 'tree.ts'))};
      const dir = writeTree({ 'a/catalog-info.yaml': 'x' });
      console.log(dir, existsSync(dir));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const [dir, existed] = r.stdout.trim().split(' ');
    assert.equal(existed, 'true');
    assert.equal(existsSync(dir), false, `${dir} was left behind`);
  });
});
