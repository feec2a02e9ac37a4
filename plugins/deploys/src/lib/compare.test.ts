import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareEnvironment, desiredWorkload } from './compare.ts';
import type { LiveEnvironment } from './k8s-live.ts';
import type { Deploy } from './model.ts';

const img = (v: string) => `registry.bank.internal/feed:${v}`;
const manifests = desiredWorkload({
  dir: 'k8s',
  problems: [],
  workloads: [
    {
      kind: 'CronJob',
      name: 'feed-cleanup',
      replicas: null,
      containers: [{ name: 'c', image: img('job') }],
      file: 'cron.yaml',
    },
    {
      kind: 'Deployment',
      name: 'service-feed',
      replicas: 3,
      containers: [
        { name: 'linkerd-proxy', image: 'linkerd/proxy:2' },
        { name: 'service-feed', image: img('v2') },
      ],
      file: 'deployment.yaml',
    },
  ],
});
const running = (v: string): Deploy => ({
  id: `d-${v}`,
  service: 'component:default/feed',
  environment: 'prod',
  version: v,
  image: img(v),
  commit: null,
  actor: 'ana',
  status: 'succeeded',
  startedAt: '2026-12-04T10:00:00.000Z',
  finishedAt: '2026-12-04T10:05:00.000Z',
  source: 'api',
  labels: {},
  recordedBy: 'token:ci',
  receivedAt: '2026-12-04T10:05:00.000Z',
});
const cluster = (
  over: Partial<LiveEnvironment> = {},
  images = [img('v2')],
  desired = 3,
): LiveEnvironment => ({
  environment: 'prod',
  context: 'prod-eu',
  state: 'live',
  since: '2026-12-04T09:00:00.000Z',
  changes: 3,
  workloads: [
    {
      namespace: 'default',
      name: 'service-feed',
      desired,
      ready: desired,
      updated: desired,
      available: desired,
      rolloutComplete: true,
      images,
      restarts: 0,
      crashLooping: [],
      replicaSets: 1,
    },
  ],
  ...over,
});

describe('desired vs deployed vs live', () => {
  it('takes the Deployment of the manifests and its own container (not a sidecar, not a CronJob)', () => {
    assert.deepEqual(
      [manifests.workload, manifests.image, manifests.replicas, manifests.file],
      ['service-feed', img('v2'), 3, 'deployment.yaml'],
    );
  });

  it('all three agree: no mismatch', () => {
    assert.deepEqual(compareEnvironment('prod', manifests, running('v2'), cluster()).mismatches, []);
  });

  it('a cluster whose state is unknown is said so and never compared as 0 replicas', () => {
    const c = compareEnvironment(
      'prod',
      manifests,
      running('v1'),
      cluster({ state: 'unknown', workloads: [], error: 'ECONNREFUSED' }),
    );
    assert.deepEqual([c.live?.state, c.live?.desired, c.live?.error], ['unknown', null, 'ECONNREFUSED']);
    assert.deepEqual(c.mismatches, [
      `the last successful deploy (v1) shipped ${img('v1')}; the manifests in k8s say ${img('v2')}`,
    ]);
  });

  it('a deploy the cluster does not run, and a cluster without the Deployment, are mismatches', () => {
    const drift = compareEnvironment('prod', manifests, running('v2'), cluster({}, [img('v1')], 2));
    assert.deepEqual(drift.mismatches, [
      `the cluster runs ${img('v1')}; the last successful deploy (v2) shipped ${img('v2')}`,
      `the cluster runs ${img('v1')}; the manifests say ${img('v2')}`,
      'the cluster wants 2 replicas; the manifests say 3',
    ]);
    const gone = compareEnvironment('prod', manifests, running('v2'), cluster({ workloads: [] }));
    assert.deepEqual(gone.mismatches, ['deployed v2, but the cluster runs no matching Deployment']);
  });

  it('no manifests, no deploy, no cluster: nothing known, nothing claimed', () => {
    assert.deepEqual(compareEnvironment('staging', null, null, undefined), {
      environment: 'staging',
      desired: null,
      deployed: null,
      live: null,
      mismatches: [],
    });
  });
});
