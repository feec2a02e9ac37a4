/** Wire shapes of the portal API the UI reads (plugins search, entity, explorer, graph). */
export interface SearchHit {
  ref: string;
  kind: string;
  name: string;
  title: string | null;
  type: string | null;
  owner: string | null;
  ownerTitle: string | null;
  tier: string | null;
  matched: 'name' | 'title' | 'tag' | 'owner';
}

export interface SearchResult {
  q: string;
  total: number;
  items: SearchHit[];
}

export interface CatalogueRow {
  ref: string;
  kind: string;
  namespace: string;
  name: string;
  title: string | null;
  type: string | null;
  description: string | null;
  owner: string | null;
  ownerTitle: string | null;
  collective: string | null;
  collectiveTitle: string | null;
  system: string | null;
  tier: string | null;
  lifecycle: string | null;
  tags: string[];
  stale: boolean;
  /** Deploy state of a service (null for other kinds): plugins/search's RowDeploy. */
  deploy?: {
    deployed: { environment: string; version: string; since: string; actor: string | null } | null;
    lastChangeAt: string | null;
    changed: boolean;
    demo: boolean;
  } | null;
  /** Production-readiness level (plugins/scorecards): a level, `none` below the lowest, null where none applies. */
  level?: string | null;
}

export const FACETS = [
  'kind',
  'type',
  'owner',
  'collective',
  'system',
  'tier',
  'lifecycle',
  'level',
] as const;
export type Facet = (typeof FACETS)[number];

export interface FacetCount {
  value: string;
  label: string;
  count: number;
}

export interface TablePage {
  total: number;
  page: number;
  pages: number;
  size: number;
  rows: CatalogueRow[];
  facets: Record<Facet, FacetCount[]>;
  facetValues: Record<Facet, number>;
  tookMs: number;
}

export interface EntitySummary {
  ref: string;
  kind: string;
  name: string;
  title: string | null;
  type: string | null;
  tier: string | null;
  owner: string | null;
  description: string | null;
  /** A relation's target that is not in the catalogue. */
  missing?: true;
}

export interface CallLink extends EntitySummary {
  via: string[];
  sources: string[];
}

export interface EntityBundle {
  ref: string;
  entity: {
    kind: string;
    metadata: { name: string; namespace?: string; title?: string; description?: string; tags?: string[] };
    spec?: Record<string, unknown>;
  };
  title: string;
  stale: string | null;
  owner: EntitySummary | null;
  collective: EntitySummary | null;
  system: EntitySummary | null;
  facts: {
    tier: string | null;
    lifecycle: string | null;
    type: string | null;
    language: string | null;
    oncall: string | null;
    runbook: string | null;
    slack: string | null;
    repo: string | null;
    template: string | null;
    templateVersion: string | null;
    serviceId: string | null;
  };
  links: { url: string; title: string }[];
  unsafeLinks: number;
  calls: {
    dependencies: CallLink[];
    dependents: CallLink[];
    transitiveDependencies: number;
    transitiveDependents: number;
  } | null;
  apis: {
    provided: EntitySummary[];
    consumed: EntitySummary[];
    providers: EntitySummary[];
    consumers: EntitySummary[];
  };
  resources: EntitySummary[];
  relations: Record<string, EntitySummary[]>;
  group: {
    type: string | null;
    email: string | null;
    parent: EntitySummary | null;
    children: EntitySummary[];
    members: EntitySummary[];
    owned: EntitySummary[];
    servicesByTier: Record<string, number>;
    servicesBelow: number;
  } | null;
  user: { email: string | null; memberOf: EntitySummary[]; owned: EntitySummary[] } | null;
  ingestErrors: {
    file: string;
    line: number;
    column: number;
    message: string;
    severity: 'error' | 'warning';
  }[];
  sourceFile: string | null;
}

export interface K8sAnswer {
  ref: string;
  k8s: {
    dir: string;
    workloads: {
      kind: string;
      name: string;
      namespace: string | null;
      replicas: number | null;
      containers: {
        name: string;
        image: string | null;
        requests: Record<string, string>;
        limits: Record<string, string>;
        ports: number[];
      }[];
      file: string;
    }[];
    objects: { kind: string; name: string; file: string }[];
    problems: string[];
  } | null;
}

export interface NodeCard {
  ref: string;
  kind: string;
  name: string;
  title: string | null;
  owner: string | null;
  collective: string | null;
  tier: number | null;
  oncall: string | null;
  runbook: string | null;
  missing?: true;
}

export interface CallEdge {
  from: string;
  to: string;
  kinds: string[];
  sources: string[];
  apis?: string[];
}

export interface PathsResult {
  from: string;
  to: string;
  k: number;
  maxHops: number;
  paths: { length: number; hops: NodeCard[]; edges: CallEdge[] }[];
  unreachable?: {
    cutOff: 'from' | 'to' | 'between' | 'maxHops';
    shortestHops?: number;
    fromReaches: { count: number; sample: string[] };
    reachesTo: { count: number; sample: string[] };
    message: string;
  };
}

export interface Rollup {
  ref: string | null;
  services: number;
  byTier: Record<string, number>;
  nearest: number;
}

export interface ImpactResult {
  ref: string;
  origins: string[];
  depth: number | null;
  total: number;
  dependents: (NodeCard & { depth: number; through: string })[];
  bySquad: Rollup[];
  byCollective: Rollup[];
}

export interface TeamLoad {
  ref: string;
  name: string;
  title: string | null;
  type: string | null;
  collective: string | null;
  members: number;
  services: number;
  resources: number;
  byTier: Record<string, number>;
}

export interface OrgSquad {
  ref: string;
  name: string;
  title: string;
  members: number;
  services: number;
  byTier: Record<string, number>;
}

export interface OrgChart {
  version: number;
  totals: { couplingPairs: number; tierInversions: number };
  root: { ref: string; title: string; members: number; services: number } | null;
  collectives: (OrgSquad & { squads: OrgSquad[] })[];
  ownership: {
    squads: TeamLoad[];
    collectives: (TeamLoad & { squads: number })[];
    orphans: { ref: string; kind: string; tier: number | null; owner: string | null; reason: string }[];
    tierInversions: {
      from: string;
      fromTier: number;
      fromOwner: string | null;
      to: string;
      toTier: number;
      toOwner: string | null;
    }[];
    coupling: { from: string; to: string; calls: number }[];
    collectiveCoupling: { from: string; to: string; calls: number }[];
  };
}

/** A deploy as /api/deploys answers (plugins/deploys). */
export interface Deploy {
  id: string;
  service: string;
  environment: string;
  version: string;
  image: string | null;
  commit: string | null;
  actor: string | null;
  status: 'started' | 'succeeded' | 'failed' | 'rolled_back';
  startedAt: string;
  finishedAt: string | null;
  source: 'api' | 'cli' | 'github' | 'demo';
  labels: Record<string, unknown>;
  recordedBy: string;
  receivedAt: string;
}

export interface ServiceDeploys {
  service: string;
  environments: { environment: string; running: Deploy | null; latest: Deploy | null }[];
  recent: Deploy[];
  demo: boolean;
}

export interface ChangedService {
  ref: string;
  name: string;
  owner: string | null;
  last: Record<string, Deploy | null>;
  changes: number;
  changed: boolean;
}

export interface ChangeTimeline {
  scope: {
    kind: 'path' | 'team' | 'collective' | 'impact' | 'service';
    from?: string;
    to?: string;
    ref?: string;
  };
  since: string;
  environments: string[];
  services: ChangedService[];
  deploys: Deploy[];
  demo: boolean;
}

/** An edge's figures over one window (GET /api/traffic/edges). */
export interface EdgeHealth {
  window: '1m' | '1h' | '1d';
  requests: number;
  errors: number;
  errorRate: number;
  rps: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

/** One observed call edge (from traces). */
export interface ObservedEdge {
  from: string;
  to: string;
  caller: string;
  callee: string;
  type: string;
  virtual: boolean;
  unknown: boolean;
  requests: number;
  errors: number;
  firstSeen: string;
  lastSeen: string;
  health: Record<'1m' | '1h' | '1d', EdgeHealth>;
}

export interface LiveWorkload {
  namespace: string;
  name: string;
  desired: number;
  ready: number;
  updated: number;
  available: number;
  rolloutComplete: boolean;
  images: string[];
  restarts: number;
  crashLooping: string[];
  replicaSets: number;
}

export interface ServiceLive {
  service: string;
  kubernetesId: string | null;
  configured: boolean;
  environments: {
    environment: string;
    context: string;
    state: 'connecting' | 'live' | 'unknown';
    since: string;
    error?: string;
    workloads: LiveWorkload[];
  }[];
}

/** GET /api/deploys/skew: prod older than N days or behind staging (plugins/deploys service.ts VersionSkew). */
export interface VersionSkew {
  environments: [string, string];
  olderThanDays: number;
  services: {
    service: string;
    staging: string | null;
    prod: string | null;
    prodSince: string | null;
    releasesBehind: number;
    stale: boolean;
    behind: boolean;
  }[];
}

/** GET /api/deploys/compare: desired (k8s/) vs deployed vs live per environment (plugins/deploys compare.ts). */
export interface ServiceComparison {
  service: string;
  kubernetesId: string | null;
  liveConfigured: boolean;
  mismatch: boolean;
  demo: boolean;
  environments: {
    environment: string;
    desired: {
      dir: string;
      workload: string | null;
      file: string | null;
      image: string | null;
      replicas: number | null;
      problems: string[];
    } | null;
    deployed: { id: string; version: string; image: string | null; at: string; actor: string | null } | null;
    live: {
      state: 'connecting' | 'live' | 'unknown';
      since: string;
      error?: string;
      workload: string | null;
      images: string[];
      desired: number | null;
      ready: number | null;
      rolloutComplete: boolean | null;
    } | null;
    mismatches: string[];
  }[];
}

/** GET /api/deploys/oncall: who to call now for a service (plugins/deploys/src/lib/oncall.ts). */
export interface OnCallPerson {
  name: string;
  displayName: string;
  email: string | null;
}

export interface ServiceOnCall {
  service: string;
  rota: string | null;
  runbook: string | null;
  onCall: {
    rota: string;
    source: 'schedule-file' | 'pagerduty';
    onCall: OnCallPerson | null;
    since: string | null;
    until: string | null;
    next: OnCallPerson | null;
    pageUrl: string | null;
    slackChannel: string | null;
    slackUrl: string | null;
    error?: string;
  } | null;
}
