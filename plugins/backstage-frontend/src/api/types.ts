/**
 * The JSON the portal answers on /api/graph/* and /api/deploys/changes: the subset this plugin reads.
 * Declared here (not imported from the portal's packages) so the plugin installs into a Backstage app on
 * its own; the tests render them from a real `portal serve`.
 */

/** One service on a call path or in a blast radius, as the portal's graph knows it. */
export interface ServiceCard {
  ref: string;
  kind: string;
  name: string;
  title?: string | null;
  owner: string | null;
  collective?: string | null;
  tier: number | null;
  oncall?: string | null;
  runbook?: string | null;
  slack?: string | null;
}

export interface PathEdge {
  from: string;
  to: string;
  /** dependsOn, consumesApi, observed… */
  kinds: string[];
  /** declared and/or observed (from traces). */
  sources: string[];
  apis?: string[];
}

export interface CallPath {
  length: number;
  hops: ServiceCard[];
  edges: PathEdge[];
}

export interface PathsAnswer {
  from: string;
  to: string;
  k: number;
  maxHops: number;
  paths: CallPath[];
}

export interface Dependent extends ServiceCard {
  /** Hops from the service whose blast radius this is. */
  depth: number;
  /** The service it calls on the way (the next hop towards the origin). */
  through: string;
}

export interface ImpactRollup {
  ref: string;
  services: number;
  byTier: Record<string, number>;
  nearest: number;
}

export interface ImpactAnswer {
  ref: string;
  origins: string[];
  total: number;
  dependents: Dependent[];
  bySquad: ImpactRollup[];
  byCollective: ImpactRollup[];
}

export type DriftStatus = 'declared-only' | 'observed-only' | 'both';

export interface DriftFinding {
  from: string;
  to: string;
  status: DriftStatus;
  owner: string | null;
  since: string | null;
  possiblyDead: boolean;
  requests: number;
  lastSeen: string | null;
}

export interface DriftAnswer {
  observingSince: string | null;
  retentionDays: number;
  summary: Record<DriftStatus, number> & { possiblyDead: number };
  findings: DriftFinding[];
}

export interface Deploy {
  id: string;
  service: string;
  environment: string;
  version: string;
  status: string;
  actor?: string | null;
  commit?: string | null;
  startedAt: string;
  finishedAt?: string | null;
}

export interface ChangedService {
  ref: string;
  name: string;
  owner: string | null;
  changes: number;
  changed: boolean;
}

export interface ChangesAnswer {
  scope: { kind: string; from?: string; to?: string; ref?: string };
  since: string;
  environments: string[];
  services: ChangedService[];
  deploys: Deploy[];
  demo: boolean;
}

/** What a deploy timeline covers: a call path, a blast radius or one service. */
export type ChangesScope =
  | { from: string; to: string; since?: string }
  | { impact: string; since?: string }
  | { service: string; since?: string };
