import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { deployment, FakeKubeApi, pod } from '../testing/fake-kube-api.ts';
import { ClusterWatch, type LiveEnvironment } from './k8s-live.ts';

async function until(what: string, fn: () => boolean, ms = 8000): Promise<void> {
  const start = Date.now();
  while (!fn()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ClusterWatch: real client-node informers against a Kubernetes API test double', () => {
  const api = new FakeKubeApi();
  let watch: ClusterWatch;
  const prod = (): LiveEnvironment => watch.liveFor('service-card-api')[0];
  before(async () => {
    await api.start();
    api.deployments.set(
      'card-api',
      deployment('service-card-api', 'service-card-api', {
        replicas: 3,
        ready: 3,
        image: 'registry.bank.internal/card-api:v1.2.8',
      }),
    );
    api.deployments.set(
      'ledger',
      deployment('service-ledger', 'service-ledger', {
        replicas: 5,
        ready: 5,
        image: 'registry.bank.internal/ledger:v1.11.2',
      }),
    );
    api.pods.set('a', pod('service-card-api-7d9-a', 'service-card-api', 0));
    api.pods.set('b', pod('service-card-api-7d9-b', 'service-card-api', 2));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'test-double', server: api.url, skipTLSVerify: true }],
      users: [{ name: 'portal', token: 'test' }],
      contexts: [{ name: 'prod-eu', cluster: 'test-double', user: 'portal' }],
      currentContext: 'prod-eu',
    });
    watch = new ClusterWatch([{ environment: 'prod', context: 'prod-eu', kubeConfig: kc }], {
      retryMs: () => 50,
      maxWatchLineBytes: 64 * 1024,
    });
    await watch.start();
  });
  after(async () => {
    await watch.stop();
    await api.stop().catch(() => {});
  });

  it('lists, then matches Deployments and Pods to the entity by backstage.io/kubernetes-id', async () => {
    await until('live', () => prod().state === 'live' && prod().workloads.length === 1);
    const w = prod().workloads[0];
    assert.equal(w.name, 'service-card-api');
    assert.deepEqual([w.desired, w.ready, w.rolloutComplete], [3, 3, true]);
    assert.deepEqual(w.images, ['registry.bank.internal/card-api:v1.2.8']);
    await until('pods', () => prod().workloads[0].restarts === 2);
    assert.equal(watch.liveFor('service-ledger')[0].workloads[0].desired, 5);
    assert.deepEqual(watch.liveFor('service-nobody')[0].workloads, []);
  });

  it('follows watch events: a rollout in progress, a crash-looping pod; garbage lines are skipped', async () => {
    await until(
      'watches open',
      () =>
        (api.watches.get('/apis/apps/v1/deployments')?.length ?? 0) > 0 &&
        (api.watches.get('/api/v1/pods')?.length ?? 0) > 0,
    );
    for (const r of api.watches.get('/apis/apps/v1/deployments') ?? []) r.write('this is not json\n');
    api.emit(
      '/apis/apps/v1/deployments',
      'MODIFIED',
      deployment('service-card-api', 'service-card-api', {
        replicas: 3,
        ready: 1,
        image: 'registry.bank.internal/card-api:v1.2.9',
        generation: 2,
      }),
    );
    api.emit('/api/v1/pods', 'MODIFIED', pod('service-card-api-7d9-b', 'service-card-api', 5, true));
    await until('rollout seen', () => prod().workloads[0]?.ready === 1);
    const w = prod().workloads[0];
    assert.equal(w.rolloutComplete, false);
    assert.deepEqual(w.images, ['registry.bank.internal/card-api:v1.2.9']);
    await until('crash loop seen', () => prod().workloads[0].crashLooping.length === 1);
    assert.deepEqual(prod().workloads[0].crashLooping, ['service-card-api-7d9-b']);
    assert.equal(prod().workloads[0].restarts, 5);
  });

  it('a watch closed in the middle of an event reconnects from its resourceVersion; 410 Gone relists', async () => {
    const listsBefore = api.lists.filter((p) => p === '/apis/apps/v1/deployments').length;
    api.goneNext.add('/apis/apps/v1/deployments');
    // The rollout finishes while the watch is cut mid-event: half a line, then the connection closes.
    api.deployments.set(
      'card-api',
      deployment('service-card-api', 'service-card-api', {
        replicas: 3,
        ready: 3,
        image: 'registry.bank.internal/card-api:v1.2.9',
        generation: 2,
      }),
    );
    for (const r of api.watches.get('/apis/apps/v1/deployments') ?? []) {
      r.write('{"type":"MODIFIED","object":{"metadata":');
      r.destroy();
    }
    await until(
      'relisted after 410',
      () => api.lists.filter((p) => p === '/apis/apps/v1/deployments').length > listsBefore,
    );
    await until('rollout complete', () => prod().workloads[0]?.rolloutComplete === true);
    assert.equal(prod().state, 'live');
  });

  it('objects follow their label: a relabelled pod moves, a deleted one goes, one gone while away is dropped at the relist', async () => {
    const restarts = (id: string) => watch.liveFor(id)[0].workloads[0]?.restarts;
    const changes = prod().changes;
    // Pod a (card-api) restarts once, then is relabelled to ledger with 3 restarts.
    api.emit('/api/v1/pods', 'MODIFIED', pod('service-card-api-7d9-a', 'service-card-api', 1));
    await until('pod a restarted', () => restarts('service-card-api') === 6);
    const moved = pod('service-card-api-7d9-a', 'service-ledger', 3);
    api.pods.set('a', moved);
    api.emit('/api/v1/pods', 'MODIFIED', moved);
    await until('pod moved to ledger', () => restarts('service-ledger') === 3);
    assert.equal(restarts('service-card-api'), 5, 'card-api keeps only pod b');
    // Pod b (card-api, crash-looping) is deleted.
    api.pods.delete('b');
    api.emit('/api/v1/pods', 'DELETED', pod('service-card-api-7d9-b', 'service-card-api', 5, true));
    await until('pod b gone', () => restarts('service-card-api') === 0);
    assert.deepEqual(prod().workloads[0].crashLooping, []);
    assert.ok(prod().changes >= changes + 2, 'the changes count moves with the watch');
    // Pod a is deleted while the pod watch is away; the watch comes back with 410 Gone and relists.
    api.pods.delete('a');
    api.goneNext.add('/api/v1/pods');
    for (const r of api.watches.get('/api/v1/pods') ?? []) r.destroy();
    await until('pod a dropped at the relist', () => restarts('service-ledger') === 0);
    assert.equal(watch.liveFor('service-ledger')[0].workloads[0].desired, 5);
  });

  it('a watch that sends bytes without a newline is cut at the line limit, not buffered: the pods are relisted', async () => {
    await until('the pods watch open', () => (api.watches.get('/api/v1/pods')?.length ?? 0) > 0);
    const lists = api.lists.filter((p) => p === '/api/v1/pods').length;
    const since = prod().since;
    await new Promise((r) => setTimeout(r, 5));
    // 200 KiB and no newline, past this watch's 64 KiB limit (readline kept such a line whole: at 512 MiB
    // the process died on "Invalid string length").
    for (const r of api.watches.get('/api/v1/pods') ?? []) r.write('x'.repeat(200 * 1024));
    await until(
      'pods relisted',
      () => api.lists.filter((p) => p === '/api/v1/pods').length > lists && prod().state === 'live',
    );
    assert.notEqual(prod().since, since, 'the cluster was unknown for a moment, then live again');
    assert.equal(watch.liveFor('service-ledger')[0].workloads[0].desired, 5);
  });

  it('a cluster that goes away is "unknown since …", never 0 replicas; it comes back by itself', async () => {
    const port = Number(new URL(api.url).port);
    await api.stop();
    await until('unknown', () => prod().state === 'unknown');
    const env = prod();
    assert.deepEqual(env.workloads, [], 'no replicas claimed for a cluster we cannot see');
    assert.ok(env.error && env.error.length > 0);
    assert.ok(Date.parse(env.since) <= Date.now());
    await api.start(port);
    await until('live again', () => prod().state === 'live' && prod().workloads.length === 1, 10_000);
    assert.equal(prod().workloads[0].desired, 3);
  });
});
