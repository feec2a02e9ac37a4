import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { component, ORG, writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { deployment, FakeKubeApi, kubeconfigFor, pod } from '@bank/plugin-deploys/testing';
import { type RunningServer, startServer } from './server.ts';

/**
 * GET /api/deploys/live through the real portal: PORTAL_K8S_CONTEXTS and a kubeconfig file name a cluster,
 * which is a TEST DOUBLE (FakeKubeApi: a local HTTP server answering list and watch), since no Kubernetes
 * API server can run here. The entity is matched by its backstage.io/kubernetes-id annotation.
 */
describe('live cluster state on /api/deploys/live (Kubernetes API test double)', () => {
  const api = new FakeKubeApi();
  let server: RunningServer;
  let catalog: CatalogService;
  const saved = { KUBECONFIG: process.env.KUBECONFIG, PORTAL_K8S_CONTEXTS: process.env.PORTAL_K8S_CONTEXTS };
  const dir = writeTree({
    'org/catalog-info.yaml': ORG,
    'card-api/catalog-info.yaml': component('card-api').replace(
      '  annotations:\n',
      '  annotations:\n    backstage.io/kubernetes-id: service-card-api\n    bank.io/k8s-manifests: k8s\n',
    ),
    // The repo's desired state: the cluster runs v1.2.8 with 3 replicas; the manifests already say v1.2.9, 4.
    'card-api/k8s/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: { name: service-card-api }
spec:
  replicas: 4
  template:
    spec:
      containers:
      - { name: service-card-api, image: "registry.bank.internal/card-api:v1.2.9" }
`,
    'ledger/catalog-info.yaml': component('ledger'),
  });
  before(async () => {
    await api.start();
    api.deployments.set(
      'card-api',
      deployment('service-card-api', 'service-card-api', {
        replicas: 3,
        ready: 2,
        image: 'registry.bank.internal/card-api:v1.2.8',
      }),
    );
    api.pods.set('a', pod('service-card-api-1', 'service-card-api', 4, true));
    const kubeconfig = path.join(mkdtempSync(path.join(tmpdir(), 'kube-')), 'config');
    writeFileSync(kubeconfig, kubeconfigFor(api.url, 'prod-eu'));
    process.env.KUBECONFIG = kubeconfig;
    process.env.PORTAL_K8S_CONTEXTS = 'prod=prod-eu';
    const store = await CatalogStore.open(
      `file:${path.join(mkdtempSync(path.join(tmpdir(), 'live-')), 'p.db')}`,
    );
    catalog = new CatalogService(store, [dir]);
    await catalog.ingest();
    server = await startServer({ catalog, port: 0, ui: false });
  });
  after(async () => {
    await server.close();
    await catalog.store.close();
    await api.stop().catch(() => {});
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });

  it('shows ready/desired replicas, rollout, restarts and crash loops per environment', async () => {
    let body:
      | {
          configured: boolean;
          kubernetesId: string;
          environments: {
            environment: string;
            state: string;
            workloads: {
              ready: number;
              desired: number;
              rolloutComplete: boolean;
              restarts: number;
              crashLooping: string[];
            }[];
          }[];
        }
      | undefined;
    const start = Date.now();
    for (;;) {
      body = await (await fetch(`${server.url}/api/deploys/live?service=card-api`)).json();
      if (body?.environments[0]?.state === 'live' && body.environments[0].workloads[0]?.restarts === 4) break;
      if (Date.now() - start > 8000) assert.fail(`not live: ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(body.configured, true);
    assert.equal(body.kubernetesId, 'service-card-api');
    const [prod] = body.environments;
    assert.equal(prod.environment, 'prod');
    const w = prod.workloads[0];
    assert.deepEqual([w.ready, w.desired, w.rolloutComplete, w.restarts], [2, 3, false, 4]);
    assert.deepEqual(w.crashLooping, ['service-card-api-1']);
    // A service without the annotation: nothing claimed.
    const ledger = await (await fetch(`${server.url}/api/deploys/live?service=ledger`)).json();
    assert.equal(ledger.kubernetesId, null);
    assert.deepEqual(ledger.environments, []);
    const unknown = await fetch(`${server.url}/api/deploys/live?service=card-apx`);
    assert.equal(unknown.status, 404);
  });

  it('desired (k8s/) vs deployed (last successful deploy) vs live (cluster) side by side, mismatches said', async () => {
    const deploys = server.context.deploys;
    const at = (min: number) => new Date(Date.now() - min * 60_000).toISOString();
    const image = (v: string) => `registry.bank.internal/card-api:${v}`;
    await deploys.record(
      {
        id: 'p1',
        service: 'card-api',
        environment: 'prod',
        version: 'v1.2.8',
        image: image('v1.2.8'),
        status: 'succeeded',
        startedAt: at(60),
        finishedAt: at(55),
      },
      'test',
    );
    await deploys.record(
      {
        id: 's1',
        service: 'card-api',
        environment: 'staging',
        version: 'v1.2.9',
        image: image('v1.2.9'),
        status: 'succeeded',
        startedAt: at(30),
        finishedAt: at(25),
      },
      'test',
    );
    const r = await fetch(`${server.url}/api/deploys/compare?service=card-api`);
    assert.equal(r.status, 200);
    const body = await r.json();
    assert.equal(body.liveConfigured, true);
    assert.equal(body.mismatch, true);
    const env = (name: string) =>
      body.environments.find((e: { environment: string }) => e.environment === name);
    const prod = env('prod');
    assert.deepEqual(
      [prod.desired.workload, prod.desired.image, prod.desired.replicas, prod.desired.file],
      ['service-card-api', image('v1.2.9'), 4, 'deployment.yaml'],
    );
    assert.deepEqual([prod.deployed.version, prod.deployed.image], ['v1.2.8', image('v1.2.8')]);
    assert.deepEqual(
      [prod.live.state, prod.live.images, prod.live.desired, prod.live.ready],
      ['live', [image('v1.2.8')], 3, 2],
    );
    assert.deepEqual(prod.mismatches, [
      `the last successful deploy (v1.2.8) shipped ${image('v1.2.8')}; the manifests in k8s say ${image('v1.2.9')}`,
      `the cluster runs ${image('v1.2.8')}; the manifests say ${image('v1.2.9')}`,
      'the cluster wants 3 replicas; the manifests say 4',
    ]);
    // Staging runs what the manifests say; no cluster is watched for it: nothing claimed, nothing mismatched.
    const staging = env('staging');
    assert.deepEqual([staging.deployed.version, staging.live, staging.mismatches], ['v1.2.9', null, []]);
    // A service with no manifests folder and no deploys: all unknown, no mismatch.
    const ledger = await (await fetch(`${server.url}/api/deploys/compare?service=ledger`)).json();
    assert.equal(ledger.mismatch, false);
    assert.deepEqual(
      ledger.environments.map((e: { desired: unknown; deployed: unknown; live: unknown }) => [
        e.desired,
        e.deployed,
        e.live,
      ]),
      [
        [null, null, null],
        [null, null, null],
      ],
    );
    assert.equal((await fetch(`${server.url}/api/deploys/compare?service=ledgr`)).status, 404);
  });
});
