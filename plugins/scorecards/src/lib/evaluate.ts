/**
 * What each check kind means, in code reviewed here: a pure function of the facts about one service. The
 * scorecard file only chooses kinds and their parameters.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Entity } from '@bank/catalog';
import { collectiveOf, forEachCallOf, type GraphIndex } from '@bank/graph';
import { networkEdges } from '@bank/plugin-scaffolder/manifests.ts';
import {
  type CheckDefinition,
  type CheckKind,
  type FactName,
  forTier,
  type Position,
  type Scope,
  type Scorecard,
} from './definition.ts';
import {
  descriptorFile,
  K8S_ANNOTATION,
  lineOf,
  type ManifestCache,
  type ManifestSet,
  manifestFolder,
} from './facts.ts';

export type CheckStatus = 'pass' | 'fail' | 'n/a';

/** The file (and line) that decides a result: what to open to fix it. */
export interface Evidence {
  file: string;
  line?: number;
  /** The file in the repository's web view (from the entity's backstage.io/source-location), when known. */
  url?: string;
}

export interface CheckResult {
  check: string;
  title: string;
  /** The lowest level that needs this check (null: no level names it). */
  level: string | null;
  status: CheckStatus;
  /** Why it passed or failed, in words. */
  why: string;
  fix: string;
  /** Where the check is defined (scorecard file:line:column). */
  definedAt: Position;
  evidence?: Evidence;
}

export interface EntityScore {
  entity: string;
  scorecard: string;
  /** The highest level whose checks (and every lower level's) all pass; null: not even the lowest. */
  level: string | null;
  /** The next level up and what it still needs. */
  next: { level: string; failing: string[] } | null;
  owner: string | null;
  collective: string | null;
  tier: number | null;
  checks: CheckResult[];
}

/** Deploy facts, when the portal has deploys: the newest successful deploy per environment. */
export interface DeployFacts {
  running(ref: string, environment: string): { version: string; at: number } | undefined;
  environments: readonly string[];
  /** True when no deploy has ever been recorded: deploy checks do not apply. */
  empty: boolean;
}

/** Everything a check may read; built once per scoring run and shared by every entity. */
export interface ScoringFacts {
  index: GraphIndex;
  entities: ReadonlyMap<string, Entity>;
  manifests: ManifestCache;
  /** Paths in results are shown relative to this folder (the repo). */
  repoRoot: string;
  /** Members of a cycle of declared calls. */
  inCycle: ReadonlySet<string>;
  deploys?: DeployFacts;
  /** The portal's templates by name: their current version and where it is recorded. */
  templates?: ReadonlyMap<string, TemplateVersion>;
  now: number;
}

export interface TemplateVersion {
  version: string;
  /** The template.yaml that records it (shown relative to the repo). */
  file: string;
}

export function inScope(scope: Scope | undefined, entity: Entity, tier: number | undefined): boolean {
  if (!scope) return true;
  if (scope.kinds && !scope.kinds.includes(entity.kind.toLowerCase())) return false;
  const spec = (entity.spec ?? {}) as Record<string, unknown>;
  if (scope.types && !scope.types.includes(String(spec.type ?? ''))) return false;
  if (scope.lifecycles && !scope.lifecycles.includes(String(spec.lifecycle ?? ''))) return false;
  if (scope.tiers && (tier === undefined || !scope.tiers.includes(tier))) return false;
  return true;
}

/** A scorecard applies to Components unless its scope says which kinds. */
export function scorecardApplies(card: Scorecard, entity: Entity): boolean {
  const scope = { kinds: ['component'], ...card.scope };
  return inScope(scope, entity, tierOf(entity));
}

export function tierOf(entity: Entity): number | undefined {
  const t = Number(entity.metadata.annotations?.['bank.io/tier']);
  return Number.isInteger(t) && t > 0 ? t : undefined;
}

export function scoreEntity(card: Scorecard, ref: string, facts: ScoringFacts): EntityScore | undefined {
  const entity = facts.entities.get(ref);
  if (!entity || !scorecardApplies(card, entity)) return undefined;
  const tier = tierOf(entity);
  const ctx = new EntityContext(ref, entity, facts);
  const levelOf = levelsOfChecks(card);
  const checks: CheckResult[] = [];
  for (const def of card.checks) {
    if (!inScope(def.scope, entity, tier)) continue;
    const r = runCheck(def, ctx);
    checks.push({
      check: def.name,
      title: def.title,
      level: levelOf.get(def.name) ?? null,
      status: r.status,
      why: r.why,
      fix: def.fix,
      definedAt: def.at,
      ...(r.evidence ? { evidence: withUrl(r.evidence, entity, facts.repoRoot) } : {}),
    });
  }
  const byName = new Map(checks.map((c) => [c.check, c]));
  // A check out of scope for this entity does not hold it back.
  const failingOf = (names: string[]) => names.filter((n) => byName.get(n)?.status === 'fail');
  let level: string | null = null;
  let next: EntityScore['next'] = null;
  for (const l of card.levels) {
    const failing = failingOf(l.checks);
    if (failing.length > 0) {
      next = { level: l.name, failing };
      break;
    }
    level = l.name;
  }
  const owner = ctx.owner ?? null;
  return {
    entity: ref,
    scorecard: card.name,
    level,
    next,
    owner,
    collective: owner ? collectiveOf(facts.index, owner) : null,
    tier: tier ?? null,
    checks,
  };
}

/** Per scorecard, the lowest level naming each check: worked out once, not per service. */
const checkLevels = new WeakMap<Scorecard, Map<string, string>>();
function levelsOfChecks(card: Scorecard): Map<string, string> {
  let levelOf = checkLevels.get(card);
  if (!levelOf) {
    levelOf = new Map();
    for (const l of card.levels) for (const c of l.checks) if (!levelOf.has(c)) levelOf.set(c, l.name);
    checkLevels.set(card, levelOf);
  }
  return levelOf;
}

interface Outcome {
  status: CheckStatus;
  why: string;
  evidence?: Evidence;
}

class EntityContext {
  readonly owner: string | undefined;
  readonly tier: number | undefined;
  private manifestSet: ManifestSet | null | undefined;

  constructor(
    readonly ref: string,
    readonly entity: Entity,
    readonly facts: ScoringFacts,
  ) {
    const owner = (entity.spec as Record<string, unknown> | undefined)?.owner;
    const a = facts.index.relations.hasNode(ref) ? facts.index.relations.getNodeAttributes(ref) : undefined;
    this.owner = a?.owner ?? (typeof owner === 'string' ? owner : undefined);
    this.tier = tierOf(entity);
  }

  rel(file: string): string {
    const r = file.startsWith(this.facts.repoRoot) ? file.slice(this.facts.repoRoot.length + 1) : file;
    return r.split('\\').join('/');
  }

  descriptor(pattern?: RegExp): Evidence | undefined {
    const file = descriptorFile(this.entity);
    if (!file) return undefined;
    return { file: this.rel(file), ...(pattern ? { line: this.descriptorLine(file, pattern) } : {}) };
  }

  private descriptorLine(file: string, pattern: RegExp): number | undefined {
    // Descriptor text is not kept in the view; the annotation or field name is found by reading the file.
    return lineInFile(file, pattern, this.entity.metadata.name);
  }

  manifests(): ManifestSet | undefined {
    if (this.manifestSet === undefined) {
      const folder = manifestFolder(this.entity);
      this.manifestSet = (folder ? this.facts.manifests.get(folder) : undefined) ?? null;
    }
    return this.manifestSet ?? undefined;
  }

  deployment() {
    return this.manifests()?.objects.find((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
  }

  containers(): Record<string, unknown>[] {
    const d = this.deployment();
    return (get(d?.object, 'spec', 'template', 'spec', 'containers') ?? []) as Record<string, unknown>[];
  }

  podName(): string | undefined {
    const d = this.deployment();
    const n = get(d?.object, 'spec', 'template', 'metadata', 'labels', 'app.kubernetes.io/name');
    return typeof n === 'string' ? n : serviceId(this.entity);
  }

  fact(name: FactName): string | number | undefined {
    const an = this.entity.metadata.annotations ?? {};
    const spec = (this.entity.spec ?? {}) as Record<string, unknown>;
    switch (name) {
      case 'runbook':
        return an['bank.io/runbook'];
      case 'oncall':
        return an['bank.io/oncall-rota'];
      case 'slack':
        return an['bank.io/slack-channel'];
      case 'language':
        return an['bank.io/language'];
      case 'template':
        return an['bank.io/template'];
      case 'template.version':
        return an['bank.io/template-version'];
      case 'tier':
        return this.tier;
      case 'lifecycle':
        return str(spec.lifecycle);
      case 'system':
        return str(spec.system);
      case 'description':
        return this.entity.metadata.description || undefined;
      case 'owner':
        return this.owner;
      case 'owner.members':
        return this.owner ? membersOf(this.facts.index, this.owner) : 0;
      case 'owner.collective':
        return this.owner ? (collectiveOf(this.facts.index, this.owner) ?? undefined) : undefined;
      case 'replicas': {
        const r = get(this.deployment()?.object, 'spec', 'replicas');
        return typeof r === 'number' ? r : this.deployment() ? 1 : undefined;
      }
    }
  }

  factEvidence(name: FactName): Evidence | undefined {
    if (name === 'replicas') {
      const d = this.deployment();
      const set = this.manifests();
      if (d && set) return { file: this.rel(d.file), line: lineOf(set, d.file, /^\s*replicas:/) };
      return this.k8sEvidence();
    }
    const key: Partial<Record<FactName, RegExp>> = {
      runbook: /bank\.io\/runbook:/,
      oncall: /bank\.io\/oncall-rota:/,
      slack: /bank\.io\/slack-channel:/,
      language: /bank\.io\/language:/,
      template: /bank\.io\/template:/,
      'template.version': /bank\.io\/template-version:/,
      tier: /bank\.io\/tier:/,
      lifecycle: /^\s*lifecycle:/,
      system: /^\s*system:/,
      description: /^\s*description:/,
      owner: /^\s*owner:/,
      'owner.members': /^\s*owner:/,
      'owner.collective': /^\s*owner:/,
    };
    return this.descriptor(key[name] ?? /^\s*annotations:/);
  }

  k8sEvidence(): Evidence | undefined {
    const folder = manifestFolder(this.entity);
    if (folder) return { file: `${this.rel(folder)}/` };
    return this.descriptor(new RegExp(K8S_ANNOTATION.replace(/[./]/g, '\\$&')));
  }
}

/**
 * The web link to a file of the service: its source-location (a folder URL, `…/tree/<branch>/services/x/`)
 * plus the file's path inside the service's folder, as a blob with the line anchored.
 */
function withUrl(evidence: Evidence, entity: Entity, repoRoot: string): Evidence {
  const loc = entity.metadata.annotations?.['backstage.io/source-location'];
  const descriptor = descriptorFile(entity);
  if (!loc?.startsWith('url:') || !descriptor) return evidence;
  const base = loc.slice(4);
  if (!/^https?:\/\//.test(base)) return evidence;
  const abs = path.isAbsolute(evidence.file) ? evidence.file : path.resolve(repoRoot, evidence.file);
  const rel = path.relative(path.dirname(descriptor), abs);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return evidence;
  const folder = base.endsWith('/') ? base : `${base}/`;
  const url = `${folder.replace('/tree/', '/blob/')}${rel.split(path.sep).join('/')}${evidence.line ? `#L${evidence.line}` : ''}`;
  return { ...evidence, url };
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

function serviceId(entity: Entity): string {
  return entity.metadata.annotations?.['bank.io/service-id'] ?? `service.${entity.metadata.name}`;
}

const fileLines = new Map<string, string[]>();
/**
 * The lines found, per descriptor: kept for every file (a few numbers each) so a full re-score of a large
 * estate reads no descriptor again; the lines themselves are kept only for the last few thousand files.
 */
const foundLines = new Map<string, Map<string, number | undefined>>();
function lineInFile(file: string, pattern: RegExp, entityName: string): number | undefined {
  let found = foundLines.get(file);
  if (!found) {
    found = new Map();
    foundLines.set(file, found);
  }
  const key = `${entityName}\n${pattern.source}`;
  if (found.has(key)) return found.get(key);
  const line = findLine(file, pattern, entityName);
  found.set(key, line);
  return line;
}

function findLine(file: string, pattern: RegExp, entityName: string): number | undefined {
  let lines = fileLines.get(file);
  if (!lines) {
    try {
      lines = readFileSyncSafe(file).split('\n');
    } catch {
      return undefined;
    }
    if (fileLines.size > 2_000) fileLines.clear();
    fileLines.set(file, lines);
  }
  // A descriptor may hold several entities: start at this one's `name:`.
  const start = Math.max(
    0,
    lines.findIndex((l) => l.trim() === `name: ${entityName}`),
  );
  for (let i = start; i < lines.length; i++) if (pattern.test(lines[i])) return i + 1;
  return undefined;
}

/** Forget a descriptor's lines (it changed). */
export function forgetDescriptor(file: string): void {
  fileLines.delete(file);
  foundLines.delete(file);
}

function readFileSyncSafe(file: string): string {
  return readFileSync(file, 'utf8');
}

const memberCounts = new WeakMap<GraphIndex, { version: number; counts: Map<string, number> }>();
function membersOf(index: GraphIndex, group: string): number {
  let memo = memberCounts.get(index);
  if (!memo || memo.version !== index.version) {
    memo = { version: index.version, counts: new Map() };
    memberCounts.set(index, memo);
  }
  const known = memo.counts.get(group);
  if (known !== undefined) return known;
  const people = new Set<string>();
  const walk = (g: string, depth: number) => {
    if (depth > 16 || !index.relations.hasNode(g)) return;
    index.relations.forEachInEdge(g, (_e, a, source) => {
      if (a.types.includes('memberOf')) people.add(source);
      else if (a.types.includes('childOf')) walk(source, depth + 1);
    });
  };
  walk(group, 0);
  memo.counts.set(group, people.size);
  return people.size;
}

const get = (o: unknown, ...path: string[]): unknown => {
  let v = o;
  for (const k of path) {
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
};

type LazyEvidence = Evidence | (() => Evidence | undefined) | undefined;
// Finding the line that decides costs a file read: only a failing check, which a person will open, pays it.
const pass = (why: string, _evidence?: LazyEvidence): Outcome => ({ status: 'pass', why });
const fail = (why: string, evidence?: LazyEvidence): Outcome => ({
  status: 'fail',
  why,
  evidence: typeof evidence === 'function' ? evidence() : evidence,
});
const na = (why: string): Outcome => ({ status: 'n/a', why });

function needManifests(ctx: EntityContext): Outcome | undefined {
  const set = ctx.manifests();
  if (!set) return fail('it has no k8s/ manifests (annotation bank.io/k8s-manifests)', ctx.k8sEvidence());
  if (set.unreadable.length)
    return fail(`${set.unreadable.map((f) => ctx.rel(f)).join(', ')} is not valid YAML`, {
      file: ctx.rel(set.unreadable[0]),
    });
  if (!ctx.deployment()) return fail('its k8s/ manifests have no Deployment', ctx.k8sEvidence());
  return undefined;
}

type Params = CheckDefinition['params'];

function checkFact(p: Params, ctx: EntityContext): Outcome {
  const name = p.fact as FactName;
  const value = ctx.fact(name);
  const ev = () => ctx.factEvidence(name);
  const shown = value === undefined ? 'not set' : JSON.stringify(value);
  if (p.present !== undefined) {
    const has = value !== undefined && value !== '' && value !== 0;
    return has === p.present
      ? pass(p.present ? `${name} is ${shown}` : `${name} is not set`, ev)
      : fail(p.present ? `${name} is not set` : `${name} is set (${shown}) but should not be`, ev);
  }
  if (p.equals !== undefined)
    return String(value) === p.equals
      ? pass(`${name} is ${shown}`, ev)
      : fail(`${name} is ${shown}, not "${p.equals}"`, ev);
  if (p.in !== undefined) {
    const list = p.in as string[];
    return value !== undefined && list.includes(String(value))
      ? pass(`${name} is ${shown}`, ev)
      : fail(`${name} is ${shown}, not one of ${list.join(', ')}`, ev);
  }
  if (p.atLeast !== undefined) {
    const min = forTier(p.atLeast as Record<string, number>, ctx.tier);
    if (min === undefined) return na(`no minimum for tier ${ctx.tier ?? '(none)'}`);
    return typeof value === 'number' && value >= min
      ? pass(`${name} is ${value} (at least ${min})`, ev)
      : fail(`${name} is ${shown}; at least ${min} is needed${ctx.tier ? ` for tier ${ctx.tier}` : ''}`, ev);
  }
  const max = p.atMost as number;
  return typeof value === 'number' && value <= max
    ? pass(`${name} is ${value} (at most ${max})`, ev)
    : fail(`${name} is ${shown}; at most ${max} is allowed`, ev);
}

function checkReplicasByTier(p: Params, ctx: EntityContext): Outcome {
  const missing = needManifests(ctx);
  if (missing) return missing;
  const min = forTier(p.atLeast as Record<string, number>, ctx.tier);
  if (min === undefined) return na(`no minimum for tier ${ctx.tier ?? '(none)'}`);
  const replicas = ctx.fact('replicas') as number;
  const ev = () => ctx.factEvidence('replicas');
  return replicas >= min
    ? pass(`${replicas} replicas (tier ${ctx.tier ?? '-'} needs ${min})`, ev)
    : fail(`${replicas} replicas; tier ${ctx.tier ?? '-'} needs at least ${min}`, ev);
}

function checkDisruptionBudget(_p: Params, ctx: EntityContext): Outcome {
  const missing = needManifests(ctx);
  if (missing) return missing;
  const set = ctx.manifests() as ManifestSet;
  const d = ctx.deployment();
  const podLabels = get(d?.object, 'spec', 'template', 'metadata', 'labels') as Record<string, unknown>;
  const pdb = set.objects.find(
    (o) =>
      o.kind === 'PodDisruptionBudget' &&
      selects(get(o.object, 'spec', 'selector', 'matchLabels'), podLabels),
  );
  if (!pdb) return fail('no PodDisruptionBudget selects its pods', ctx.k8sEvidence());
  const replicas = ctx.fact('replicas') as number;
  const min = get(pdb.object, 'spec', 'minAvailable');
  const maxUnavailable = get(pdb.object, 'spec', 'maxUnavailable');
  const ev = () => ({
    file: ctx.rel(pdb.file),
    line: lineOf(set, pdb.file, /^\s*(minAvailable|maxUnavailable):/),
  });
  if (typeof min === 'number' && min >= replicas)
    return fail(
      `minAvailable ${min} with ${replicas} replicas: no pod can ever be evicted, node drains block`,
      ev,
    );
  if (maxUnavailable === 0)
    return fail('maxUnavailable 0: no pod can ever be evicted, node drains block', ev);
  return pass(`${pdb.name} keeps ${min ?? `all but ${maxUnavailable}`} of ${replicas} pods`, ev);
}

function checkNetworkPolicy(_p: Params, ctx: EntityContext): Outcome {
  const missing = needManifests(ctx);
  if (missing) return missing;
  const set = ctx.manifests() as ManifestSet;
  const self = ctx.podName() as string;
  const policies = set.objects.filter(
    (o) =>
      o.kind === 'NetworkPolicy' &&
      get(o.object, 'spec', 'podSelector', 'matchLabels', 'app.kubernetes.io/name') === self,
  );
  if (policies.length === 0)
    return fail(`no NetworkPolicy selects ${self}: it can call and be called by anything`, ctx.k8sEvidence());
  const allowed = allowedEdges(set, self);
  const callees = new Set<string>();
  const callers = new Set<string>();
  forEachCallOf(ctx.facts.index, ctx.ref, 'out', (a, other) => {
    if (!a.sources.includes('declared') || !other.startsWith('component:')) return;
    const e = ctx.facts.entities.get(other);
    if (e) callees.add(serviceId(e));
  });
  forEachCallOf(ctx.facts.index, ctx.ref, 'in', (a, other) => {
    if (!a.sources.includes('declared') || !other.startsWith('component:')) return;
    const e = ctx.facts.entities.get(other);
    if (e) callers.add(serviceId(e));
  });
  const egress = new Set(allowed.egressTo);
  const ingress = new Set(allowed.ingressFrom);
  const problems: string[] = [];
  const notAllowed = [...callees].filter((c) => !egress.has(c)).sort();
  const undeclared = [...egress].filter((c) => !callees.has(c)).sort();
  const callersNotAllowed = [...callers].filter((c) => !ingress.has(c)).sort();
  const extraCallers = [...ingress].filter((c) => !callers.has(c)).sort();
  if (notAllowed.length) problems.push(`egress does not allow its declared calls to ${list(notAllowed)}`);
  if (undeclared.length) problems.push(`egress allows undeclared calls to ${list(undeclared)}`);
  if (callersNotAllowed.length)
    problems.push(`ingress does not admit its declared callers ${list(callersNotAllowed)}`);
  if (extraCallers.length) problems.push(`ingress admits undeclared callers ${list(extraCallers)}`);
  const file = policies[0].file;
  const ev = () => ({ file: ctx.rel(file), line: lineOf(set, file, /^\s*kind:\s*NetworkPolicy/) });
  return problems.length
    ? fail(problems.join('; '), ev)
    : pass(`egress to ${callees.size} declared callees, ingress from ${callers.size} declared callers`, ev);
}

function checkProbes(p: Params, ctx: EntityContext): Outcome {
  const missing = needManifests(ctx);
  if (missing) return missing;
  const wanted = (p.require as string[] | undefined) ?? ['readiness', 'liveness'];
  const d = ctx.deployment();
  const set = ctx.manifests() as ManifestSet;
  const lacking: string[] = [];
  for (const c of ctx.containers())
    for (const w of wanted) if (!c[`${w}Probe`]) lacking.push(`${String(c.name)} has no ${w}Probe`);
  const ev = () => (d ? { file: ctx.rel(d.file), line: lineOf(set, d.file, /^\s*containers:/) } : undefined);
  return lacking.length
    ? fail(lacking.join('; '), ev)
    : pass(`every container has ${wanted.join(' and ')} probes`, ev);
}

function checkResources(_p: Params, ctx: EntityContext): Outcome {
  const missing = needManifests(ctx);
  if (missing) return missing;
  const d = ctx.deployment();
  const set = ctx.manifests() as ManifestSet;
  const lacking: string[] = [];
  for (const c of ctx.containers()) {
    const n = String(c.name);
    if (!get(c, 'resources', 'requests', 'cpu')) lacking.push(`${n} requests no CPU`);
    if (!get(c, 'resources', 'requests', 'memory')) lacking.push(`${n} requests no memory`);
    if (!get(c, 'resources', 'limits', 'memory')) lacking.push(`${n} has no memory limit`);
  }
  const ev = () =>
    d ? { file: ctx.rel(d.file), line: lineOf(set, d.file, /^\s*(resources|containers):/) } : undefined;
  return lacking.length ? fail(lacking.join('; '), ev) : pass('requests CPU and memory, limits memory', ev);
}

function checkSecretsByReference(_p: Params, ctx: EntityContext): Outcome {
  const set = ctx.manifests();
  if (!set) return na('it has no k8s/ manifests');
  for (const o of set.objects) {
    if (o.kind === 'Secret' && (get(o.object, 'data') || get(o.object, 'stringData')))
      return fail(`Secret ${o.name} carries its values in the repo`, {
        file: ctx.rel(o.file),
        line: lineOf(set, o.file, /^\s*(data|stringData):/),
      });
  }
  for (const o of set.objects) {
    const containers = (get(o.object, 'spec', 'template', 'spec', 'containers') ?? []) as Record<
      string,
      unknown
    >[];
    for (const c of containers)
      for (const e of (c.env ?? []) as Record<string, unknown>[]) {
        const name = String(e.name ?? '');
        if (
          /(PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIALS?)$/i.test(name) &&
          typeof e.value === 'string' &&
          e.value !== ''
        )
          return fail(`env ${name} of ${String(c.name)} is written literally; reference the secret instead`, {
            file: ctx.rel(o.file),
            line: lineOf(set, o.file, new RegExp(`name:\\s*${name}\\b`)),
          });
      }
  }
  return pass('secrets only by reference');
}

function checkImagePinned(_p: Params, ctx: EntityContext): Outcome {
  const missing = needManifests(ctx);
  if (missing) return missing;
  const d = ctx.deployment();
  const set = ctx.manifests() as ManifestSet;
  const loose = ctx.containers().filter((c) => !/@sha256:[0-9a-f]{64}$/.test(String(c.image ?? '')));
  const ev = () => (d ? { file: ctx.rel(d.file), line: lineOf(set, d.file, /^\s*image:/) } : undefined);
  return loose.length
    ? fail(
        `${loose.map((c) => `${String(c.name)} runs ${String(c.image)}`).join('; ')}: a tag can move under it`,
        ev,
      )
    : pass('every image pinned by digest', ev);
}

function checkCallsNoLowerTier(_p: Params, ctx: EntityContext): Outcome {
  if (ctx.tier === undefined) return na('it has no tier');
  const lower: string[] = [];
  forEachCallOf(ctx.facts.index, ctx.ref, 'out', (a, other) => {
    if (!a.sources.includes('declared') || !ctx.facts.index.relations.hasNode(other)) return;
    const t = ctx.facts.index.relations.getNodeAttributes(other).tier;
    if (t !== undefined && t > (ctx.tier as number)) lower.push(`${shortName(other)} (tier ${t})`);
  });
  const ev = () => ctx.descriptor(/^\s*(dependsOn|consumesApis):/);
  return lower.length
    ? fail(`tier ${ctx.tier} calls less critical ${list(lower.sort())}`, ev)
    : pass(`calls nothing below tier ${ctx.tier}`, ev);
}

function checkNotInCycle(_p: Params, ctx: EntityContext): Outcome {
  const ev = () => ctx.descriptor(/^\s*(dependsOn|consumesApis):/);
  return ctx.facts.inCycle.has(ctx.ref)
    ? fail('it is on a dependency cycle (portal cycles shows it)', ev)
    : pass('on no dependency cycle', ev);
}

function checkDeployedWithin(p: Params, ctx: EntityContext): Outcome {
  const d = ctx.facts.deploys;
  if (!d || d.empty) return na('the portal has no deploys yet');
  const envs = p.environment ? [p.environment as string] : d.environments;
  const days = p.days as number;
  let newest: number | undefined;
  for (const env of envs) {
    const r = d.running(ctx.ref, env);
    if (r && (newest === undefined || r.at > newest)) newest = r.at;
  }
  if (newest === undefined) return fail(`never deployed${p.environment ? ` to ${p.environment}` : ''}`);
  const ago = Math.floor((ctx.facts.now - newest) / 86_400_000);
  return ago <= days
    ? pass(`deployed ${ago} days ago`)
    : fail(`last deployed ${ago} days ago (more than ${days})`);
}

function checkProdNotBehind(p: Params, ctx: EntityContext): Outcome {
  const d = ctx.facts.deploys;
  if (!d || d.empty) return na('the portal has no deploys yet');
  const prodEnv = (p.environment as string | undefined) ?? d.environments[d.environments.length - 1];
  const i = d.environments.indexOf(prodEnv);
  const before = (p.behind as string | undefined) ?? (i > 0 ? d.environments[i - 1] : undefined);
  if (!before) return na(`no environment before ${prodEnv}`);
  const prod = d.running(ctx.ref, prodEnv);
  const staging = d.running(ctx.ref, before);
  if (!staging) return na(`not deployed to ${before}`);
  if (!prod) return fail(`${staging.version} runs in ${before}, nothing in ${prodEnv}`);
  return prod.version === staging.version || prod.at >= staging.at
    ? pass(`${prodEnv} runs ${prod.version}`)
    : fail(`${prodEnv} runs ${prod.version}, behind ${staging.version} in ${before}`);
}

function checkTemplateCurrent(p: Params, ctx: EntityContext): Outcome {
  const name = ctx.fact('template') as string | undefined;
  if (!name) return na('not scaffolded from a template (no bank.io/template)');
  const current = ctx.facts.templates?.get(name);
  if (!current) return na(`template "${name}" is not among the portal's templates`);
  const have = ctx.fact('template.version') as string | undefined;
  const ev = () => ctx.factEvidence('template.version');
  if (!have) return fail(`made from ${name} but records no bank.io/template-version`, ev);
  const behind = releasesBehind(have, current.version);
  if (behind === undefined) return fail(`bank.io/template-version "${have}" is not a version like 1.2.0`, ev);
  const max = (p.maxBehind as number | undefined) ?? 0;
  if (behind === 'major')
    return fail(`on ${name} ${have}, a major version behind ${current.version} (${current.file})`, ev);
  if (behind > max)
    return fail(
      `on ${name} ${have}, ${behind} releases behind ${current.version} (at most ${max} allowed)`,
      ev,
    );
  return pass(
    behind === 0
      ? `on ${name}'s current version ${current.version}`
      : `on ${name} ${have}, ${behind} release${behind === 1 ? '' : 's'} behind ${current.version}`,
    ev,
  );
}

function checkDeclaredCallsObserved(_p: Params, ctx: EntityContext): Outcome {
  let sendsTraces = false;
  const unseen: string[] = [];
  forEachCallOf(ctx.facts.index, ctx.ref, 'out', (a, other) => {
    if (a.sources.includes('observed')) sendsTraces = true;
    else if (other.startsWith('component:')) unseen.push(shortName(other));
  });
  if (!sendsTraces) return na('no traffic seen from it yet');
  const ev = () => ctx.descriptor(/^\s*(dependsOn|consumesApis):/);
  return unseen.length
    ? fail(`declared calls never seen in traffic: ${list(unseen.sort())}`, ev)
    : pass('every declared call seen in traffic', ev);
}

/** How each kind of check runs over one entity. */
const RUN_CHECK: Record<CheckKind, (p: Params, ctx: EntityContext) => Outcome> = {
  fact: checkFact,
  'replicas-by-tier': checkReplicasByTier,
  'disruption-budget': checkDisruptionBudget,
  'network-policy': checkNetworkPolicy,
  probes: checkProbes,
  resources: checkResources,
  'secrets-by-reference': checkSecretsByReference,
  'image-pinned': checkImagePinned,
  'calls-no-lower-tier': checkCallsNoLowerTier,
  'not-in-cycle': checkNotInCycle,
  'deployed-within': checkDeployedWithin,
  'prod-not-behind': checkProdNotBehind,
  'template-current': checkTemplateCurrent,
  'declared-calls-observed': checkDeclaredCallsObserved,
};

function runCheck(def: CheckDefinition, ctx: EntityContext): Outcome {
  return RUN_CHECK[def.kind](def.params, ctx);
}

/** What a folder's NetworkPolicies allow, read once per manifest set (a changed file makes a new set). */
const edgesBySet = new WeakMap<ManifestSet, Map<string, ReturnType<typeof networkEdges>>>();
function allowedEdges(set: ManifestSet, self: string): ReturnType<typeof networkEdges> {
  let bySelf = edgesBySet.get(set);
  if (!bySelf) {
    bySelf = new Map();
    edgesBySet.set(set, bySelf);
  }
  let edges = bySelf.get(self);
  if (!edges) {
    edges = networkEdges(set.objects, self);
    bySelf.set(self, edges);
  }
  return edges;
}

/**
 * How far `have` is behind `current`, counted in the template's releases: each minor version is a
 * release (a patch fixes one and changes nothing a service must take up); a different major version
 * is 'major', always too far behind (its skeleton changed in ways that need a migration). A version
 * ahead of the template's counts as current. Undefined when either is not a version like 1.2.0.
 */
export function releasesBehind(have: string, current: string): number | 'major' | undefined {
  const parse = (v: string) => /^v?(\d+)\.(\d+)\.(\d+)$/.exec(v.trim());
  const a = parse(have);
  const b = parse(current);
  if (!a || !b) return undefined;
  const [ma, mi] = [Number(a[1]), Number(a[2])];
  const [mb, nb] = [Number(b[1]), Number(b[2])];
  if (ma > mb) return 0;
  if (ma < mb) return 'major';
  return Math.max(0, nb - mi);
}

function selects(selector: unknown, labels: Record<string, unknown> | undefined): boolean {
  if (!selector || typeof selector !== 'object' || !labels) return false;
  const entries = Object.entries(selector as Record<string, unknown>);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

function shortName(ref: string): string {
  return ref.slice(ref.indexOf('/') + 1);
}

function list(items: string[]): string {
  return items.length > 5 ? `${items.slice(0, 5).join(', ')} and ${items.length - 5} more` : items.join(', ');
}
