import path from 'node:path';
import {
  ANNOTATION,
  displayPath,
  type IngestErrorRow,
  isWarningRow,
  safeUrl,
  splitRef,
  WARNING_PREFIX,
} from '@bank/catalog';
import type { GraphIndex } from '@bank/graph';
import { collectiveOf, forEachCallOf, hasCallNode } from '@bank/graph';
import type { CatalogView, ServedEntity } from '@bank/plugin-catalog';

/** Another entity as a line in a list: enough to link to it and say what it is. */
export interface EntitySummary {
  ref: string;
  kind: string;
  name: string;
  title: string | null;
  type: string | null;
  tier: string | null;
  owner: string | null;
  description: string | null;
  /** A relation's target that is not in the catalogue (kept and served, as Backstage does). */
  missing?: true;
}

export interface CallLink extends EntitySummary {
  /** How the call is known: dependsOn, or consumesApi through these APIs. */
  via: string[];
  sources: string[];
}

export interface EntityBundle {
  ref: string;
  entity: ServedEntity;
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
  /** metadata.links with only http(s)/mailto URLs kept; the rest counted. */
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
  /** Relations grouped by type (everything, for kinds without a richer section). */
  relations: Record<string, EntitySummary[]>;
  group: {
    type: string | null;
    email: string | null;
    parent: EntitySummary | null;
    children: EntitySummary[];
    members: EntitySummary[];
    owned: EntitySummary[];
    /** Components owned by this group and every group below it, per tier. */
    servicesByTier: Record<string, number>;
    servicesBelow: number;
  } | null;
  user: { email: string | null; memberOf: EntitySummary[]; owned: EntitySummary[] } | null;
  /** The problems stored for its file or naming it; a warning refused nothing (a missing target, say). */
  ingestErrors: {
    file: string;
    line: number;
    column: number;
    message: string;
    severity: 'error' | 'warning';
  }[];
  /** Where the descriptor is (for k8s manifests and errors). */
  sourceFile: string | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function displayTitle(e: ServedEntity): string {
  const profile = (e.spec as { profile?: { displayName?: unknown } } | undefined)?.profile;
  return str(profile?.displayName) ?? str(e.metadata.title) ?? e.metadata.name;
}

export function summarise(view: CatalogView, ref: string): EntitySummary {
  const e = view.byRef.get(ref);
  const { kind, name } = splitRef(ref);
  if (!e)
    return {
      ref,
      kind,
      name,
      title: null,
      type: null,
      tier: null,
      owner: null,
      description: null,
      missing: true,
    };
  const spec = (e.spec ?? {}) as Record<string, unknown>;
  const desc = str(e.metadata.description);
  return {
    ref,
    kind,
    name,
    title: displayTitle(e),
    type: str(spec.type),
    tier: str(e.metadata.annotations?.[ANNOTATION.tier]),
    owner: e.relations.find((r) => r.type === 'ownedBy')?.targetRef ?? null,
    description: desc && desc.length > 140 ? `${desc.slice(0, 139)}…` : desc,
  };
}

const byName = (a: EntitySummary, b: EntitySummary) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const tierThenName = (a: EntitySummary, b: EntitySummary) =>
  (a.tier ?? '9').localeCompare(b.tier ?? '9') || byName(a, b);

function targets(e: ServedEntity, type: string): string[] {
  return e.relations.filter((r) => r.type === type).map((r) => r.targetRef);
}

/** How many nodes a walk from `start` reaches over call edges in one direction (start excluded). */
export function reachable(index: GraphIndex, start: string, direction: 'out' | 'in'): number {
  if (!hasCallNode(index, start)) return 0;
  const seen = new Set([start]);
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.pop() as string;
    forEachCallOf(index, node, direction, (_a, next) => {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    });
  }
  return seen.size - 1;
}

function callLinks(view: CatalogView, index: GraphIndex, ref: string, direction: 'out' | 'in'): CallLink[] {
  const links: CallLink[] = [];
  forEachCallOf(index, ref, direction, (a, other) => {
    const via = a.kinds.includes('dependsOn') ? ['dependsOn'] : [];
    links.push({ ...summarise(view, other), via: [...via, ...a.apis], sources: a.sources });
  });
  return links.sort(tierThenName);
}

/** Groups below `group` (itself included), following parentOf. */
function groupTree(view: CatalogView, group: string): string[] {
  const out: string[] = [];
  const queue = [group];
  const seen = new Set<string>();
  while (queue.length > 0 && out.length < 10_000) {
    const g = queue.shift() as string;
    if (seen.has(g)) continue;
    seen.add(g);
    out.push(g);
    const e = view.byRef.get(g);
    if (e) queue.push(...targets(e, 'parentOf'));
  }
  return out;
}

/** Everything the entity page shows, in one answer. */
export function entityBundle(
  view: CatalogView,
  index: GraphIndex,
  ref: string,
  errors: IngestErrorRow[],
): EntityBundle {
  const e = view.byRef.get(ref) as ServedEntity;
  const ann = e.metadata.annotations ?? {};
  const spec = (e.spec ?? {}) as Record<string, unknown>;
  const kind = e.kind.toLowerCase();
  const owner = targets(e, 'ownedBy')[0];
  const collective = collectiveOf(index, owner);
  const system = targets(e, 'partOf').find((t) => t.startsWith('system:'));
  const location = str(ann[ANNOTATION.managedByLocation]);
  const sourceFile = location?.startsWith('file:') ? location.slice(5) : null;
  const rawLinks = Array.isArray(e.metadata.links) ? e.metadata.links : [];
  const links = rawLinks
    .map((l) => ({
      url: safeUrl((l as { url?: unknown }).url),
      title: str((l as { title?: unknown }).title),
    }))
    .filter((l): l is { url: string; title: string | null } => l.url !== null)
    .map((l) => ({ url: l.url, title: l.title ?? l.url }));
  const repoRaw = str(ann[ANNOTATION.sourceLocation])?.replace(/^url:/, '') ?? null;

  const relations: Record<string, EntitySummary[]> = {};
  for (const r of e.relations) {
    relations[r.type] ??= [];
    relations[r.type].push(summarise(view, r.targetRef));
  }
  for (const list of Object.values(relations)) list.sort(byName);
  const sum = (type: string) => (relations[type] ?? []).slice();

  let group: EntityBundle['group'] = null;
  if (kind === 'group') {
    const tree = groupTree(view, ref);
    const servicesByTier: Record<string, number> = {};
    let servicesBelow = 0;
    for (const g of tree) {
      const ge = view.byRef.get(g);
      if (!ge) continue;
      for (const owned of targets(ge, 'ownerOf')) {
        if (!owned.startsWith('component:')) continue;
        servicesBelow++;
        const tier = str(view.byRef.get(owned)?.metadata.annotations?.[ANNOTATION.tier]) ?? 'unknown';
        servicesByTier[tier] = (servicesByTier[tier] ?? 0) + 1;
      }
    }
    const profile = (spec.profile ?? {}) as Record<string, unknown>;
    group = {
      type: str(spec.type),
      email: safeUrl(`mailto:${str(profile.email) ?? ''}`) && str(profile.email) ? str(profile.email) : null,
      parent: targets(e, 'childOf').map((t) => summarise(view, t))[0] ?? null,
      children: sum('parentOf'),
      members: sum('hasMember'),
      owned: sum('ownerOf').sort(tierThenName),
      servicesByTier,
      servicesBelow,
    };
  }
  let user: EntityBundle['user'] = null;
  if (kind === 'user') {
    const memberOf = sum('memberOf');
    const owned = memberOf
      .flatMap((g) =>
        targets(view.byRef.get(g.ref) ?? ({ relations: [] } as unknown as ServedEntity), 'ownerOf'),
      )
      .filter((r) => r.startsWith('component:'))
      .map((r) => summarise(view, r))
      .sort(tierThenName);
    const profile = (spec.profile ?? {}) as Record<string, unknown>;
    user = { email: str(profile.email), memberOf, owned };
  }

  const callable = hasCallNode(index, ref);
  return {
    ref,
    entity: e,
    title: displayTitle(e),
    stale: view.stale.has(ref) ? staleReason(e) : null,
    owner: owner ? summarise(view, owner) : null,
    collective: collective ? summarise(view, collective) : null,
    system: system ? summarise(view, system) : null,
    facts: {
      tier: str(ann[ANNOTATION.tier]),
      lifecycle: str(spec.lifecycle),
      type: str(spec.type),
      language: str(ann[ANNOTATION.language]),
      oncall: str(ann[ANNOTATION.oncall]),
      runbook: safeUrl(ann[ANNOTATION.runbook]),
      slack: str(ann[ANNOTATION.slack]),
      repo: safeUrl(repoRaw),
      template: str(ann[ANNOTATION.template]),
      templateVersion: str(ann[ANNOTATION.templateVersion]),
      serviceId: str(ann[ANNOTATION.serviceId]),
    },
    links,
    unsafeLinks: rawLinks.length - links.length,
    calls: callable
      ? {
          dependencies: callLinks(view, index, ref, 'out'),
          dependents: callLinks(view, index, ref, 'in'),
          transitiveDependencies: reachable(index, ref, 'out'),
          transitiveDependents: reachable(index, ref, 'in'),
        }
      : null,
    apis: {
      provided: sum('providesApi'),
      consumed: sum('consumesApi'),
      providers: sum('apiProvidedBy'),
      consumers: sum('apiConsumedBy'),
    },
    resources: sum('dependsOn').filter((s) => s.kind === 'resource'),
    relations,
    group,
    user,
    ingestErrors: errors
      .filter(
        (r) =>
          r.entityRef === ref ||
          (sourceFile !== null &&
            (r.file === sourceFile ||
              r.file === displayPath(sourceFile) ||
              path.resolve(r.file) === sourceFile)),
      )
      .map((r) => {
        const warning = isWarningRow(r);
        return {
          file: r.file,
          line: r.line,
          column: r.column,
          message: warning ? r.message.slice(WARNING_PREFIX.length) : r.message,
          severity: warning ? ('warning' as const) : ('error' as const),
        };
      }),
    sourceFile,
  };
}

/** Why an entity is stale, for a page that already says "Stale entry": the status message without its "Stale:". */
function staleReason(e: ServedEntity): string {
  const message = (e as { status?: { items?: { message?: string }[] } }).status?.items?.[0]?.message ?? '';
  const reason = message.replace(/^Stale:\s*/, '');
  return reason
    ? reason[0].toUpperCase() + reason.slice(1)
    : 'Its file has an error; the last good version is shown.';
}
