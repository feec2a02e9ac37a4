import type { CatalogStore } from '@bank/catalog';
import { collectiveOf, type GraphIndex, impact, nodeCard, paths, resolveRef } from '@bank/graph';
import { toPortalError } from '@bank/plugin-graph';
import { InputError } from '@bank/plugin-kit';
import {
  compareEnvironment,
  type DesiredManifests,
  desiredWorkload,
  type EnvironmentComparison,
} from './compare.ts';
import type { ClusterWatch, LiveEnvironment } from './k8s-live.ts';
import {
  clockSkewMs,
  configuredEnvironments,
  type Deploy,
  type DeploySource,
  type DeployStatus,
  parseDeployEvent,
  parseSince,
} from './model.ts';
import { type OnCallDirectory, onCallOfServices, type ServiceOnCall } from './oncall.ts';
import { DeployStore, type NewestKey, type RecordOutcome, type ResolvedDeployEvent } from './store.ts';

export interface DeploysDeps {
  store: CatalogStore;
  getIndex: () => GraphIndex;
  /** Environments in promotion order; default configuredEnvironments() (PORTAL_ENVIRONMENTS). */
  environments?: string[];
  now?: () => number;
  skewMs?: number;
  /** Live cluster state (PORTAL_K8S_CONTEXTS); absent when no cluster is configured. */
  live?: ClusterWatch;
  /** An entity's `backstage.io/kubernetes-id` annotation, which its cluster objects carry as a label. */
  kubernetesIdOf?: (ref: string) => string | undefined;
  /** Who is on call (onCallFromEnv: PagerDuty or the estate's schedule file); absent: rotas stay bare ids. */
  onCall?: OnCallDirectory | null;
  /** The repo's k8s/ manifests of a service (plugins/entity's desiredStateOf); absent: desired is unknown. */
  desiredOf?: (ref: string) => Promise<DesiredManifests | null>;
  /**
   * Whether an entity is in the catalogue, asked of the catalogue itself where the caller has it (the demo
   * history is filtered with it at start, before anything needs the graph); default: a node of the index.
   */
  isKnown?: (ref: string) => boolean;
}

/** Desired (the repo's k8s/) vs deployed (the last successful deploy) vs live (the cluster), per environment. */
export interface ServiceComparison {
  service: string;
  kubernetesId: string | null;
  /** False when the portal watches no cluster (PORTAL_K8S_CONTEXTS unset). */
  liveConfigured: boolean;
  environments: EnvironmentComparison[];
  /** Some environment has a mismatch. */
  mismatch: boolean;
  demo: boolean;
}

/** A service's rota resolved: who to call now, the next hand-over, page and Slack links, the runbook. */

export interface ServiceLive {
  service: string;
  kubernetesId: string | null;
  /** False when the portal watches no cluster (PORTAL_K8S_CONTEXTS unset). */
  configured: boolean;
  environments: LiveEnvironment[];
}

export interface RecordResult {
  outcome: RecordOutcome;
  deploy: Deploy;
  /** How many demo deploys were dropped because this was the first real one. */
  droppedDemo?: number;
}

/** Per environment: what runs there (the newest successful deploy) and the newest deploy of any status. */
export interface EnvironmentState {
  environment: string;
  running: Deploy | null;
  latest: Deploy | null;
}

export interface ServiceDeploys {
  service: string;
  environments: EnvironmentState[];
  /** The last 20 deploys, newest first. */
  recent: Deploy[];
  /** True when what is shown is the generated demo history, not real deploys. */
  demo: boolean;
}

const DAY_MS = 86_400_000;

/** A catalogue row's deploy column: what runs (in the last environment that runs anything) and recency. */
export interface CatalogueDeploy {
  deployed: { environment: string; version: string; since: string; actor: string | null } | null;
  /** When the newest deploy (any environment, any status) started; null when never deployed. */
  lastChangeAt: string | null;
  /** A deploy started in the window (24 h by default). */
  changed: boolean;
  demo: boolean;
}

/** Services whose prod (last environment) version is older than N days or behind staging (the first). */
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

/** A hop (service) of a change timeline: its last deploy per environment and whether it changed. */
export interface ChangedService {
  ref: string;
  name: string;
  owner: string | null;
  /** Newest deploy per environment (any status), by environment name; null when none. */
  last: Record<string, Deploy | null>;
  /** Deploys that started in the window. */
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
  /** Every deploy to a service in scope that started in the window, newest first. */
  deploys: Deploy[];
  demo: boolean;
}

type Params = Record<string, string | undefined>;

const isComponent = (ref: string) => ref.startsWith('component:');
const isGroup = (ref: string) => ref.startsWith('group:');

/**
 * Deploy state for the portal: takes events (checked, resolved against the catalogue, stored once) and
 * answers "what runs where" and "what changed on this path / team / blast radius".
 */
export class DeploysService {
  readonly deploys: DeployStore;
  readonly environments: string[];
  private now: () => number;
  private skewMs: number;
  /** Whether the store may still hold demo history; checked once, then kept current by our own writes. */
  private demoPresent: boolean | undefined;
  private readonly recorded: Array<(r: RecordResult) => void> = [];

  constructor(private readonly deps: DeploysDeps) {
    this.deploys = new DeployStore(deps.store.driver);
    this.environments = deps.environments ?? configuredEnvironments();
    this.now = deps.now ?? Date.now;
    this.skewMs = deps.skewMs ?? clockSkewMs();
  }

  /** Told of every deploy stored (created or updated) after it is stored: what reads deploy state follows it. */
  onRecorded(fn: (r: RecordResult) => void): void {
    this.recorded.push(fn);
  }

  /** Write the configured environments into the store (at start). */
  async init(): Promise<this> {
    await this.deploys.syncEnvironments(this.environments);
    return this;
  }

  private index(): GraphIndex {
    return this.deps.getIndex();
  }

  /** A service name or ref → its canonical ref; unknown → 404 with the closest names. */
  resolveService(input: string, field = 'service'): string {
    try {
      return resolveRef(this.index(), input, { fn: 'deploys', field, accept: isComponent });
    } catch (err) {
      throw toPortalError(err);
    }
  }

  private resolve(input: string, field: string, accept: (ref: string) => boolean): string {
    try {
      return resolveRef(this.index(), input, { fn: 'deploys', field, accept });
    } catch (err) {
      throw toPortalError(err);
    }
  }

  checkEnvironment(name: string, field = 'environment'): string {
    const env = name.trim().toLowerCase();
    if (!this.environments.includes(env)) {
      throw new InputError(
        `${field} "${name}" is not a configured environment; configured: ${this.environments.join(', ')} (PORTAL_ENVIRONMENTS)`,
        { field, environments: this.environments },
      );
    }
    return env;
  }

  /**
   * Check, resolve and store one event sent by `recordedBy`. The write is audited here unless the caller
   * already records the attempt (`audited`: the HTTP routes, whose audit middleware writes one row per
   * request, outcome included); the CLI writes straight to the store and is audited here.
   */
  async record(
    body: unknown,
    recordedBy: string,
    source: DeploySource = 'api',
    opts: { audited?: boolean } = {},
  ): Promise<RecordResult> {
    const now = this.now();
    const ev = parseDeployEvent(body, { now, skewMs: this.skewMs });
    const environment = this.checkEnvironment(ev.environment);
    const service = this.resolveService(ev.service);
    const resolved: ResolvedDeployEvent = { ...ev, service, environment };
    let droppedDemo: number | undefined;
    if (source !== 'demo') {
      this.demoPresent ??= (await this.deploys.demoCount()) > 0;
      if (this.demoPresent) {
        droppedDemo = await this.deploys.dropDemo();
        this.demoPresent = false;
        await this.deps.store.audit(recordedBy, 'deploys.drop-demo', 'deploys', { dropped: droppedDemo });
      }
    }
    const { outcome, deploy } = await this.deploys.record(resolved, {
      source,
      recordedBy,
      receivedAtMs: now,
    });
    if (!opts.audited && (outcome === 'created' || outcome === 'updated')) {
      await this.deps.store.audit(
        recordedBy,
        `deploys.${outcome === 'created' ? 'record' : 'update'}`,
        service,
        {
          id: deploy.id,
          environment,
          version: deploy.version,
          status: deploy.status,
        },
      );
    }
    const result: RecordResult = droppedDemo ? { outcome, deploy, droppedDemo } : { outcome, deploy };
    if (outcome === 'created' || outcome === 'updated') for (const fn of this.recorded) fn(result);
    return result;
  }

  /** Load generated history when the store has no deploys at all (the quick start); returns how many. */
  async loadDemo(events: ResolvedDeployEvent[]): Promise<number> {
    if ((await this.deploys.count()) > 0) return 0;
    // node(), not relations.hasNode(): a saved index would make its whole relations graph to answer that.
    const isKnown = this.deps.isKnown ?? ((ref: string) => this.index().node(ref) !== undefined);
    const usable = events.filter((e) => isKnown(e.service) && this.environments.includes(e.environment));
    await this.deploys.insertMany(usable, { source: 'demo', recordedBy: 'demo', receivedAtMs: this.now() });
    this.demoPresent = usable.length > 0;
    return usable.length;
  }

  /** Services in a team (a squad, or every squad under a collective). */
  private servicesOwnedBy(group: string, collective: boolean): string[] {
    const index = this.index();
    const out: string[] = [];
    index.relations.forEachNode((ref, a) => {
      if (!isComponent(ref) || !a.present) return;
      if (collective ? collectiveOf(index, a.owner) === group : a.owner === group) out.push(ref);
    });
    return out.sort();
  }

  /** `portal deploys` / GET /api/deploys: deploys filtered by service, team, environment and time. */
  async list(p: Params): Promise<{ deploys: Deploy[]; demo: boolean }> {
    let services: string[] | undefined;
    if (p.service) services = [this.resolveService(p.service)];
    if (p.team) {
      const team = this.resolve(p.team, 'team', isGroup);
      const owned = this.servicesOwnedBy(team, collectiveOf(this.index(), team) === team);
      services = services ? services.filter((s) => owned.includes(s)) : owned;
    }
    const environment = p.env ? this.checkEnvironment(p.env, 'env') : undefined;
    const sinceMs = p.since ? parseSince(p.since, 'since', this.now()) : undefined;
    const limit = intParam(p.limit, 'limit', 1, 10_000, 100);
    const deploys = await this.deploys.list({ services, environment, sinceMs, limit });
    return { deploys, demo: deploys.some((d) => d.source === 'demo') };
  }

  /** The entity page's card: per environment what runs and the newest deploy, and the last 20. */
  async state(serviceInput: string): Promise<ServiceDeploys> {
    const service = this.resolveService(serviceInput);
    const environments = (await this.statesOf([service])).get(service) ?? [];
    const recent = await this.deploys.list({ services: [service], limit: 20 });
    return { service, environments, recent, demo: recent.some((d) => d.source === 'demo') };
  }

  /** Per service and environment, what runs and the newest deploy: one statement for all of them. */
  private async statesOf(services: string[]): Promise<Map<string, EnvironmentState[]>> {
    const keys: NewestKey[] = services.flatMap((service) =>
      this.environments.flatMap((environment) => [
        { service, environment },
        { service, environment, statuses: ['succeeded'] as DeployStatus[] },
      ]),
    );
    const found = await this.deploys.newestOf(keys);
    const out = new Map<string, EnvironmentState[]>();
    let i = 0;
    for (const service of services) {
      const states: EnvironmentState[] = [];
      for (const environment of this.environments) {
        const latest = found[i++] ?? null;
        const running = found[i++] ?? null;
        states.push({ environment, running, latest });
      }
      out.set(service, states);
    }
    return out;
  }

  /**
   * The catalogue's deploy column for a page of rows (refs that are not services get nothing): the
   * deployed version in the last environment that runs one (prod, else staging …) and whether the service
   * changed (a deploy of any status started) in the last `windowMs`. One statement for the whole page.
   */
  async catalogueColumn(refs: string[], windowMs = DAY_MS): Promise<Map<string, CatalogueDeploy>> {
    const services = [...new Set(refs.filter(isComponent))];
    const states = await this.statesOf(services);
    const cutoff = this.now() - windowMs;
    const out = new Map<string, CatalogueDeploy>();
    for (const service of services) {
      const envs = states.get(service) ?? [];
      const shown = [...envs].reverse().find((e) => e.running);
      const newest = envs
        .map((e) => e.latest)
        .filter((d): d is Deploy => !!d)
        .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))[0];
      out.set(service, {
        deployed: shown?.running
          ? {
              environment: shown.environment,
              version: shown.running.version,
              since: shown.running.finishedAt ?? shown.running.startedAt,
              actor: shown.running.actor,
            }
          : null,
        lastChangeAt: newest?.startedAt ?? null,
        changed: !!newest && Date.parse(newest.startedAt) >= cutoff,
        demo: envs.some((e) => e.latest?.source === 'demo'),
      });
    }
    return out;
  }

  /**
   * The catalogue's "changed in the last …" filter: every service with a deploy (any status) started in
   * the window (`since`: 30m, 24h, 7d or ISO 8601), optionally only deploys to one environment.
   */
  async changedServices(since: string, environment?: string): Promise<Set<string>> {
    const sinceMs = parseSince(since, 'changed', this.now());
    const env = environment ? this.checkEnvironment(environment, 'changedEnv') : undefined;
    return this.deploys.changedSince(sinceMs, env);
  }

  /**
   * Who to call now for each service: its `bank.io/oncall-rota` resolved by the on-call directory; the
   * Slack channel falls back to the entity's own when the directory has none (PagerDuty knows no Slack).
   */
  async onCallFor(serviceInputs: readonly string[], at = this.now()): Promise<ServiceOnCall[]> {
    const refs = [...new Set(serviceInputs.map((s) => this.resolveService(s)))];
    return onCallOfServices(this.index(), refs, this.deps.onCall, at);
  }

  /**
   * Version skew between the first environment (staging) and the last (prod): per service that has run in
   * either, the running versions, and the services whose prod version is older than `olderThanDays` or is
   * behind staging by more than one release (more than one distinct version succeeded in staging since).
   * Reads the last 10,000 succeeded deploys per environment.
   */
  async skew(olderThanDays = 30): Promise<VersionSkew> {
    if (!Number.isFinite(olderThanDays) || olderThanDays <= 0)
      throw new InputError(`days: a positive number of days, got ${olderThanDays}`);
    const first = this.environments[0];
    const last = this.environments[this.environments.length - 1];
    const ok = ['succeeded'] as DeployStatus[];
    const [staged, produced] = await Promise.all([
      this.deploys.list({ environment: first, statuses: ok, limit: 10_000 }),
      this.deploys.list({ environment: last, statuses: ok, limit: 10_000 }),
    ]);
    const prodOf = new Map<string, Deploy>();
    for (const d of produced) if (!prodOf.has(d.service)) prodOf.set(d.service, d); // newest first
    const stagedOf = new Map<string, Deploy[]>();
    for (const d of staged) stagedOf.set(d.service, [...(stagedOf.get(d.service) ?? []), d]);
    const cutoff = this.now() - olderThanDays * 86_400_000;
    const refs = [...new Set([...prodOf.keys(), ...stagedOf.keys()])].sort();
    const services = refs.map((service) => {
      const prod = prodOf.get(service);
      const stagedList = stagedOf.get(service) ?? [];
      const newer = new Set(
        stagedList
          .filter(
            (d) =>
              !prod || (Date.parse(d.startedAt) > Date.parse(prod.startedAt) && d.version !== prod.version),
          )
          .map((d) => d.version),
      );
      const stale = !!prod && Date.parse(prod.startedAt) < cutoff;
      return {
        service,
        staging: stagedList[0]?.version ?? null,
        prod: prod?.version ?? null,
        prodSince: prod ? (prod.finishedAt ?? prod.startedAt) : null,
        releasesBehind: newer.size,
        stale,
        behind: newer.size > 1,
      };
    });
    return {
      environments: [first, last],
      olderThanDays,
      services: services.filter((s) => s.stale || s.behind),
    };
  }

  /** What the clusters run for a service, per environment (Deployments labelled with its kubernetes-id). */
  live(serviceInput: string): ServiceLive {
    const service = this.resolveService(serviceInput);
    const kubernetesId = this.deps.kubernetesIdOf?.(service) ?? null;
    const configured = this.deps.live?.configured ?? false;
    return {
      service,
      kubernetesId,
      configured,
      environments: configured && kubernetesId && this.deps.live ? this.deps.live.liveFor(kubernetesId) : [],
    };
  }

  /**
   * Side by side per environment: the image and replicas the repo's k8s/ manifests declare, the last
   * successful deploy, and what the cluster runs (the informers), with every disagreement spelled out.
   */
  async compare(serviceInput: string): Promise<ServiceComparison> {
    const service = this.resolveService(serviceInput);
    const [states, manifests] = await Promise.all([
      this.statesOf([service]),
      this.deps.desiredOf ? this.deps.desiredOf(service) : Promise.resolve(null),
    ]);
    const desired = manifests ? desiredWorkload(manifests) : null;
    const live = this.live(service);
    const environments = (states.get(service) ?? []).map((s) =>
      compareEnvironment(
        s.environment,
        desired,
        s.running,
        live.environments.find((e) => e.environment === s.environment),
      ),
    );
    return {
      service,
      kubernetesId: live.kubernetesId,
      liveConfigured: live.configured,
      environments,
      mismatch: environments.some((e) => e.mismatches.length > 0),
      demo: (states.get(service) ?? []).some((s) => s.latest?.source === 'demo'),
    };
  }

  /**
   * What changed: every deploy in the window to the services of a call path (`from`, `to`), a team, a
   * collective, a blast radius (`impact`) or one service, with each service's last deploy per environment.
   * Path finding and the blast radius are the graph's.
   */
  async changes(p: Params): Promise<ChangeTimeline> {
    const now = this.now();
    const sinceMs = parseSince(p.since || '24h', 'since', now);
    const index = this.index();
    let scope: ChangeTimeline['scope'];
    let services: string[];
    try {
      if (p.from || p.to) {
        if (!p.from || !p.to)
          throw new InputError('changes: a path needs both from and to (e.g. from=card-api&to=feed)');
        const result = paths(index, p.from, p.to, {
          k: intParam(p.k, 'k', 1, 50, 5),
          maxHops: intParam(p.maxHops, 'maxHops', 1, 15, 8),
        });
        const seen = new Set<string>();
        for (const path of result.paths) for (const hop of path.hops) seen.add(hop.ref);
        if (seen.size === 0) seen.add(result.from).add(result.to);
        services = [...seen];
        scope = { kind: 'path', from: result.from, to: result.to };
      } else if (p.team) {
        const team = this.resolve(p.team, 'team', isGroup);
        services = this.servicesOwnedBy(team, false);
        scope = { kind: 'team', ref: team };
      } else if (p.collective) {
        const collective = this.resolve(p.collective, 'collective', isGroup);
        services = this.servicesOwnedBy(collective, true);
        scope = { kind: 'collective', ref: collective };
      } else if (p.impact) {
        const result = impact(index, p.impact);
        services = [...result.origins, ...result.dependents.map((d) => d.ref)];
        scope = { kind: 'impact', ref: result.ref };
      } else if (p.service) {
        const ref = this.resolveService(p.service);
        services = [ref];
        scope = { kind: 'service', ref };
      } else {
        throw new InputError(
          'changes: say what to look at: from and to (a call path), team, collective, impact (a blast radius) or service',
        );
      }
    } catch (err) {
      throw toPortalError(err);
    }
    const deploys = await this.deploys.list({ services, sinceMs, limit: 1000 });
    const inWindow = new Map<string, number>();
    for (const d of deploys) inWindow.set(d.service, (inWindow.get(d.service) ?? 0) + 1);
    const out: ChangedService[] = [];
    const states = await this.statesOf(services);
    for (const ref of services) {
      const last: Record<string, Deploy | null> = {};
      for (const s of states.get(ref) ?? []) last[s.environment] = s.latest;
      const card = index.node(ref) !== undefined ? nodeCard(index, ref) : undefined;
      const changes = inWindow.get(ref) ?? 0;
      out.push({
        ref,
        name: card?.name ?? ref,
        owner: card?.owner ?? null,
        last,
        changes,
        changed: changes > 0,
      });
    }
    const demo =
      deploys.some((d) => d.source === 'demo') ||
      out.some((s) => Object.values(s.last).some((d) => d?.source === 'demo'));
    return {
      scope,
      since: new Date(sinceMs).toISOString(),
      environments: this.environments,
      services: out,
      deploys,
      demo,
    };
  }
}

function intParam(raw: string | undefined, name: string, min: number, max: number, dflt: number): number {
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max)
    throw new InputError(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`, {
      field: name,
      min,
      max,
    });
  return n;
}

export type { DeployStatus };
