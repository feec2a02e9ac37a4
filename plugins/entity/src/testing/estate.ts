import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CatalogStore } from '@bank/catalog';
import { type EstateSpec, writeTestEstate } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';

const LEDGER_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: service-ledger }
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: ledger
          image: registry.bank.internal/ledger:v1.2.3
          resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { memory: 256Mi } }
          ports: [{ containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: service-ledger }
spec: { ports: [{ port: 80 }] }
`;

const groups = 'org/groups.yaml';
const users = 'org/users.yaml';

/**
 * A small estate on disk for the UI plugins' tests (built with the shared test estate builder): two
 * collectives, three squads (one without people), a call chain card-api → cards → ledger, an unconnected
 * service, hostile text, and a manifests annotation that tries to leave its folder.
 */
const ESTATE: EstateSpec = {
  entities: [
    {
      kind: 'Location',
      name: 'test-estate',
      file: 'catalog-info.yaml',
      targets: [`./${groups}`, `./${users}`],
    },
    { kind: 'Group', name: 'bank', title: 'The Bank', type: 'organization', file: groups },
    { kind: 'Group', name: 'payments', title: 'Payments', type: 'collective', parent: 'bank', file: groups },
    {
      kind: 'Group',
      name: 'core-banking',
      title: 'Core Banking',
      type: 'collective',
      parent: 'bank',
      file: groups,
    },
    { kind: 'Group', name: 'card-processing', title: 'Card Processing', parent: 'payments', file: groups },
    {
      kind: 'Group',
      name: 'ledger',
      title: 'Ledger',
      parent: 'core-banking',
      profile: { email: 'ledger@bank.example' },
      file: groups,
    },
    { kind: 'Group', name: 'ghosts', title: 'Ghosts', parent: 'core-banking', file: groups },
    {
      kind: 'User',
      name: 'alice',
      profile: { displayName: 'Alice Adams', email: 'alice@bank.example' },
      memberOf: ['card-processing'],
      file: users,
    },
    { kind: 'User', name: 'bob', profile: { displayName: 'Bob Brown' }, memberOf: ['ledger'], file: users },
    {
      kind: 'Component',
      name: 'card-api',
      title: 'Card API',
      tags: ['payments'],
      tier: 1,
      oncall: 'payments-cards',
      runbook: 'https://runbooks.bank.internal/card-api',
      owner: 'group:default/card-processing',
      system: 'cards',
      dependsOn: ['component:cards'],
    },
    {
      kind: 'System',
      name: 'cards',
      owner: 'group:default/card-processing',
      file: 'card-api/catalog-info.yaml',
    },
    {
      kind: 'Component',
      name: 'cards',
      tier: 1,
      owner: 'group:default/card-processing',
      system: 'cards',
      consumesApis: ['ledger-rpc'],
      dependsOn: ['resource:cards-db'],
    },
    {
      kind: 'Resource',
      name: 'cards-db',
      type: 'postgres-database',
      owner: 'group:default/card-processing',
      system: 'cards',
      file: 'cards/catalog-info.yaml',
    },
    {
      kind: 'Component',
      name: 'ledger',
      description: 'The double-entry ledger.',
      tier: 1,
      manifests: './k8s',
      slack: '#squad-ledger',
      language: 'go',
      owner: 'group:default/ledger',
      providesApis: ['ledger-rpc'],
    },
    {
      kind: 'API',
      name: 'ledger-rpc',
      type: 'grpc',
      owner: 'group:default/ledger',
      definition: 'service Ledger {}',
      file: 'ledger/catalog-info.yaml',
    },
    {
      kind: 'Component',
      name: 'feed',
      description: "<img src=x onerror=alert(1)><script>alert('xss')</script> Feed",
      links: [{ url: 'https://feed.bank.internal', title: '<b>Dashboard</b>' }],
      tier: 3,
      manifests: '../../etc',
      lifecycle: 'experimental',
      owner: 'group:default/ghosts',
    },
  ],
  files: { 'ledger/k8s/deployment.yaml': LEDGER_DEPLOYMENT },
};

export interface TestCatalog {
  root: string;
  catalog: CatalogService;
  cleanup(): void;
}

export async function testCatalog(): Promise<TestCatalog> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ui-plugins-'));
  const root = path.join(dir, 'estate');
  writeTestEstate(ESTATE, root);
  const store = await CatalogStore.open(`file:${path.join(dir, 'portal.db')}`);
  const catalog = new CatalogService(store, [root]);
  const result = await catalog.ingest();
  if (result.errors.length > 0)
    throw new Error(`fixture does not ingest: ${JSON.stringify(result.errors, null, 2)}`);
  return { root, catalog, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
