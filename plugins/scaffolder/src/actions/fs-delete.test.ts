import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Workspace } from '../workspace.ts';
import { fsDelete } from './fs-delete.ts';
import { makeContext } from './testing.ts';

function workspace(): Workspace {
  const ws = new Workspace();
  ws.write('README.md', 'readme');
  ws.write('src/a.ts', 'a');
  ws.write('src/b.test.ts', 'b');
  ws.write('src/deep/c.test.ts', 'c');
  ws.write('keep/secret.txt', 'keep me');
  ws.symlink('link', 'keep');
  return ws;
}
const paths = (ws: Workspace) => ws.list().map((e) => e.path);

describe('fs:delete', () => {
  it('deletes files, directories and glob matches, and says what it deleted', async () => {
    const ws = workspace();
    const ctx = makeContext({ files: ['README.md', 'src/**/*.test.ts', 'missing.txt'] }, { workspace: ws });
    await fsDelete.handler(ctx);
    assert.deepEqual(paths(ws), ['keep/secret.txt', 'link', 'src/a.ts']);
    assert.equal(ctx.outputs.deleted, 3);
    assert.ok(ctx.logs.includes('missing.txt: not in the workspace'));
    await fsDelete.handler(makeContext({ files: ['src'] }, { workspace: ws }));
    assert.deepEqual(paths(ws), ['keep/secret.txt', 'link']);
  });

  it('deletes a symbolic link itself, never what it points to', async () => {
    const ws = workspace();
    await fsDelete.handler(makeContext({ files: ['link'] }, { workspace: ws }));
    assert.deepEqual(paths(ws), [
      'README.md',
      'keep/secret.txt',
      'src/a.ts',
      'src/b.test.ts',
      'src/deep/c.test.ts',
    ]);
  });

  it('refuses hostile paths, naming the entry, and deletes nothing', async () => {
    for (const [files, re] of [
      [['../outside'], /files\[0\]: "\.\.\/outside" leaves its directory/],
      [['/etc/passwd'], /files\[0\]: "\/etc\/passwd" is an absolute path/],
      [['ok.txt', 'a\0b'], /files\[1\]: contains a NUL byte/],
      [['src/../../x'], /leaves its directory/],
      [['link/secret.txt'], /files\[0\]: "link\/secret\.txt" goes through the symbolic link "link"/],
      [['.'], /refusing to delete the whole workspace/],
      ['README.md', /files: must be a list of paths or globs/],
    ] as const) {
      const ws = workspace();
      await assert.rejects(fsDelete.handler(makeContext({ files }, { workspace: ws })), re);
      assert.equal(ws.size, 6, `nothing deleted for ${JSON.stringify(files)}`);
    }
  });
});
