import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Workspace } from '../workspace.ts';
import { fsRename } from './fs-rename.ts';
import { makeContext } from './testing.ts';

function workspace(): Workspace {
  const ws = new Workspace();
  ws.write('a.txt', 'A');
  ws.write('b.txt', 'B');
  ws.write('dir/x.txt', 'X', { executable: true });
  ws.write('dir/sub/y.txt', 'Y');
  ws.write('real/z.txt', 'Z');
  ws.symlink('link', 'real');
  return ws;
}
const text = (ws: Workspace, p: string) => {
  const e = ws.get(p);
  return e?.kind === 'file' ? e.content.toString() : e?.kind;
};

describe('fs:rename', () => {
  it('moves files and whole directories, keeping contents and modes', async () => {
    const ws = workspace();
    await fsRename.handler(
      makeContext(
        {
          files: [
            { from: 'a.txt', to: 'docs/a.md' },
            { from: 'dir', to: 'lib' },
          ],
        },
        { workspace: ws },
      ),
    );
    assert.deepEqual(
      ws.list().map((e) => e.path),
      ['b.txt', 'docs/a.md', 'lib/sub/y.txt', 'lib/x.txt', 'link', 'real/z.txt'],
    );
    assert.equal(text(ws, 'docs/a.md'), 'A');
    assert.equal((ws.get('lib/x.txt') as { executable: boolean }).executable, true);
  });

  it('replaces an existing target only with overwrite: true', async () => {
    const ws = workspace();
    await assert.rejects(
      fsRename.handler(makeContext({ files: [{ from: 'a.txt', to: 'b.txt' }] }, { workspace: ws })),
      /files\[0\]\.to: "b\.txt" already exists; set overwrite: true/,
    );
    assert.equal(text(ws, 'b.txt'), 'B');
    await fsRename.handler(
      makeContext({ files: [{ from: 'a.txt', to: 'b.txt', overwrite: true }] }, { workspace: ws }),
    );
    assert.equal(text(ws, 'b.txt'), 'A');
    assert.equal(ws.get('a.txt'), undefined);
  });

  it('refuses hostile paths and paths through links, changing nothing', async () => {
    for (const [f, re] of [
      [{ from: 'a.txt', to: '../a.txt' }, /files\[0\]\.to: "\.\.\/a\.txt" leaves its directory/],
      [{ from: '/etc/passwd', to: 'p' }, /files\[0\]\.from: "\/etc\/passwd" is an absolute path/],
      [
        { from: 'a.txt', to: 'link/a.txt' },
        /files\[0\]\.to: "link\/a\.txt" goes through the symbolic link "link"/,
      ],
      [
        { from: 'link/z.txt', to: 'z.txt' },
        /files\[0\]\.from: "link\/z\.txt" goes through the symbolic link "link"/,
      ],
      [{ from: 'dir', to: 'dir/sub/again' }, /is inside "dir"/],
      [{ from: 'nope', to: 'x' }, /files\[0\]\.from: "nope" is not in the workspace/],
      [{ from: 'a.txt' }, /files\[0\]\.to: is required/],
      [{ from: 'a.txt', to: 'a\0' }, /contains a NUL byte/],
    ] as const) {
      const ws = workspace();
      const before = JSON.stringify(ws.list());
      await assert.rejects(fsRename.handler(makeContext({ files: [f] }, { workspace: ws })), re);
      assert.equal(JSON.stringify(ws.list()), before, `nothing changed for ${JSON.stringify(f)}`);
    }
  });
});
