import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { readCatalogTree } from '../ingest/read-tree.ts';
import {
  component,
  componentSpec,
  descriptorText,
  type EntitySpec,
  ORG_SPECS,
  toEntities,
  writeTestEstate,
} from './estate.ts';

const ESTATE: EntitySpec[] = [
  ...ORG_SPECS,
  { kind: 'Group', name: 'payments', type: 'collective', parent: 'bank' },
  { kind: 'Group', name: 'card-processing', parent: 'payments', profile: { email: 'cards@bank.example' } },
  { kind: 'User', name: 'ana', memberOf: ['card-processing'] },
  componentSpec('card-api', {
    owner: 'card-processing',
    tier: 1,
    oncall: 'payments-card',
    runbook: 'https://runbooks.bank.example/card-api',
    slack: '#card-api',
    dependsOn: ['component:cards'],
  }),
  componentSpec('cards', {
    owner: 'card-processing',
    system: 'cards',
    dependsOn: ['resource:cards-db'],
    consumesApis: ['ledger-rpc'],
  }),
  componentSpec('ledger', { providesApis: ['ledger-rpc'], manifests: './k8s' }),
  { kind: 'API', name: 'ledger-rpc', type: 'grpc', owner: 'ledger', file: 'ledger/catalog-info.yaml' },
  {
    kind: 'Resource',
    name: 'cards-db',
    type: 'database',
    owner: 'card-processing',
    file: 'cards/catalog-info.yaml',
  },
  { kind: 'System', name: 'cards', owner: 'card-processing', file: 'cards/catalog-info.yaml' },
];

const relationsOf = (entities: { metadata: { name: string }; kind: string; relations?: object[] }[]) =>
  Object.fromEntries(
    entities.map((e) => [
      `${e.kind.toLowerCase()}:${e.metadata.name}`,
      (e.relations as { type: string; targetRef: string }[]).map((r) => `${r.type} ${r.targetRef}`).sort(),
    ]),
  );

describe('the test estate builder', () => {
  it('gives the same estate as entities and as a descriptor tree: what ingest reads has the relations toEntities computes', async () => {
    const dir = writeTestEstate({
      entities: ESTATE,
      files: { 'ledger/k8s/deployment.yaml': 'kind: Deployment\n' },
    });
    try {
      const read = await readCatalogTree(dir);
      assert.deepEqual(read.errors, []);
      const built = toEntities(ESTATE);
      assert.deepEqual(relationsOf(read.entities), relationsOf(built));
      const annotations = (name: string, entities: typeof built) =>
        Object.entries(
          entities.find((e) => e.kind === 'Component' && e.metadata.name === name)?.metadata.annotations ??
            {},
        ).filter(([k]) => k.startsWith('bank.io/'));
      for (const name of ['card-api', 'cards', 'ledger'])
        assert.deepEqual(annotations(name, read.entities), annotations(name, built), name);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes descriptors as people do, and text a plain scalar would misread comes back as written', () => {
    assert.equal(
      component('cards', { owner: 'accounts', dependsOn: ['component:ledger'] }),
      [
        'apiVersion: backstage.io/v1alpha1',
        'kind: Component',
        'metadata:',
        '  name: cards',
        '  description: The cards service',
        '  annotations:',
        '    bank.io/tier: "2"',
        'spec:',
        '  type: service',
        '  lifecycle: production',
        '  owner: accounts',
        '  dependsOn: [component:ledger]',
        '',
      ].join('\n'),
    );
    const odd: EntitySpec = {
      kind: 'Component',
      name: 'feed',
      description: "<script>alert('x')</script>: yes # no",
      tags: ['true', '1.0', 'a, b', '#x'],
      links: [{ url: 'https://feed.bank.example', title: '- [b]' }],
      slack: '#feed',
      annotations: { 'bank.io/empty': '', 'bank.io/multi': 'one\ntwo' },
    };
    const [doc] = parseAllDocuments(descriptorText([odd])).map((d) => d.toJS());
    assert.equal(doc.metadata.description, odd.description);
    assert.deepEqual(doc.metadata.tags, odd.tags);
    assert.deepEqual(doc.metadata.links, odd.links);
    assert.equal(doc.metadata.annotations['bank.io/slack-channel'], '#feed');
    assert.equal(doc.metadata.annotations['bank.io/empty'], '');
    assert.equal(doc.metadata.annotations['bank.io/multi'], 'one\ntwo');
  });
});
