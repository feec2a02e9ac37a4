import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Transaction } from '../types.ts';
import { Workspace } from '../workspace.ts';
import { type CatalogFixture, catalogFixture } from './catalog-fixture.ts';
import { type CatalogDiff, catalogRegister } from './catalog-register.ts';
import { makeContext as makeAnyContext } from './testing.ts';

/** A context whose template publishes into the bank's estate (so the bank's rules hold: an owner is a Group). */
const makeContext = (...args: Parameters<typeof makeAnyContext>) => {
  const ctx = makeAnyContext(...args);
  ctx.template = { ...ctx.template, steps: [{ action: 'publish:monorepo' }] } as typeof ctx.template;
  return ctx;
};

const descriptor = (owner: string) => `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
spec:
  type: service
  lifecycle: experimental
  owner: ${owner}
  dependsOn: [component:default/ledger]
`;

describe('catalog:register', () => {
  let fx: CatalogFixture;
  before(async () => {
    fx = await catalogFixture();
  });
  after(() => fx.close());

  it('in a dry-run, computes the diff from the workspace: the new entity, its relations and the reverse ones', async () => {
    const ws = new Workspace();
    ws.write('catalog-info.yaml', descriptor('group:default/ledger'));
    const ctx = makeContext(
      { catalogInfoPath: '/catalog-info.yaml' },
      { workspace: ws, env: fx.env, dryRun: true },
    );
    await catalogRegister.handler(ctx);
    const diff = ctx.outputs.diff as CatalogDiff;
    assert.deepEqual(
      diff.added.map((a) => a.ref),
      ['component:default/payments'],
    );
    assert.ok(
      diff.added[0].relations.some(
        (r) => r.type === 'dependsOn' && r.targetRef === 'component:default/ledger',
      ),
    );
    assert.ok(
      diff.relationsAdded.some(
        (r) =>
          r.source === 'component:default/ledger' &&
          r.type === 'dependencyOf' &&
          r.targetRef === 'component:default/payments',
      ),
    );
    assert.equal(fx.catalog.loaded.refs.has('component:default/payments'), false, 'nothing registered');
  });

  it('registers a published descriptor at once; the rollback unregisters it', async () => {
    const dir = path.join(fx.repo.root, 'services/payments');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'catalog-info.yaml'), descriptor('group:default/ledger'));
    const tx = new Transaction();
    const ctx = makeContext({ catalogInfoPath: 'services/payments/catalog-info.yaml' }, { env: fx.env, tx });
    await catalogRegister.handler(ctx);
    assert.equal(ctx.outputs.entityRef, 'component:default/payments');
    assert.ok(fx.catalog.loaded.refs.has('component:default/payments'));
    await tx.rollback(() => undefined);
    assert.equal(fx.catalog.loaded.refs.has('component:default/payments'), false);
  });

  it('refuses an owner not in the catalogue (with the closest and the line), and what is already registered', async () => {
    const ws = new Workspace();
    ws.write('catalog-info.yaml', descriptor('group:default/ledgr'));
    const dry = { workspace: ws, env: fx.env, dryRun: true };
    await assert.rejects(
      catalogRegister.handler(makeContext({ catalogInfoPath: 'catalog-info.yaml' }, dry)),
      /catalog-info\.yaml: spec\.owner: .*ledgr.*group:default\/ledger/,
    );
    ws.write(
      'catalog-info.yaml',
      descriptor('group:default/ledger').replace('name: payments', 'name: ledger'),
      {
        replace: true,
      },
    );
    await assert.rejects(
      catalogRegister.handler(makeContext({ catalogInfoPath: 'catalog-info.yaml' }, dry)),
      /component:default\/ledger already exists in the catalogue/,
    );
  });
});
