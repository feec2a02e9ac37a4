/**
 * The model behind bench/deploys/watch-cluster.ts (the Kubernetes API TEST DOUBLE's generator): one
 * Deployment per service, its ReplicaSets (the current one and the one before) and its Pods, shaped as the
 * API server returns them (uid, resourceVersion, managedFields, ownerReferences, status, the containers of
 * the service's own k8s/deployment.yaml), and the next watch event of each Deployment's cycle.
 *
 * Every Deployment gets the same 10-event cycle: 2 Deployment updates (a new image tag `…-b<seq>` and a
 * rollout in progress / complete), 2 ReplicaSet updates (the previous ReplicaSet scaled 1 ↔ 0) and 6 Pod
 * events (a container restart, a crash loop every fifth restart, and every sixth pod event a pod replaced:
 * DELETED, then ADDED under a new name), so pods come and go as in a cluster.
 */
import type { EstateService } from '../estate/generate.ts';
import { deployment as manifestOf, readinessGaps } from '../estate/write.ts';

// biome-ignore lint/suspicious/noExplicitAny: API objects as JSON trees, built and changed at known paths
export type Obj = Record<string, any>;

export const PATHS = {
  d: '/apis/apps/v1/deployments',
  r: '/apis/apps/v1/replicasets',
  p: '/api/v1/pods',
} as const;
/** One Deployment's events, over and over: 2 Deployment, 2 ReplicaSet, 6 Pod. */
const CYCLE = ['d', 'p', 'r', 'p', 'p', 'd', 'p', 'r', 'p', 'p'] as const;
/** Emit times kept per Deployment update: how far back a Deployment's lag can be told. */
export const DEP_RING = 1024;

/** The wall clock the objects' timestamps come from (a test moves it on). */
export const clock = { now: () => Date.now() };
/** A time `agoMs` before now as the API server writes it (whole seconds; worked out once a second). */
const isoCache = new Map<number, { second: number; text: string }>();
function iso(agoMs = 0): string {
  const ms = clock.now() - agoMs;
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
  return `${(h >>> 0).toString(36).padStart(7, '0').slice(0, 7)}c9d`;
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

export interface Workload {
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
  /** A copy of the first pod as built: later pods are copies of it. */
  podFirst?: Obj;
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

/**
 * A new pod of the Deployment's current ReplicaSet: its first is built, later ones are copies renamed. The
 * copies share what no event changes (spec, labels, managedFields, conditions…) with a copy of the first, and
 * have metadata and status of their own (the events change those).
 */
function pod(w: Workload, restarts: number): Obj {
  const first = w.podFirst;
  if (first) {
    const name = podName(w);
    const ip = podIp(w);
    const p = {
      ...first,
      metadata: { ...first.metadata, name, uid: meta(w, name).uid },
      status: { ...first.status, podIP: ip, podIPs: [{ ip }] },
    };
    setRestarts(w, p, restarts);
    return p;
  }
  const p = firstPod(w);
  w.podFirst = JSON.parse(JSON.stringify(p));
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

export function workload(s: EstateService, i: number): Workload {
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

export type Event = { type: string; object: Obj };

/** The next event of one Deployment's cycle, applied to the model. */
export function next(w: Workload, at: number, depTimes: Float64Array): [keyof typeof PATHS, Event] {
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
export function expected(w: Workload) {
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

/**
 * Watch events as the lines FakeKubeApi.send writes (`{"type":…,"object":…}\n`, the object stamped with
 * the next resourceVersion), without serialising each object: JSON.stringify of a 4.8 KB object per event
 * was most of the generator's CPU. Each object's JSON is made once per Deployment and shape (a Deployment
 * rolling out or complete, a ReplicaSet at 0 or 1 replica, a pod new, restarted or crash-looping) with holes
 * where the events differ (resourceVersion, generation, image, restart count, container ID, timestamps;
 * for a pod also its name, uid and IP, as every pod of a Deployment is a copy of its first), kept as bytes;
 * an event is those bytes with each hole's current value from the model object, so the line is the one
 * JSON.stringify would write. Every `checkEvery`th event is checked against JSON.stringify, and a
 * difference throws: the model changed something outside the holes.
 */
export class EventEncoder {
  /** Events checked against JSON.stringify. */
  checked = 0;
  private count = 0;
  private templates = new WeakMap<Workload, Map<string, Template>>();
  private pool: Buffer[] = [];

  constructor(readonly checkEvery = 1000) {}

  /**
   * One chunk of lines for a batch of events, stamping resourceVersions from `api.rv` as send() does, in a
   * buffer of the encoder's: `release` gives it back once the chunk is written (a fresh 600 KB buffer per
   * chunk cost more than the encoding, in page faults and collections).
   */
  encode(
    events: { w: Workload; kind: keyof typeof PATHS; event: Event }[],
    api: { rv: number },
  ): { chunk: Buffer; release: () => void } {
    const out = new Chunk(this.pool, events.length * 6144);
    for (const { w, kind, event } of events) {
      api.rv++;
      const o = event.object;
      o.metadata.resourceVersion = String(api.rv);
      const start = out.length;
      out.bytes(PREFIX[event.type] ?? Buffer.from(`{"type":${JSON.stringify(event.type)},"object":`));
      this.template(w, kind, o).write(o, out);
      out.bytes(SUFFIX);
      if (this.checkEvery && ++this.count % this.checkEvery === 0) this.check(event, out.text(start));
    }
    return out.take();
  }

  private template(w: Workload, kind: keyof typeof PATHS, o: Obj): Template {
    let byShape = this.templates.get(w);
    if (!byShape) {
      byShape = new Map();
      this.templates.set(w, byShape);
    }
    const key = shapeOf(kind, o);
    let t = byShape.get(key);
    if (!t) {
      t = new Template(o, HOLES[kind]);
      byShape.set(key, t);
    }
    return t;
  }

  private check(event: Event, line: string): void {
    this.checked++;
    const want = `${JSON.stringify(event)}\n`;
    if (line !== want)
      throw new Error(`templated watch event differs from JSON.stringify:\n${line}\nwant:\n${want}`);
  }
}

const PREFIX: Record<string, Buffer> = Object.fromEntries(
  ['ADDED', 'MODIFIED', 'DELETED'].map((t) => [t, Buffer.from(`{"type":"${t}","object":`)]),
);
const SUFFIX = Buffer.from('}\n');

type Path = (string | number)[];
/** Per kind, where objects of one Deployment and shape differ from event to event. */
const HOLES: Record<keyof typeof PATHS, Path[]> = {
  d: [
    ['metadata', 'resourceVersion'],
    ['metadata', 'generation'],
    ['spec', 'template', 'spec', 'containers', 0, 'image'],
    ['status', 'observedGeneration'],
    ...[0, 1].flatMap((k) => [
      ['status', 'conditions', k, 'lastUpdateTime'],
      ['status', 'conditions', k, 'lastTransitionTime'],
    ]),
  ],
  r: [['metadata', 'resourceVersion']],
  p: [
    ['metadata', 'resourceVersion'],
    ['metadata', 'name'],
    ['metadata', 'uid'],
    ['status', 'podIP'],
    ['status', 'podIPs', 0, 'ip'],
    ...[
      ['image'],
      ['containerID'],
      ['restartCount'],
      ['state', 'running', 'startedAt'],
      ['lastState', 'terminated', 'startedAt'],
      ['lastState', 'terminated', 'finishedAt'],
    ].map((p) => ['status', 'containerStatuses', 0, ...p]),
  ],
};

/** What besides the holes tells one object's JSON from another of the same Deployment and kind. */
function shapeOf(kind: keyof typeof PATHS, o: Obj): string {
  if (kind === 'd') return o.status.conditions[0].reason;
  if (kind === 'r') return `${o.metadata.name}:${o.spec.replicas}`;
  const c = o.status.containerStatuses[0];
  return c.state.waiting ? 'crash-looping' : c.restartCount > 0 ? 'restarted' : 'new';
}

const at = (o: Obj, path: Path) => {
  let v: unknown = o;
  for (const k of path) v = (v as Obj)[k];
  return v;
};

/** An object's JSON as bytes between holes, the holes in the order the JSON has them. */
class Template {
  parts: Buffer[] = [];
  holes: Path[] = [];

  constructor(o: Obj, holes: Path[]) {
    // Each hole that the object has gets a marker value, the JSON is cut at the markers, the values put back.
    const present = holes.filter((p) => {
      let v: unknown = o;
      for (const k of p) {
        if (v === null || typeof v !== 'object' || !(k in v)) return false;
        v = (v as Obj)[k];
      }
      return true;
    });
    const saved = present.map((p) => at(o, p));
    const put = (p: Path, v: unknown) => {
      (at(o, p.slice(0, -1)) as Obj)[p[p.length - 1]] = v;
    };
    for (const [k, p] of present.entries()) put(p, `\u0000hole${k}\u0000`);
    let json: string;
    try {
      json = JSON.stringify(o);
    } finally {
      for (const [k, p] of present.entries()) put(p, saved[k]);
    }
    const marker = /"\\u0000hole(\d+)\\u0000"/g;
    let from = 0;
    for (let m = marker.exec(json); m; m = marker.exec(json)) {
      this.parts.push(Buffer.from(json.slice(from, m.index)));
      this.holes.push(present[Number(m[1])]);
      from = m.index + m[0].length;
    }
    this.parts.push(Buffer.from(json.slice(from)));
  }

  write(o: Obj, out: Chunk): void {
    for (let k = 0; k < this.holes.length; k++) {
      out.bytes(this.parts[k]);
      out.string(JSON.stringify(at(o, this.holes[k])));
    }
    out.bytes(this.parts[this.holes.length]);
  }
}

/** A growing byte buffer, from a pool of buffers that are given back once written. */
class Chunk {
  private buf: Buffer;
  length = 0;
  constructor(
    private pool: Buffer[],
    size: number,
  ) {
    this.buf = this.get(size);
  }
  private get(size: number): Buffer {
    const b = this.pool.pop();
    if (b && b.length >= size) return b;
    return Buffer.allocUnsafe(Math.max(size, 1 << 20, b?.length ?? 0));
  }
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = this.get(Math.max(this.buf.length * 2, this.length + n));
    bigger.set(this.buf.subarray(0, this.length));
    this.pool.push(this.buf);
    this.buf = bigger;
  }
  bytes(b: Buffer): void {
    this.room(b.length);
    // TypedArray set, not Buffer copy: on Node 20 copy's own checks cost more than a 100-byte copy.
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  string(s: string): void {
    this.room(s.length * 3);
    this.length += this.buf.write(s, this.length);
  }
  text(from: number): string {
    return this.buf.toString('utf8', from, this.length);
  }
  take(): { chunk: Buffer; release: () => void } {
    const buf = this.buf;
    return { chunk: buf.subarray(0, this.length), release: () => this.pool.push(buf) };
  }
}
