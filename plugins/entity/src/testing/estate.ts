import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';

/**
 * A small estate on disk for the UI plugins' tests: two collectives, three squads (one without people),
 * a call chain card-api → cards → ledger, an unconnected service, hostile text, and a manifests
 * annotation that tries to leave its folder.
 */
const FILES: Record<string, string> = {
  'catalog-info.yaml': `
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: { name: test-estate }
spec: { targets: ["./org/groups.yaml", "./org/users.yaml"] }
`,
  'org/groups.yaml': `
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: bank, title: The Bank }
spec: { type: organization, children: [payments, core-banking] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: payments, title: Payments }
spec: { type: collective, parent: bank, children: [card-processing] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: core-banking, title: Core Banking }
spec: { type: collective, parent: bank, children: [ledger, ghosts] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: card-processing, title: Card Processing }
spec: { type: squad, parent: payments, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: ledger, title: Ledger }
spec: { type: squad, parent: core-banking, children: [], profile: { email: ledger@bank.example } }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: ghosts, title: Ghosts }
spec: { type: squad, parent: core-banking, children: [] }
`,
  'org/users.yaml': `
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: alice }
spec: { profile: { displayName: Alice Adams, email: alice@bank.example }, memberOf: [card-processing] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: bob }
spec: { profile: { displayName: Bob Brown }, memberOf: [ledger] }
`,
  'card-api/catalog-info.yaml': `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: card-api
  title: Card API
  tags: [payments]
  annotations: { bank.io/tier: "1", bank.io/oncall-rota: payments-cards, bank.io/runbook: "https://runbooks.bank.internal/card-api" }
spec: { type: service, lifecycle: production, owner: group:default/card-processing, system: cards, dependsOn: [component:cards] }
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: { name: cards }
spec: { owner: group:default/card-processing }
`,
  'cards/catalog-info.yaml': `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: cards, annotations: { bank.io/tier: "1" } }
spec: { type: service, lifecycle: production, owner: group:default/card-processing, system: cards, consumesApis: [ledger-rpc], dependsOn: [resource:cards-db] }
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: { name: cards-db }
spec: { type: postgres-database, owner: group:default/card-processing, system: cards }
`,
  'ledger/catalog-info.yaml': `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  description: The double-entry ledger.
  annotations: { bank.io/tier: "1", bank.io/k8s-manifests: ./k8s, bank.io/slack-channel: "#squad-ledger", bank.io/language: go }
spec: { type: service, lifecycle: production, owner: group:default/ledger, providesApis: [ledger-rpc] }
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: { name: ledger-rpc }
spec: { type: grpc, lifecycle: production, owner: group:default/ledger, definition: "service Ledger {}" }
`,
  'ledger/k8s/deployment.yaml': `
apiVersion: apps/v1
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
`,
  'feed/catalog-info.yaml': `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: feed
  description: "<img src=x onerror=alert(1)><script>alert('xss')</script> Feed"
  links:
    - { url: "https://feed.bank.internal", title: "<b>Dashboard</b>" }
  annotations: { bank.io/tier: "3", bank.io/k8s-manifests: ../../etc }
spec: { type: service, lifecycle: experimental, owner: group:default/ghosts }
`,
};

export interface TestCatalog {
  root: string;
  catalog: CatalogService;
  cleanup(): void;
}

export async function testCatalog(): Promise<TestCatalog> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ui-plugins-'));
  const root = path.join(dir, 'estate');
  for (const [file, text] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text.trimStart());
  }
  const store = await CatalogStore.open(`file:${path.join(dir, 'portal.db')}`);
  const catalog = new CatalogService(store, [root]);
  const result = await catalog.ingest();
  if (result.errors.length > 0)
    throw new Error(`fixture does not ingest: ${JSON.stringify(result.errors, null, 2)}`);
  return { root, catalog, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
