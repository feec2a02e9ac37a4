import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { Workspace } from '../workspace.ts';
import { catalogWrite } from './catalog-write.ts';
import { makeContext } from './testing.ts';

const entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'payments-api', annotations: { 'github.com/project-slug': 'acme/payments-api' } },
  spec: { type: 'service', lifecycle: 'experimental', owner: 'group:default/payments' },
};

describe('catalog:write', () => {
  it('writes the entity as YAML to catalog-info.yaml, or filePath, replacing what the skeleton had', async () => {
    const ws = new Workspace();
    ws.write('catalog-info.yaml', 'old');
    await catalogWrite.handler(makeContext({ entity }, { workspace: ws }));
    const e = ws.get('catalog-info.yaml');
    assert.deepEqual(parse(e?.kind === 'file' ? e.content.toString() : ''), entity);
    await catalogWrite.handler(makeContext({ entity, filePath: 'catalog/entity.yaml' }, { workspace: ws }));
    assert.ok(ws.get('catalog/entity.yaml'));
  });

  it('refuses an invalid entity naming the field, and writes nothing', async () => {
    const ws = new Workspace();
    await assert.rejects(
      catalogWrite.handler(
        makeContext({ entity: { ...entity, metadata: { name: 'Bad Name!' } } }, { workspace: ws }),
      ),
      /spec\.steps\[0\]\.input\.entity: metadata\.name/,
    );
    await assert.rejects(
      catalogWrite.handler(makeContext({ entity: 'kind: Component' }, { workspace: ws })),
      /entity: must be an entity/,
    );
    assert.equal(ws.size, 0);
  });

  it('refuses a filePath that leaves the workspace or goes through a link', async () => {
    const ws = new Workspace();
    ws.symlink('out', '../../etc');
    for (const [filePath, re] of [
      ['../catalog-info.yaml', /filePath: "\.\.\/catalog-info\.yaml" leaves its directory/],
      ['/tmp/x.yaml', /filePath: "\/tmp\/x\.yaml" is an absolute path/],
      ['out/passwd', /filePath: "out\/passwd" goes through the symbolic link "out"/],
    ] as const) {
      await assert.rejects(catalogWrite.handler(makeContext({ entity, filePath }, { workspace: ws })), re);
    }
    assert.equal(ws.size, 1);
  });
});
