/**
 * What each check kind means, in code reviewed here: a pure function of the facts about one service. The
 * scorecard file only chooses kinds and their parameters.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Entity } from '@bank/catalog';
import { collectiveOf, forEachCallNeighbour, type GraphIndex } from '@bank/graph';
import { networkEdges } from '@bank/plugin-scaffolder';
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
  digest,
  type EntityDigest,
  K8S_ANNOTATION,
  lineOf,
  type ManifestCache,
  type ManifestSet,
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

/** Whether a scope (a scorecard's or a check's) takes in this entity. */
function scopeHolds(scope: Scope | undefined, d: EntityDigest): boolean {
  if (!scope) return true;
  if (scope.kinds && !scope.kinds.includes(d.kind)) return false;
  if (scope.types && !scope.types.includes(d.type)) return false;
  if (scope.lifecycles && !scope.lifecycles.includes(d.lifecycle)) return false;
  if (scope.tiers && (d.tier === undefined || !scope.tiers.includes(d.tier))) return false;
  return true;
}

/**
 * One service's score in one scorecard (undefined: the scorecard does not apply to it). Given its previous
 * score, returns that very object when nothing in it changed.
 */
export function scoreEntity(
  card: Scorecard,
  ref: string,
  facts: ScoringFacts,
  previous?: EntityScore,
): EntityScore | undefined {
  const entity = facts.entities.get(ref);
  const plan = planOf(card);
  if (!entity) return undefined;
  const d = digest(entity);
  if (!scopeHolds(plan.scope, d)) return undefined;
  const tier = d.tier;
  const ctx = new EntityContext(ref, entity, d, facts);
  const known = knownResults(plan, ctx);
  const checks: CheckResult[] = [];
  // A check out of scope for this entity does not hold it back.
  const failed: boolean[] = [];
  for (let i = 0; i < card.checks.length; i++) {
    const def = card.checks[i];
    if (def.scope && !scopeHolds(def.scope, d)) continue;
    const result = checkResult(plan, i, ctx, known);
    failed[i] = result.status === 'fail';
    checks.push(result);
  }
  let level: string | null = null;
  let next: EntityScore['next'] = null;
  for (const l of plan.levels) {
    const failing: string[] = [];
    for (let j = 0; j < l.checks.length; j++) if (failed[l.checks[j]]) failing.push(l.names[j]);
    if (failing.length > 0) {
      next = { level: l.name, failing };
      break;
    }
    level = l.name;
  }
  const owner = ctx.owner ?? null;
  const score: EntityScore = {
    entity: ref,
    scorecard: card.name,
    level,
    next,
    owner,
    collective: owner ? collectiveMemo(facts.index, owner) : null,
    tier: tier ?? null,
    checks,
  };
  return previous && unchanged(previous, score) ? previous : score;
}

/** The same score: equal fields and the very same check results (see {@link checkResult}). */
function unchanged(a: EntityScore, b: EntityScore): boolean {
  if (
    a.entity !== b.entity ||
    a.scorecard !== b.scorecard ||
    a.level !== b.level ||
    a.owner !== b.owner ||
    a.collective !== b.collective ||
    a.tier !== b.tier ||
    a.checks.length !== b.checks.length ||
    (a.next === null) !== (b.next === null)
  )
    return false;
  if (a.next && b.next) {
    if (a.next.level !== b.next.level || a.next.failing.length !== b.next.failing.length) return false;
    for (let i = 0; i < a.next.failing.length; i++) if (a.next.failing[i] !== b.next.failing[i]) return false;
  }
  for (let i = 0; i < a.checks.length; i++) if (a.checks[i] !== b.checks[i]) return false;
  return true;
}

/** What scoring one service against a scorecard needs of it, worked out once per scorecard, not per service. */
interface ScorecardPlan {
  card: Scorecard;
  /** The scorecard's scope, Components unless it says which kinds. */
  scope: Scope;
  /** Per check (by position): true when it reads only the entity and its manifests ({@link readsOnlyItsFiles}). */
  fileOnly: boolean[];
  /** Each entity's last results in this scorecard. */
  known: WeakMap<EntityDigest, KnownResults>;
  /** Per check (by position), the lowest level naming it (null: none). */
  levelOf: (string | null)[];
  /** Each level, lowest first, with its checks by position (-1: no such check) and by name. */
  levels: { name: string; checks: number[]; names: string[] }[];
}
const plans = new WeakMap<Scorecard, ScorecardPlan>();
function planOf(card: Scorecard): ScorecardPlan {
  let plan = plans.get(card);
  if (!plan) {
    // Check names are unique in a scorecard (parseScorecard refuses a duplicate).
    const position = new Map(card.checks.map((c, i) => [c.name, i]));
    const levelOf: (string | null)[] = card.checks.map(() => null);
    for (const l of card.levels)
      for (const c of l.checks) {
        const i = position.get(c);
        if (i !== undefined) levelOf[i] ??= l.name;
      }
    const levels = card.levels.map((l) => ({
      name: l.name,
      checks: l.checks.map((c) => position.get(c) ?? -1),
      names: l.checks,
    }));
    plan = {
      card,
      scope: { kinds: ['component'], ...card.scope },
      fileOnly: card.checks.map(readsOnlyItsFiles),
      known: new WeakMap(),
      levelOf,
      levels,
    };
    plans.set(card, plan);
  }
  return plan;
}

/** An entity's last result of each check (by position), and the files they were worked out from. */
interface KnownResults {
  manifests: ManifestSet | undefined;
  /** The descriptor's edit count then (lines shown in evidence move with an edit). */
  edits: number;
  /** False when the manifests or the descriptor changed since: the checks reading only them run again. */
  current: boolean;
  results: (CheckResult | undefined)[];
}

function knownResults(plan: ScorecardPlan, ctx: EntityContext): KnownResults {
  const manifests = ctx.manifests();
  const edits = editsOf(ctx.digest.descriptor);
  let known = plan.known.get(ctx.digest);
  if (!known) {
    known = { manifests, edits, current: false, results: [] };
    plan.known.set(ctx.digest, known);
  } else {
    known.current = known.manifests === manifests && known.edits === edits;
    known.manifests = manifests;
    known.edits = edits;
  }
  return known;
}

/**
 * One check's result for one entity. A check that reads only the entity and its manifests gives the same
 * result while both are the same objects (an entity that changes is a new object, a manifest folder that
 * changes is read into a new set), so a re-score reuses it: most of a full re-score's checks. Any other
 * check runs; when its outcome is the one it had, its result is the same object as before (a re-score of
 * an unchanged estate then keeps its results and makes no new ones to keep).
 */
function checkResult(plan: ScorecardPlan, i: number, ctx: EntityContext, known: KnownResults): CheckResult {
  const last = known.results[i];
  if (last && known.current && plan.fileOnly[i]) return last;
  const def = plan.card.checks[i];
  const r = runCheck(def, ctx);
  if (last && sameOutcome(last, r)) return last;
  const result: CheckResult = {
    check: def.name,
    title: def.title,
    level: plan.levelOf[i],
    status: r.status,
    why: r.why,
    fix: def.fix,
    definedAt: def.at,
  };
  if (r.evidence) result.evidence = withUrl(r.evidence, ctx.digest, ctx.facts.repoRoot);
  known.results[i] = result;
  return result;
}

/** The result says what the outcome says (a link to the evidence follows from its file and line). */
function sameOutcome(result: CheckResult, r: Outcome): boolean {
  if (result.status !== r.status || result.why !== r.why) return false;
  const a = result.evidence;
  const b = r.evidence;
  return a === undefined || b === undefined ? a === b : a.file === b.file && a.line === b.line;
}

/** Kinds of check that read nothing but the entity and its k8s/ manifests (no graph, deploys, templates, clock). */
const FILE_KINDS: ReadonlySet<CheckKind> = new Set([
  'replicas-by-tier',
  'disruption-budget',
  'probes',
  'resources',
  'secrets-by-reference',
  'image-pinned',
]);
/** Facts read from the entity or its manifests alone (the owner's come from the graph). */
const FILE_FACTS: ReadonlySet<FactName> = new Set([
  'runbook',
  'oncall',
  'slack',
  'tier',
  'lifecycle',
  'description',
  'language',
  'system',
  'template',
  'template.version',
  'replicas',
]);
function readsOnlyItsFiles(def: CheckDefinition): boolean {
  return def.kind === 'fact' ? FILE_FACTS.has(def.params.fact as FactName) : FILE_KINDS.has(def.kind);
}

interface Outcome {
  status: CheckStatus;
  why: string;
  evidence?: Evidence;
}

/** What the graph checks read about one service's call edges, gathered in one walk of them. */
interface CallFacts {
  /** Service ids of the Components of the catalogue it declares calls to, and of those declaring calls to it. */
  callees: Set<string>;
  callers: Set<string>;
  /** Declared callees of a less critical tier than its own, as `name (tier n)`. */
  lowerTier: string[];
  /** True when a call from it was observed in traffic. */
  sendsTraces: boolean;
  /** The Components it declares calls to that traffic never showed (refs). */
  unseen: string[];
}

/** What a service's graph checks read of a caller or callee. */
interface CallNode {
  /** Its service id when it is a Component of the catalogue. */
  serviceId: string | undefined;
  /** Its tier in the graph. */
  tier: number | undefined;
}

/** Callers and callees as the graph checks read them, each read once per scoring run (a hub is read by thousands). */
class CallNodes {
  private readonly known = new Map<string, CallNode>();
  constructor(private readonly facts: ScoringFacts) {}

  of(ref: string): CallNode {
    let n = this.known.get(ref);
    if (!n) {
      const e = ref.startsWith('component:') ? this.facts.entities.get(ref) : undefined;
      n = { serviceId: e ? digest(e).serviceId : undefined, tier: this.facts.index.node(ref)?.tier };
      this.known.set(ref, n);
    }
    return n;
  }
}
const callNodes = new WeakMap<ScoringFacts, CallNodes>();
function nodesOf(facts: ScoringFacts): CallNodes {
  let nodes = callNodes.get(facts);
  if (!nodes) {
    nodes = new CallNodes(facts);
    callNodes.set(facts, nodes);
  }
  return nodes;
}

class EntityContext {
  readonly owner: string | undefined;
  readonly tier: number | undefined;
  private manifestSet: ManifestSet | null | undefined;
  private callFacts: CallFacts | undefined;

  constructor(
    readonly ref: string,
    readonly entity: Entity,
    readonly digest: EntityDigest,
    readonly facts: ScoringFacts,
  ) {
    this.owner = facts.index.node(ref)?.owner ?? digest.owner;
    this.tier = digest.tier;
  }

  rel(file: string): string {
    const r = file.startsWith(this.facts.repoRoot) ? file.slice(this.facts.repoRoot.length + 1) : file;
    return r.split('\\').join('/');
  }

  descriptor(pattern?: RegExp): Evidence | undefined {
    const file = this.digest.descriptor;
    if (!file) return undefined;
    return { file: this.rel(file), ...(pattern ? { line: this.descriptorLine(file, pattern) } : {}) };
  }

  private descriptorLine(file: string, pattern: RegExp): number | undefined {
    // Descriptor text is not kept in the view; the annotation or field name is found by reading the file.
    return lineInFile(file, pattern, this.digest.name);
  }

  manifests(): ManifestSet | undefined {
    if (this.manifestSet === undefined) {
      const folder = this.digest.manifestFolder;
      this.manifestSet = (folder ? this.facts.manifests.get(folder) : undefined) ?? null;
    }
    return this.manifestSet ?? undefined;
  }

  calls(): CallFacts {
    if (this.callFacts) return this.callFacts;
    const tier = this.tier;
    const nodes = nodesOf(this.facts);
    const facts: CallFacts = {
      callees: new Set(),
      callers: new Set(),
      lowerTier: [],
      sendsTraces: false,
      unseen: [],
    };
    forEachCallNeighbour(this.facts.index, this.ref, 'out', (other, declared, observed) => {
      if (observed) facts.sendsTraces = true;
      else if (other.startsWith('component:')) facts.unseen.push(other);
      if (!declared) return;
      const n = nodes.of(other);
      if (tier !== undefined && n.tier !== undefined && n.tier > tier)
        facts.lowerTier.push(`${shortName(other)} (tier ${n.tier})`);
      if (n.serviceId !== undefined) facts.callees.add(n.serviceId);
    });
    forEachCallNeighbour(this.facts.index, this.ref, 'in', (other, declared) => {
      if (!declared) return;
      const n = nodes.of(other);
      if (n.serviceId !== undefined) facts.callers.add(n.serviceId);
    });
    this.callFacts = facts;
    return facts;
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
    return typeof n === 'string' ? n : this.digest.serviceId;
  }

  fact(name: FactName): string | number | undefined {
    const an = this.digest.annotations;
    const spec = this.digest.spec;
    switch (name) {
      case 'runbook':
        return an.get('bank.io/runbook');
      case 'oncall':
        return an.get('bank.io/oncall-rota');
      case 'slack':
        return an.get('bank.io/slack-channel');
      case 'language':
        return an.get('bank.io/language');
      case 'template':
        return an.get('bank.io/template');
      case 'template.version':
        return an.get('bank.io/template-version');
      case 'tier':
        return this.tier;
      case 'lifecycle':
        return str(spec.lifecycle);
      case 'system':
        return str(spec.system);
      case 'description':
        return this.digest.description || undefined;
      case 'owner':
        return this.owner;
      case 'owner.members':
        return this.owner ? membersOf(this.facts.index, this.owner) : 0;
      case 'owner.collective':
        return this.owner ? (collectiveMemo(this.facts.index, this.owner) ?? undefined) : undefined;
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
    const folder = this.digest.manifestFolder;
    if (folder) return { file: `${this.rel(folder)}/` };
    return this.descriptor(new RegExp(K8S_ANNOTATION.replace(/[./]/g, '\\$&')));
  }
}

/**
 * The web link to a file of the service: its source-location (a folder URL, `…/tree/<branch>/services/x/`)
 * plus the file's path inside the service's folder, as a blob with the line anchored.
 */
function withUrl(evidence: Evidence, entity: EntityDigest, repoRoot: string): Evidence {
  const loc = entity.annotations.get('backstage.io/source-location');
  const descriptor = entity.descriptor;
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
  edits.set(file, (edits.get(file) ?? 0) + 1);
}
/** How often each descriptor was forgotten: a result that shows one of its lines is good for one edit count. */
const edits = new Map<string, number>();
function editsOf(file: string | undefined): number {
  return file === undefined ? 0 : (edits.get(file) ?? 0);
}

function readFileSyncSafe(file: string): string {
  return readFileSync(file, 'utf8');
}

const collectives = new WeakMap<GraphIndex, { version: number; byGroup: Map<string, string | null> }>();
/** collectiveOf, remembered per group for one version of the graph (every service of a squad asks). */
function collectiveMemo(index: GraphIndex, group: string): string | null {
  let memo = collectives.get(index);
  if (!memo || memo.version !== index.version) {
    memo = { version: index.version, byGroup: new Map() };
    collectives.set(index, memo);
  }
  let c = memo.byGroup.get(group);
  if (c === undefined) {
    c = collectiveOf(index, group);
    memo.byGroup.set(group, c);
  }
  return c;
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
  const { policy: file, egress, ingress } = isolationOf(set, self);
  if (!file)
    return fail(`no NetworkPolicy selects ${self}: it can call and be called by anything`, ctx.k8sEvidence());
  const { callees, callers } = ctx.calls();
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
  const lower = [...ctx.calls().lowerTier];
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
  const { sendsTraces, unseen: refs } = ctx.calls();
  if (!sendsTraces) return na('no traffic seen from it yet');
  const unseen = refs.map(shortName);
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

/** The NetworkPolicies of a folder that select a pod: the first one's file and the peers they allow. */
interface Isolation {
  policy: string | undefined;
  egress: ReadonlySet<string>;
  ingress: ReadonlySet<string>;
}
/** What a folder's NetworkPolicies allow, read once per manifest set (a changed file makes a new set). */
const isolations = new WeakMap<ManifestSet, Map<string, Isolation>>();
function isolationOf(set: ManifestSet, self: string): Isolation {
  let bySelf = isolations.get(set);
  if (!bySelf) {
    bySelf = new Map();
    isolations.set(set, bySelf);
  }
  let isolation = bySelf.get(self);
  if (!isolation) {
    const policy = set.objects.find(
      (o) =>
        o.kind === 'NetworkPolicy' &&
        get(o.object, 'spec', 'podSelector', 'matchLabels', 'app.kubernetes.io/name') === self,
    );
    const allowed = networkEdges(set.objects, self);
    isolation = {
      policy: policy?.file,
      egress: new Set(allowed.egressTo),
      ingress: new Set(allowed.ingressFrom),
    };
    bySelf.set(self, isolation);
  }
  return isolation;
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
