import {
  AppsV1Api,
  CoreV1Api,
  type Informer,
  KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  type ObjectCache,
  type V1Deployment,
  type V1Pod,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import { BoundedWatch } from './k8s-watch.ts';
import { KUBERNETES_ID_LABEL } from './model.ts';

/** What one cluster runs for one Deployment, as its informers last saw it. */
export interface LiveWorkload {
  namespace: string;
  name: string;
  desired: number;
  ready: number;
  updated: number;
  available: number;
  /** All replicas updated, ready and available, and the controller has seen the latest spec. */
  rolloutComplete: boolean;
  images: string[];
  /** Container restarts summed over the Deployment's pods. */
  restarts: number;
  /** Pods with a container waiting in CrashLoopBackOff. */
  crashLooping: string[];
  /** ReplicaSets of the Deployment with replicas (more than one during a rollout). */
  replicaSets: number;
}

/**
 * One environment's cluster. `unknown` (down, unreachable, refused) is never shown as 0 replicas: the
 * answer says since when it is unknown and why, and keeps no workloads.
 */
export interface LiveEnvironment {
  environment: string;
  context: string;
  state: 'connecting' | 'live' | 'unknown';
  /** When the state began (ISO 8601). */
  since: string;
  error?: string;
  /**
   * Changes the informers have applied to their caches (objects added, updated or deleted, from watch
   * events or a relist) since the portal started: a count that moves while the cluster does.
   */
  changes: number;
  workloads: LiveWorkload[];
}

export interface ClusterContext {
  environment: string;
  /** The kubeconfig context name (shown to people). */
  context: string;
  kubeConfig: KubeConfig;
}

/**
 * `PORTAL_K8S_CONTEXTS=staging=kind-staging,prod=prod-eu`: one kubeconfig context per environment, from
 * the kubeconfig Kubernetes clients use (KUBECONFIG, else ~/.kube/config, else in-cluster).
 */
export function clusterContextsFromEnv(
  env: Record<string, string | undefined> = process.env,
): ClusterContext[] {
  const raw = env.PORTAL_K8S_CONTEXTS?.trim();
  if (!raw) return [];
  return raw.split(',').map((pair) => {
    const [environment, context] = pair.split('=').map((s) => s.trim());
    if (!environment || !context)
      throw new Error(`PORTAL_K8S_CONTEXTS: "${pair}" must be environment=kubeconfig-context`);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromDefault();
    if (!kubeConfig.getContexts().some((c) => c.name === context))
      throw new Error(
        `PORTAL_K8S_CONTEXTS: kubeconfig has no context "${context}" (has: ${
          kubeConfig
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
      );
    kubeConfig.setCurrentContext(context);
    return { environment, context, kubeConfig };
  });
}

type Cache<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

interface Watched {
  ctx: ClusterContext;
  state: LiveEnvironment['state'];
  since: number;
  error?: string;
  deployments: Cache<V1Deployment>;
  replicaSets: Cache<V1ReplicaSet>;
  pods: Cache<V1Pod>;
  /** The same objects by kubernetes-id: a page asks for one entity, not for the whole cluster. */
  byId: {
    deployments: ByKubernetesId<V1Deployment>;
    replicaSets: ByKubernetesId<V1ReplicaSet>;
    pods: ByKubernetesId<V1Pod>;
  };
  failures: number;
  changes: number;
  retry?: NodeJS.Timeout;
}

const idOf = (o: KubernetesObject) => o.metadata?.labels?.[KUBERNETES_ID_LABEL];

/**
 * One kind's objects by their `backstage.io/kubernetes-id` label, kept in step with its informer's cache
 * through the cache's own add, update and delete callbacks (watch events and relists alike), holding the
 * cache's objects, not copies. An object relabelled moves; one without the label is not kept.
 */
export class ByKubernetesId<T extends KubernetesObject> {
  private readonly idOfKey = new Map<string, string>();
  private readonly byId = new Map<string, Map<string, T>>();

  constructor(informer: Informer<T>) {
    informer.on('add', (o) => this.put(o));
    informer.on('update', (o) => this.put(o));
    informer.on('delete', (o) => this.drop(o));
  }

  private static key(o: KubernetesObject): string {
    return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  }

  private put(o: T): void {
    const key = ByKubernetesId.key(o);
    const id = idOf(o);
    const before = this.idOfKey.get(key);
    if (before !== undefined && before !== id) this.remove(before, key);
    if (id === undefined) {
      this.idOfKey.delete(key);
      return;
    }
    this.idOfKey.set(key, id);
    let objects = this.byId.get(id);
    if (!objects) {
      objects = new Map();
      this.byId.set(id, objects);
    }
    objects.set(key, o);
  }

  private drop(o: T): void {
    const key = ByKubernetesId.key(o);
    const id = this.idOfKey.get(key);
    if (id === undefined) return;
    this.idOfKey.delete(key);
    this.remove(id, key);
  }

  private remove(id: string, key: string): void {
    const objects = this.byId.get(id);
    objects?.delete(key);
    if (objects?.size === 0) this.byId.delete(id);
  }

  get(kubernetesId: string): T[] {
    return [...(this.byId.get(kubernetesId)?.values() ?? [])];
  }
}

/**
 * Live state from Kubernetes: Deployments, ReplicaSets and Pods watched with @kubernetes/client-node
 * informers (list, then watch from its resourceVersion; 410 Gone relists), one set per context. A watch
 * that fails marks the environment unknown and is restarted after 1, 2, 4 … 30 s.
 */
export class ClusterWatch {
  private watched: Watched[] = [];
  private stopped = false;

  constructor(
    contexts: ClusterContext[],
    private readonly opts: {
      now?: () => number;
      retryMs?: (failures: number) => number;
      /** The longest watch line taken (default MAX_WATCH_LINE_BYTES, 16 MiB). */
      maxWatchLineBytes?: number;
    } = {},
  ) {
    for (const ctx of contexts) this.watched.push(this.watch(ctx));
  }

  get configured(): boolean {
    return this.watched.length > 0;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private watch(ctx: ClusterContext): Watched {
    const apps = ctx.kubeConfig.makeApiClient(AppsV1Api);
    const core = ctx.kubeConfig.makeApiClient(CoreV1Api);
    // A successful list is what tells us the cluster answers (an empty cluster sends no events).
    const listed =
      <T extends KubernetesObject>(fn: () => Promise<KubernetesListObject<T>>) =>
      async () => {
        const list = await fn();
        this.mark(w, 'live');
        return list;
      };
    // client-node's informer (ListWatch) on a watch that cuts its stream into bounded lines.
    const informer = <T extends KubernetesObject>(
      path: string,
      list: () => Promise<KubernetesListObject<T>>,
    ) =>
      new ListWatch<T>(
        path,
        new BoundedWatch(ctx.kubeConfig, this.opts.maxWatchLineBytes),
        listed(list),
        false,
      );
    const deployments = informer('/apis/apps/v1/deployments', () => apps.listDeploymentForAllNamespaces());
    const replicaSets = informer('/apis/apps/v1/replicasets', () => apps.listReplicaSetForAllNamespaces());
    const pods = informer('/api/v1/pods', () => core.listPodForAllNamespaces());
    const w: Watched = {
      ctx,
      state: 'connecting',
      since: this.now(),
      failures: 0,
      changes: 0,
      deployments,
      replicaSets,
      pods,
      byId: {
        deployments: new ByKubernetesId(deployments),
        replicaSets: new ByKubernetesId(replicaSets),
        pods: new ByKubernetesId(pods),
      },
    };
    for (const informer of [w.deployments, w.replicaSets, w.pods] as Cache<KubernetesObject>[]) {
      // managedFields (who set which field; often the largest part of an object) is never read here: the
      // cached object does not keep it (a third of the informers' heap in bench/deploys/watch.ts).
      const forget = (o: KubernetesObject) => {
        if (o.metadata?.managedFields) o.metadata.managedFields = undefined;
      };
      informer.on('add', forget);
      informer.on('update', forget);
      informer.on('change', () => {
        w.changes++;
        w.failures = 0;
        this.mark(w, 'live');
      });
      informer.on('error', (err: unknown) => {
        w.error = err instanceof Error ? err.message : String(err);
        this.mark(w, 'unknown');
        if (this.stopped) return;
        w.failures++;
        const delay = this.opts.retryMs?.(w.failures) ?? Math.min(30_000, 1000 * 2 ** (w.failures - 1));
        setTimeout(() => {
          if (this.stopped) return;
          // Relist after an outage (as after 410 Gone): what changed while we could not see is in no watch,
          // and only a list tells us the cluster answers again. ListWatch keeps its resourceVersion otherwise.
          (informer as unknown as { resourceVersion: string }).resourceVersion = '';
          informer.start().catch(() => {});
        }, delay).unref();
      });
    }
    return w;
  }

  private mark(w: Watched, state: Watched['state']): void {
    if (w.state === state) return;
    w.state = state;
    w.since = this.now();
    if (state === 'live') w.error = undefined;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await Promise.all(
      this.watched.flatMap((w) => [w.deployments.start(), w.replicaSets.start(), w.pods.start()]),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(
      this.watched.flatMap((w) => [w.deployments.stop(), w.replicaSets.stop(), w.pods.stop()]),
    );
  }

  /** Per environment, the Deployments labelled with `kubernetesId`. */
  liveFor(kubernetesId: string): LiveEnvironment[] {
    return this.watched.map((w) => {
      const base = {
        environment: w.ctx.environment,
        context: w.ctx.context,
        state: w.state,
        since: new Date(w.since).toISOString(),
        ...(w.error ? { error: w.error } : {}),
        changes: w.changes,
      };
      if (w.state !== 'live') return { ...base, workloads: [] };
      const pods = w.byId.pods.get(kubernetesId);
      const replicaSets = w.byId.replicaSets.get(kubernetesId);
      const workloads = w.byId.deployments.get(kubernetesId).map((d): LiveWorkload => {
        const desired = d.spec?.replicas ?? 1;
        const s = d.status ?? {};
        const ns = d.metadata?.namespace ?? 'default';
        const mine = pods.filter((p) => (p.metadata?.namespace ?? 'default') === ns);
        const statuses = mine.flatMap((p) => p.status?.containerStatuses ?? []);
        const ready = s.readyReplicas ?? 0;
        const updated = s.updatedReplicas ?? 0;
        const available = s.availableReplicas ?? 0;
        return {
          namespace: ns,
          name: d.metadata?.name ?? '',
          desired,
          ready,
          updated,
          available,
          rolloutComplete:
            (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
            updated === desired &&
            ready === desired &&
            available === desired &&
            (s.replicas ?? 0) === desired,
          images: [...new Set((d.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? ''))],
          restarts: statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0),
          crashLooping: mine
            .filter((p) =>
              (p.status?.containerStatuses ?? []).some(
                (c) => c.state?.waiting?.reason === 'CrashLoopBackOff',
              ),
            )
            .map((p) => p.metadata?.name ?? ''),
          replicaSets: replicaSets.filter(
            (r) => (r.metadata?.namespace ?? 'default') === ns && (r.status?.replicas ?? 0) > 0,
          ).length,
        };
      });
      return { ...base, workloads };
    });
  }
}
