// biome-ignore-all lint/suspicious/noTemplateCurlyInString: template syntax in strings is what these tests feed the action
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Template } from '../template.ts';
import { fetchTemplate } from './fetch-template.ts';
import { makeContext } from './testing.ts';

/** A template directory with a skeleton of these files (a value starting with "->" is a symbolic link). */
function templateWith(files: Record<string, string>): Template {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'fetch-template-')));
  for (const [rel, text] of Object.entries(files)) {
    const abs = path.join(dir, 'skeleton', rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    if (text.startsWith('->')) symlinkSync(text.slice(2), abs);
    else writeFileSync(abs, text);
  }
  return { name: 't', version: '1', dir, dirName: path.basename(dir) } as unknown as Template;
}

const text = (ctx: ReturnType<typeof makeContext>, rel: string) => {
  const e = ctx.workspace.get(rel);
  return e?.kind === 'file' ? e.content.toString('utf8') : e;
};

describe('fetch:template', () => {
  it('renders paths and file contents with the values; copyWithoutTemplating files and links are copied as they are', async () => {
    const template = templateWith({
      '${{ values.name }}.md': '# ${{ values.name | upper }}',
      'docs/raw.md': 'kept: ${{ values.name }}',
      'latest.md': '->docs/raw.md',
    });
    const ctx = makeContext({
      url: './skeleton',
      targetPath: 'out',
      values: { name: 'ledger' },
      copyWithoutTemplating: ['docs/**'],
    });
    ctx.template = template;
    await fetchTemplate.handler(ctx);
    assert.equal(text(ctx, 'out/ledger.md'), '# LEDGER');
    assert.equal(text(ctx, 'out/docs/raw.md'), 'kept: ${{ values.name }}');
    assert.deepEqual(ctx.workspace.get('out/latest.md'), { kind: 'symlink', target: 'docs/raw.md' });
    assert.match(ctx.logs.at(-1) ?? '', /3 entries .* \(1 rendered\)/);
  });

  it('with templateFileExtension renders only the .njk files and drops the extension', async () => {
    const template = templateWith({
      'a.ts.njk': 'const name = "${{ values.name }}";',
      'b.ts': '${{ left }}',
    });
    const ctx = makeContext({ url: './skeleton', templateFileExtension: true, values: { name: 'cards' } });
    ctx.template = template;
    await fetchTemplate.handler(ctx);
    assert.equal(text(ctx, 'a.ts'), 'const name = "cards";');
    assert.equal(text(ctx, 'b.ts'), '${{ left }}');
  });

  it('refuses a path out of the template and a link out of the skeleton, naming the field', async () => {
    const template = templateWith({ 'ok.md': 'x', 'escape.md': '->../../../etc/passwd' });
    for (const [url, re] of [
      ['../../elsewhere', /spec\.steps\[0\]\.input\.url/],
      ['./skeleton', /escape\.md: symbolic link points outside the template/],
    ] as const) {
      const ctx = makeContext({ url });
      ctx.template = template;
      await assert.rejects(fetchTemplate.handler(ctx), re);
      assert.equal(ctx.workspace.size, 0, `${url}: nothing written`);
    }
  });
});
