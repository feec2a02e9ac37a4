/**
 * The cluster side of bench/deploys/watch.ts, run in its own process (`--import tsx`, with an IPC channel)
 * so that its memory is not the watcher's: the Kubernetes API TEST DOUBLE (FakeKubeApi; no API server can
 * run here) holding one Deployment per service, its ReplicaSets (the current one and the one before) and
 * its Pods, shaped as the API server returns them (uid, resourceVersion, managedFields, ownerReferences,
 * status, the containers of the service's own k8s/deployment.yaml), and a generator that sends watch
 * events at a rate.
 *
 * Every Deployment gets the same 10-event cycle: 2 Deployment updates (a new image tag `…-b<seq>` and a
 * rollout in progress / complete), 2 ReplicaSet updates (the previous ReplicaSet scaled 1 ↔ 0) and 6 Pod
 * events (a container restart, a crash loop every fifth restart, and every sixth pod event a pod replaced:
 * DELETED, then ADDED under a new name), so pods come and go as in a cluster.
 *
 * Messages (request `{ id, op, … }`, answer `{ id, … }`): `run` (rate in events/s, seconds), `halt`,
 * `stats`, `lag` (how old the first event is that the watcher has not applied), `expected` (what the
 * portal should show for some Deployments, worked out from this model, not from the objects).
 */
import { parseArgs } from 'node:util';
import { FakeKubeApi } from '@bank/plugin-deploys/testing';
import { type EstateService, generateEstate } from '../estate/generate.ts';
import { deployment as manifestOf, readinessGaps } from '../estate/write.ts';

// biome-ignore lint/suspicious/noExplicitAny: API objects as JSON trees, built and changed at known paths
type Obj = Record<string, any>;

const PATHS = {
  d: '/apis/apps/v1/deployments',
  r: '/apis/apps/v1/replicasets',
  p: '/api/v1/pods',
} as const;
/** One Deployment's events, over and over: 2 Deployment, 2 ReplicaSet, 6 Pod. */
const CYCLE = ['d', 'p', 'r', 'p', 'p', 'd', 'p', 'r', 'p', 'p'] as const;
/** Emit times kept per event (global) and per Deployment update: how far back a lag can be told. */
const RING = 1 << 22;
const DEP_RING = 1024;

const now = () => performance.timeOrigin + performance.now();
/** A time `agoMs` before now as the API server writes it (whole seconds; worked out once a second). */
const isoCache = new Map<number, { second: number; text: string }>();
function iso(agoMs = 0): string {
  const ms = Date.now() - agoMs;
  const second = Math.floor(ms / 1000);
  const hit = isoCache.get(agoMs);
  if (hit?.second === second) return hit.text;
  const text = new Date(second * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  isoCache.set(agoMs, { second, text });
  return text;
}
const hex = (n: number, len: number) => (n >>> 0).toString(16).padStart(8, '0').repeat(8).slice(0, len);
const hash10 = (s: string) => {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36).padStart(7, '0').slice(0, 7) + 'c9d';
};

/** managedFields as the API server writes them: the fields a manager set, as `f:` keys. */
function fieldsOf(o: unknown): Obj {
  if (Array.isArray(o)) return { '.': {} };
  if (!o || typeof o !== 'object') return {};
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) out[`f:${k}`] = fieldsOf(v);
  return out;
}
const managed = (manager: string, fields: Obj, subresource?: string) => ({
  manager,
  operation: 'Update',
  apiVersion: 'apps/v1',
  time: iso(86_400_000),
  fieldsType: 'FieldsV1',
  fieldsV1: fields,
  ...(subresource ? { subresource } : {}),
});

interface Workload {
  i: number;
  s: EstateService;
  ns: string;
  name: string;
  replicas: number;
  dep: Obj;
  rsNew: Obj;
  rsOld: Obj;
  pods: Obj[];
  /** Deployment updates sent (the image tag's -b<seq>). */
  seq: number;
  /** Events sent for this Deployment (position in CYCLE). */
  slot: number;
  podEvents: number;
  podSerial: number;
  pendingAdd?: Obj;
  /** The first pod as JSON: later pods are copies of it. */
  podJson?: string;
  oldUp: boolean;
}

function meta(w: Workload, name: string, extra: Obj = {}): Obj {
  return {
    name,
    namespace: w.ns,
    uid: `${hex(w.i * 7919 + name.length, 8)}-${hex(w.i, 4)}-4${hex(name.length, 3)}-a${hex(w.i * 31, 3)}-${hex(w.i * 65599 + name.charCodeAt(name.length - 1), 12)}`,
    resourceVersion: '1',
    creationTimestamp: iso(7 * 86_400_000),
    ...extra,
  };
}

function deploymentStatus(w: Workload): Obj {
  const inProgress = w.seq % 2 === 1;
  const ready = inProgress ? Math.max(0, w.replicas - 1) : w.replicas;
  const t = iso();
  return {
    observedGeneration: w.seq + 1,
    replicas: w.replicas,
    updatedReplicas: ready,
    readyReplicas: ready,
    availableReplicas: ready,
    ...(ready < w.replicas ? { unavailableReplicas: w.replicas - ready } : {}),
    conditions: [
      {
        type: 'Available',
        status: inProgress ? 'False' : 'True',
        lastUpdateTime: t,
        lastTransitionTime: t,
        reason: inProgress ? 'MinimumReplicasUnavailable' : 'MinimumReplicasAvailable',
        message: inProgress
          ? 'Deployment does not have minimum availability.'
          : 'Deployment has minimum availability.',
      },
      {
        type: 'Progressing',
        status: 'True',
        lastUpdateTime: t,
        lastTransitionTime: iso(3_600_000),
        reason: inProgress ? 'ReplicaSetUpdated' : 'NewReplicaSetAvailable',
        message: `ReplicaSet "${w.rsNew.metadata.name}" ${inProgress ? 'is progressing' : 'has successfully progressed'}.`,
      },
    ],
  };
}

function replicaSet(w: Workload, template: Obj, revision: number, replicas: number): Obj {
  const hash = hash10(`${w.name}:${revision}`);
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: meta(w, `${w.name}-${hash}`, {
      generation: revision,
      labels: { ...template.metadata.labels, 'pod-template-hash': hash },
      annotations: {
        'deployment.kubernetes.io/desired-replicas': String(w.replicas),
        'deployment.kubernetes.io/max-replicas': String(w.replicas + 1),
        'deployment.kubernetes.io/revision': String(revision),
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: w.name,
          uid: w.dep.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: [
        managed('kube-controller-manager', fieldsOf({ metadata: template.metadata, spec: template })),
      ],
    }),
    spec: {
      replicas,
      selector: { matchLabels: { ...w.dep.spec.selector.matchLabels, 'pod-template-hash': hash } },
      template: {
        ...template,
        metadata: {
          ...template.metadata,
          labels: { ...template.metadata.labels, 'pod-template-hash': hash },
        },
      },
    },
    status: {
      replicas,
      fullyLabeledReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      observedGeneration: revision,
    },
  };
}

/** A new pod of the Deployment's current ReplicaSet: its first is built, later ones are copies renamed. */
function pod(w: Workload, restarts: number): Obj {
  if (w.podJson) {
    const p = JSON.parse(w.podJson);
    p.metadata.name = podName(w);
    p.metadata.uid = meta(w, p.metadata.name).uid;
    p.status.podIP = p.status.podIPs[0].ip = podIp(w);
    setRestarts(w, p, restarts);
    return p;
  }
  const p = firstPod(w);
  w.podJson = JSON.stringify(p);
  setRestarts(w, p, restarts);
  return p;
}

const podName = (w: Workload) =>
  `${w.rsNew.metadata.name}-${(w.i * 1_000_003 + w.podSerial++).toString(36).slice(-5).padStart(5, 'x')}`;
const podIp = (w: Workload) => `10.${(w.i >> 8) & 255}.${w.i & 255}.${w.podSerial & 255}`;

function firstPod(w: Workload): Obj {
  const rs = w.rsNew;
  const name = podName(w);
  const spec = structuredClone(rs.spec.template.spec);
  const ip = podIp(w);
  const t = iso(3_600_000);
  const p: Obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta(w, name, {
      generateName: `${rs.metadata.name}-`,
      labels: rs.spec.template.metadata.labels,
      annotations: rs.spec.template.metadata.annotations,
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: rs.metadata.name,
          uid: rs.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    }),
    spec: {
      ...spec,
      volumes: [
        {
          name: 'kube-api-access-x7k2q',
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              {
                downwardAPI: {
                  items: [
                    { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                  ],
                },
              },
            ],
          },
        },
      ],
      nodeName: `ip-10-20-${w.i % 64}-${(w.i * 7) % 250}.eu-west-1.compute.internal`,
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
    },
    status: {
      phase: 'Running',
      conditions: [
        'PodReadyToStartContainers',
        'Initialized',
        'Ready',
        'ContainersReady',
        'PodScheduled',
      ].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: t })),
      hostIP: `10.20.${w.i % 64}.${(w.i * 7) % 250}`,
      podIP: ip,
      podIPs: [{ ip }],
      startTime: t,
      qosClass: 'Burstable',
      containerStatuses: [],
    },
  };
  p.metadata.managedFields = [
    managed('kube-controller-manager', fieldsOf({ metadata: p.metadata, spec: p.spec })),
    managed('kubelet', fieldsOf({ status: p.status }), 'status'),
  ];
  return p;
}

const crashing = (restarts: number) => restarts > 0 && restarts % 5 === 0;

function setRestarts(w: Workload, p: Obj, restarts: number): void {
  const c = w.dep.spec.template.spec.containers[0];
  p.status.containerStatuses = [
    {
      name: c.name,
      image: c.image,
      imageID: `registry.bank.internal/${w.s.name}@sha256:${hex(w.i * 2654435761, 64)}`,
      containerID: `containerd://${hex(restarts * 40503 + w.i, 64)}`,
      started: !crashing(restarts),
      ready: !crashing(restarts),
      restartCount: restarts,
      state: crashing(restarts)
        ? {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: `back-off 40s restarting failed container=${c.name}`,
            },
          }
        : { running: { startedAt: iso() } },
      lastState:
        restarts > 0
          ? {
              terminated: {
                exitCode: 137,
                reason: 'OOMKilled',
                startedAt: iso(60_000),
                finishedAt: iso(),
              },
            }
          : {},
    },
  ];
}

function workload(s: EstateService, i: number): Workload {
  // A copy: Deployment updates change its template in place; the ReplicaSets and Pods keep theirs.
  const manifest = structuredClone(manifestOf(s, readinessGaps(s))) as Obj;
  const w = {
    i,
    s,
    ns: s.collective,
    name: manifest.metadata.name,
    replicas: s.replicas,
    pods: [],
    seq: 0,
    slot: 0,
    podEvents: 0,
    podSerial: 0,
    oldUp: false,
  } as unknown as Workload;
  w.dep = {
    ...structuredClone(manifest),
    metadata: meta(w, manifest.metadata.name, {
      generation: 1,
      labels: manifest.metadata.labels,
      annotations: { ...manifest.metadata.annotations, 'deployment.kubernetes.io/revision': '7' },
    }),
  };
  w.dep.metadata.managedFields = [
    managed('kubectl-client-side-apply', fieldsOf({ metadata: manifest.metadata, spec: manifest.spec })),
    managed(
      'kube-controller-manager',
      fieldsOf({ status: deploymentStatus({ ...w, rsNew: { metadata: {} } } as Workload) }),
      'status',
    ),
  ];
  w.rsOld = replicaSet(w, manifest.spec.template, 6, 0);
  w.rsNew = replicaSet(w, manifest.spec.template, 7, w.replicas);
  w.dep.status = deploymentStatus(w);
  for (let k = 0; k < w.replicas; k++) w.pods.push(pod(w, 0));
  return w;
}

type Event = { type: string; object: Obj };

/** The next event of one Deployment's cycle, applied to the model. */
function next(w: Workload, at: number, depTimes: Float64Array): [keyof typeof PATHS, Event] {
  const kind = CYCLE[w.slot++ % CYCLE.length];
  if (kind === 'd') {
    w.seq++;
    depTimes[w.i * DEP_RING + (w.seq % DEP_RING)] = at;
    w.dep.metadata.generation = w.seq + 1;
    const c = w.dep.spec.template.spec.containers[0];
    c.image = `registry.bank.internal/${w.s.name}:${w.s.version}-b${w.seq}`;
    w.dep.status = deploymentStatus(w);
    return ['d', { type: 'MODIFIED', object: w.dep }];
  }
  if (kind === 'r') {
    w.oldUp = !w.oldUp;
    const n = w.oldUp ? 1 : 0;
    w.rsOld.spec.replicas = n;
    Object.assign(w.rsOld.status, {
      replicas: n,
      fullyLabeledReplicas: n,
      readyReplicas: n,
      availableReplicas: n,
    });
    return ['r', { type: 'MODIFIED', object: w.rsOld }];
  }
  if (w.pendingAdd) {
    const p = w.pendingAdd;
    w.pendingAdd = undefined;
    w.pods.push(p);
    return ['p', { type: 'ADDED', object: p }];
  }
  w.podEvents++;
  const k = w.podEvents % w.pods.length;
  const p = w.pods[k];
  if (w.podEvents % 6 === 0 && w.pods.length > 0) {
    w.pods.splice(k, 1);
    w.pendingAdd = pod(w, 0);
    return ['p', { type: 'DELETED', object: p }];
  }
  setRestarts(w, p, p.status.containerStatuses[0].restartCount + 1);
  return ['p', { type: 'MODIFIED', object: p }];
}

/** What GET /api/deploys/live should show for a Deployment, from the model. */
function expected(w: Workload) {
  const ready = w.seq % 2 === 1 ? Math.max(0, w.replicas - 1) : w.replicas;
  const restarts = w.pods.map((p) => p.status.containerStatuses[0].restartCount as number);
  return {
    namespace: w.ns,
    name: w.name,
    desired: w.replicas,
    ready,
    updated: ready,
    available: ready,
    rolloutComplete: ready === w.replicas,
    images: [w.dep.spec.template.spec.containers[0].image],
    restarts: restarts.reduce((a, b) => a + b, 0),
    crashLooping: w.pods
      .filter((_, k) => crashing(restarts[k]))
      .map((p) => p.metadata.name as string)
      .sort(),
    replicaSets: 1 + (w.oldUp ? 1 : 0),
  };
}

async function main() {
  const { values } = parseArgs({
    options: { deployments: { type: 'string', default: '1000' }, seed: { type: 'string', default: '42' } },
  });
  const want = Number(values.deployments);
  let size = Math.ceil(want * 1.2);
  let deployable: EstateService[] = [];
  for (;;) {
    deployable = generateEstate({ services: size, seed: Number(values.seed) }).services.filter(
      (s) => s.type !== 'library',
    );
    if (deployable.length >= want) break;
    size = Math.ceil(size * 1.1);
  }
  const workloads = deployable.slice(0, want).map(workload);
  const api = new FakeKubeApi();
  for (const w of workloads) {
    api.deployments.set(`${w.ns}/${w.name}`, w.dep);
    api.replicaSets.set(`${w.ns}/${w.rsOld.metadata.name}`, w.rsOld);
    api.replicaSets.set(`${w.ns}/${w.rsNew.metadata.name}`, w.rsNew);
    for (const p of w.pods) api.pods.set(`${w.ns}/${p.metadata.name}`, p);
  }
  await api.start();

  const times = new Float64Array(RING);
  const depTimes = new Float64Array(workloads.length * DEP_RING);
  let emitted = 0;
  let bytes = 0;
  let heldBack = 0;
  let cursor = 0;
  let run:
    | { timer: NodeJS.Timeout; t0: number; rate: number; until: number; cpu: NodeJS.CpuUsage; at: number }
    | undefined;
  let last = { emitted: 0, seconds: 0, cpuMs: 0 };

  const tick = () => {
    if (!run) return;
    const t = now();
    if (t >= run.until) return halt();
    // Events due by the clock; a late timer sends what it owes (at most half a second's worth at once).
    let due = Math.min(Math.floor(((t - run.t0) / 1000) * run.rate) - (emitted - run.at), run.rate / 2);
    // The watcher not reading (64 MiB unread): hold back and count it, rather than buffer without end.
    if (api.unread() > 64 * 1024 * 1024) {
      heldBack++;
      return;
    }
    const batches: Record<keyof typeof PATHS, Event[]> = { d: [], r: [], p: [] };
    for (; due > 0; due--) {
      const w = workloads[cursor++ % workloads.length];
      times[emitted % RING] = t;
      emitted++;
      const [kind, ev] = next(w, t, depTimes);
      batches[kind].push(ev);
      const key = `${w.ns}/${ev.object.metadata.name}`;
      const store = kind === 'd' ? api.deployments : kind === 'r' ? api.replicaSets : api.pods;
      if (ev.type === 'DELETED') store.delete(key);
      else store.set(key, ev.object);
    }
    for (const kind of ['d', 'r', 'p'] as const)
      if (batches[kind].length) bytes += api.send(PATHS[kind], batches[kind]);
  };
  const halt = () => {
    if (!run) return;
    clearInterval(run.timer);
    const cpu = process.cpuUsage(run.cpu);
    last = {
      emitted: emitted - run.at,
      seconds: (now() - run.t0) / 1000,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
    run = undefined;
  };

  process.on('message', (m: Obj) => {
    const answer = (o: Obj) => process.send?.({ id: m.id, ...o });
    if (m.op === 'run') {
      run = {
        timer: setInterval(tick, 10),
        t0: now(),
        rate: m.rate,
        until: now() + m.seconds * 1000,
        cpu: process.cpuUsage(),
        at: emitted,
      };
      answer({ t0: run.t0, emittedBefore: emitted });
    } else if (m.op === 'halt') {
      halt();
      answer(last);
    } else if (m.op === 'stats') {
      const watches = Object.fromEntries(
        Object.values(PATHS).map((p) => [p, api.watches.get(p)?.length ?? 0]),
      );
      answer({
        emitted,
        bytes,
        unread: api.unread(),
        heldBack,
        lists: api.lists.length,
        watches,
        running: !!run,
        last,
        rss: process.memoryUsage().rss,
      });
    } else if (m.op === 'lag') {
      // `applied` events of the run are in the watcher's state; the next one is the oldest it lacks.
      const behind = (k: number, at: number) =>
        k < emitted && times[k % RING] <= at ? at - times[k % RING] : 0;
      const perDeployment = (m.deployments as { i: number; seq: number }[]).map(({ i, seq }) =>
        seq < workloads[i].seq && depTimes[i * DEP_RING + ((seq + 1) % DEP_RING)] <= m.at
          ? m.at - depTimes[i * DEP_RING + ((seq + 1) % DEP_RING)]
          : 0,
      );
      answer({
        lagMs: behind(m.applied, m.at),
        backlog: Math.max(0, emitted - m.applied),
        perDeployment,
        outOfRing: emitted - m.applied > RING,
      });
    } else if (m.op === 'expected') {
      answer({ workloads: (m.indices as number[]).map((i) => expected(workloads[i])) });
    } else if (m.op === 'exit') {
      halt();
      void api.stop().finally(() => process.exit(0));
    }
  });
  process.send?.({
    ready: true,
    url: api.url,
    services: workloads.map((w) => w.s.name),
    objects: { deployments: api.deployments.size, replicaSets: api.replicaSets.size, pods: api.pods.size },
    listBytes: {
      deployments: JSON.stringify([...api.deployments.values()]).length,
      replicaSets: JSON.stringify([...api.replicaSets.values()]).length,
      pods: JSON.stringify([...api.pods.values()]).length,
    },
  });
}

void main();
