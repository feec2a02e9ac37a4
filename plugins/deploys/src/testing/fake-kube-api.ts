import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * TEST DOUBLE: no Kubernetes API server can run on these machines, so this local HTTP server stands in
 * for one. It answers list (with a resourceVersion) and watch (chunked, one JSON event per line) for
 * Deployments, ReplicaSets and Pods from recorded-style API objects, and can send garbage, close a watch in
 * the middle of an event, answer 410 Gone, or go away entirely. The informers are the real
 * @kubernetes/client-node ones.
 */
export class FakeKubeApi {
  server!: http.Server;
  url = '';
  rv = 100;
  deployments = new Map<string, Record<string, unknown>>();
  replicaSets = new Map<string, Record<string, unknown>>();
  pods = new Map<string, Record<string, unknown>>();
  /** Open watch responses per resource path. */
  watches = new Map<string, http.ServerResponse[]>();
  /** Answer the next watch of a path with 410 Gone (an expired resourceVersion). */
  goneNext = new Set<string>();
  lists: string[] = [];
  down = false;

  async start(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private items(path: string): Record<string, unknown>[] {
    if (path === '/apis/apps/v1/deployments') return [...this.deployments.values()];
    if (path === '/apis/apps/v1/replicasets') return [...this.replicaSets.values()];
    if (path === '/api/v1/pods') return [...this.pods.values()];
    return [];
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const u = new URL(req.url ?? '/', this.url);
    const path = u.pathname;
    if (u.searchParams.get('watch') === 'true') {
      if (this.goneNext.delete(path)) {
        res.writeHead(410, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.write('');
      const list = this.watches.get(path) ?? [];
      list.push(res);
      this.watches.set(path, list);
      res.on('close', () =>
        this.watches.set(
          path,
          (this.watches.get(path) ?? []).filter((r) => r !== res),
        ),
      );
      return;
    }
    this.lists.push(path);
    const kind = path.endsWith('deployments')
      ? 'DeploymentList'
      : path.endsWith('replicasets')
        ? 'ReplicaSetList'
        : 'PodList';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind,
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.rv) },
        items: this.items(path),
      }),
    );
  }

  /** Send one watch event to every open watch of `path`. */
  emit(path: string, type: string, object: Record<string, unknown>): void {
    this.send(path, [{ type, object }]);
  }

  /**
   * Send watch events to every open watch of `path` in one chunk (a load generator sends thousands a
   * second), each object stamped with the next resourceVersion. Returns the bytes sent to each watch.
   */
  send(path: string, events: { type: string; object: Record<string, unknown> }[]): number {
    let chunk = '';
    for (const { type, object } of events) {
      this.rv++;
      (object.metadata as Record<string, unknown>).resourceVersion = String(this.rv);
      chunk += `${JSON.stringify({ type, object })}\n`;
    }
    for (const res of this.watches.get(path) ?? []) res.write(chunk);
    return Buffer.byteLength(chunk);
  }

  /**
   * Send watch events already serialised, as lines like send()'s, to every open watch of `path` in one
   * chunk: for a load generator that makes its own JSON (bench/deploys/watch-cluster.ts) and stamps each
   * object with `++rv` itself. `written` is called once every watch has handed the chunk to the socket, so
   * that its memory can be used again (not at all if a watch closes first). Returns the bytes sent to each
   * watch.
   */
  sendSerialized(path: string, chunk: Buffer, written?: () => void): number {
    const watches = this.watches.get(path) ?? [];
    let pending = watches.length;
    const done = (err?: Error | null) => {
      if (!err && --pending === 0) written?.();
    };
    for (const res of watches) res.write(chunk, done);
    if (watches.length === 0) written?.();
    return chunk.length;
  }

  /** Bytes written to open watches that the watching client has not read yet (it is falling behind). */
  unread(): number {
    let n = 0;
    for (const list of this.watches.values()) for (const res of list) n += res.writableLength;
    return n;
  }

  async stop(): Promise<void> {
    for (const list of this.watches.values()) for (const r of list) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A kubeconfig file's text with one context on the test double at `server` (token auth, no TLS). */
export const kubeconfigFor = (server: string, context: string) => `apiVersion: v1
kind: Config
clusters:
- name: test-double
  cluster: { server: "${server}", insecure-skip-tls-verify: true }
users:
- name: portal
  user: { token: test }
contexts:
- name: ${context}
  context: { cluster: test-double, user: portal }
current-context: ${context}
`;

export const deployment = (
  name: string,
  id: string,
  o: { replicas: number; ready: number; image: string; generation?: number },
) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name,
    namespace: 'payments',
    uid: `uid-${name}`,
    generation: o.generation ?? 1,
    labels: { 'backstage.io/kubernetes-id': id },
  },
  spec: { replicas: o.replicas, template: { spec: { containers: [{ name: 'app', image: o.image }] } } },
  status: {
    observedGeneration: o.generation ?? 1,
    replicas: o.replicas,
    readyReplicas: o.ready,
    updatedReplicas: o.ready,
    availableReplicas: o.ready,
  },
});

export const pod = (name: string, id: string, restarts: number, crash = false) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'payments', uid: `uid-${name}`, labels: { 'backstage.io/kubernetes-id': id } },
  status: {
    containerStatuses: [
      {
        name: 'app',
        restartCount: restarts,
        ready: !crash,
        state: crash ? { waiting: { reason: 'CrashLoopBackOff' } } : { running: {} },
      },
    ],
  },
});
