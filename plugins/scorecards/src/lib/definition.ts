/**
 * A scorecard is data, reviewed like code: a YAML file of named checks, each one of a fixed set of typed
 * check kinds reading facts the portal already has, and levels (bronze, silver, gold…) that name the checks
 * they need. Nothing in the file is ever evaluated as code: a check names its kind and parameters, the
 * portal decides what they mean. A bad file gets errors at file:line:column and never half-applies.
 */
import { closestRefs } from '@bank/catalog';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';

export const API_VERSION = 'bank.io/v1';

/** The facts a `fact` check may name: each read from the entity or its owner, never computed by the file. */
export const FACTS = {
  runbook: 'the runbook link (annotation bank.io/runbook)',
  oncall: 'the on-call rota (annotation bank.io/oncall-rota)',
  slack: 'the Slack channel (annotation bank.io/slack-channel)',
  tier: 'the tier, 1 (money moves through it) to 4 (internal tooling) (annotation bank.io/tier)',
  lifecycle: 'spec.lifecycle',
  description: 'metadata.description',
  language: 'the implementation language (annotation bank.io/language)',
  owner: 'the owning group (spec.owner)',
  'owner.members': 'the number of people in the owning group and its sub-groups',
  'owner.collective': 'the collective above the owning squad',
  system: 'spec.system',
  template: 'the template it was scaffolded from (annotation bank.io/template)',
  'template.version':
    'the version of that template it was made from or last brought up to (annotation bank.io/template-version)',
  replicas: 'the Deployment replicas in its k8s/ manifests',
} as const;
export type FactName = keyof typeof FACTS;

type ParamType = 'fact' | 'boolean' | 'number' | 'string' | 'strings' | 'byTier' | 'probes';

interface KindSpec {
  what: string;
  params: Record<string, { type: ParamType; required?: boolean }>;
  /** Default advice when the file gives no `fix`. */
  fix: string;
}

/** The fixed set of check kinds. A new kind is a code change, reviewed; a file can only use these. */
export const CHECK_KINDS = {
  fact: {
    what: 'a fact of the entity is present, equal to, one of, at least or at most a value',
    params: {
      fact: { type: 'fact', required: true },
      present: { type: 'boolean' },
      equals: { type: 'string' },
      in: { type: 'strings' },
      atLeast: { type: 'byTier' },
      atMost: { type: 'number' },
    },
    fix: 'Set the fact in catalog-info.yaml (or the k8s/ manifests) so it meets the check.',
  },
  'replicas-by-tier': {
    what: 'the Deployment runs at least as many replicas as its tier asks',
    params: { atLeast: { type: 'byTier', required: true } },
    fix: 'Raise spec.replicas in k8s/deployment.yaml to what the tier asks.',
  },
  'disruption-budget': {
    what: 'a PodDisruptionBudget selects the Deployment and leaves room to evict one pod (minAvailable < replicas)',
    params: {},
    fix: 'Add k8s/pdb.yaml: a policy/v1 PodDisruptionBudget selecting the pods, minAvailable = replicas − 1.',
  },
  'network-policy': {
    what: 'NetworkPolicies isolate the service: egress allows exactly its declared calls, ingress exactly its declared callers',
    params: {},
    fix: 'Regenerate k8s/networkpolicy.yaml from the declared dependencies (the scaffolder writes it), or declare the call in catalog-info.yaml.',
  },
  probes: {
    what: 'every container has the named probes',
    params: { require: { type: 'probes' } },
    fix: 'Add readinessProbe and livenessProbe on /ping (the shared library serves it) to each container.',
  },
  resources: {
    what: 'every container requests CPU and memory and limits memory',
    params: {},
    fix: 'Set resources.requests (cpu, memory) and resources.limits.memory on each container.',
  },
  'secrets-by-reference': {
    what: 'no Secret with data in the repo and no secret-looking env value written literally',
    params: {},
    fix: 'Keep secrets in Vault and reference them (a secret volume or secretKeyRef); never commit their values.',
  },
  'image-pinned': {
    what: 'every container image is pinned by digest (@sha256:…)',
    params: {},
    fix: 'Pin the image by digest: registry/<id>@sha256:<digest>.',
  },
  'calls-no-lower-tier': {
    what: 'no declared call to a service of a less critical tier (a higher tier number)',
    params: {},
    fix: 'Raise the callee to this tier, or make the call optional (async, with a fallback) and drop the dependency.',
  },
  'not-in-cycle': {
    what: 'the service is on no dependency cycle',
    params: {},
    fix: 'Break the cycle: invert one call into an event, or merge the services.',
  },
  'deployed-within': {
    what: 'deployed successfully to an environment within the last N days',
    params: { days: { type: 'number', required: true }, environment: { type: 'string' } },
    fix: 'Deploy it (a service nobody ships drifts from the library and its dependencies).',
  },
  'prod-not-behind': {
    what: 'what runs in prod is what runs in the environment before it (prod is not behind staging)',
    params: { environment: { type: 'string' }, behind: { type: 'string' } },
    fix: 'Promote the version running in staging to prod, or roll staging back.',
  },
  'template-current': {
    what: "the service is on its template's current version, or at most maxBehind releases behind (bank.io/template-version against templates/<name>/template.yaml)",
    params: { maxBehind: { type: 'number' } },
    fix: "Apply the template's changes since your version (templates/<name>/ shows them) and bump bank.io/template-version in catalog-info.yaml.",
  },
  'declared-calls-observed': {
    what: 'every declared call is seen in traffic (only where the service sends traces)',
    params: {},
    fix: 'Remove the dependency from catalog-info.yaml if the call is gone, or check why it is never made.',
  },
} as const satisfies Record<string, KindSpec>;
export type CheckKind = keyof typeof CHECK_KINDS;

/** Keys that ask for code to be run; refused with a message saying why. */
const CODE_KEYS = ['expr', 'expression', 'script', 'code', 'eval', 'query', 'js', 'javascript', 'jq', 'cel'];

export interface Position {
  file: string;
  line: number;
  column: number;
}

export interface Scope {
  kinds?: string[];
  types?: string[];
  lifecycles?: string[];
  tiers?: number[];
}

export interface CheckDefinition {
  name: string;
  title: string;
  kind: CheckKind;
  params: Record<string, unknown>;
  fix: string;
  scope?: Scope;
  at: Position;
}

export interface LevelDefinition {
  name: string;
  checks: string[];
  at: Position;
}

export interface Scorecard {
  name: string;
  title: string;
  description?: string;
  file: string;
  scope: Scope;
  checks: CheckDefinition[];
  /** Lowest first; each level needs its own checks and every level's below it. */
  levels: LevelDefinition[];
  at: Position;
}

export interface ScorecardError extends Position {
  message: string;
  /** The scorecard's name when it could be read. */
  scorecard?: string;
}

export type ParseResult = { ok: true; scorecard: Scorecard } | { ok: false; errors: ScorecardError[] };

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Read and validate one scorecard file. `file` is how errors name it (a path relative to the repo). */
export function parseScorecard(text: string, file: string): ParseResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const r = new ScorecardReader(file, lines);
  for (const e of doc.errors) {
    const p = lines.linePos(e.pos[0]);
    r.errors.push({
      file,
      line: p.line,
      column: p.col,
      message: `not valid YAML: ${e.message.split('\n')[0]}`,
    });
  }
  if (r.errors.length) return { ok: false, errors: r.errors };
  const root = doc.contents;
  if (!isMap(root)) {
    r.fail(root, 'a scorecard must be a mapping with apiVersion, kind, metadata and spec');
    return { ok: false, errors: r.errors };
  }
  r.onlyKeys(root, ['apiVersion', 'kind', 'metadata', 'spec'], 'scorecard');
  const apiVersion = r.field(root, 'apiVersion');
  if (!isScalar(apiVersion) || apiVersion.value !== API_VERSION)
    r.fail(apiVersion ?? root, `apiVersion must be ${API_VERSION}`);
  const kind = r.field(root, 'kind');
  if (!isScalar(kind) || kind.value !== 'Scorecard') r.fail(kind ?? root, 'kind must be Scorecard');
  const { name, title, description } = r.metadata(root);
  const spec = r.field(root, 'spec');
  let checks: CheckDefinition[] = [];
  let levels: LevelDefinition[] = [];
  let scope: Scope = {};
  if (!spec || !isMap(spec)) r.fail(spec ?? root, 'spec (scope, checks, levels) is required');
  else {
    r.onlyKeys(spec, ['scope', 'checks', 'levels'], 'spec');
    scope = r.scope(r.field(spec, 'scope'), 'spec.scope') ?? {};
    checks = r.checks(spec);
    levels = r.levels(spec, checks);
  }
  const { errors } = r;
  if (errors.length || !name) {
    if (!name && errors.length === 0) r.fail(root, 'metadata.name is required');
    return { ok: false, errors: errors.map((e) => (name ? { ...e, scorecard: name } : e)) };
  }
  return {
    ok: true,
    scorecard: {
      name,
      title: title ?? name,
      ...(description ? { description } : {}),
      file,
      scope,
      checks,
      levels,
      at: r.posOf(root),
    },
  };
}

/** The reading of one scorecard file: each part checked, every problem kept with its position. */
class ScorecardReader {
  readonly errors: ScorecardError[] = [];

  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  posOf(node: Node | null | undefined, fallback = 0): Position {
    const offset = node?.range?.[0] ?? fallback;
    const p = this.lines.linePos(offset);
    return { file: this.file, line: p.line, column: p.col };
  }

  fail = (node: Node | null | undefined, message: string): void => {
    this.errors.push({ ...this.posOf(node), message });
  };

  field(map: Node, key: string): Node | undefined {
    return isMap(map) ? ((map.get(key, true) as Node | undefined) ?? undefined) : undefined;
  }

  onlyKeys(map: Node, allowed: string[], where: string): void {
    if (!isMap(map)) return;
    for (const pair of map.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      if (allowed.includes(k)) continue;
      if (CODE_KEYS.includes(k.toLowerCase())) {
        this.fail(
          pair.key as Node,
          `${where}: "${k}" would need code to be run; scorecards never evaluate code. Use a check kind (${Object.keys(CHECK_KINDS).join(', ')})`,
        );
      } else this.fail(pair.key as Node, `${where}: unknown field "${k}"; allowed: ${allowed.join(', ')}`);
    }
  }

  str(node: Node | undefined, where: string): string | undefined {
    if (node === undefined) return undefined;
    if (!isScalar(node) || typeof node.value !== 'string' || node.value.trim() === '') {
      this.fail(node, `${where} must be a non-empty string`);
      return undefined;
    }
    return node.value;
  }

  strings(node: Node | undefined, where: string): string[] | undefined {
    if (node === undefined) return undefined;
    if (!isSeq(node) || node.items.some((i) => !isScalar(i) || typeof i.value !== 'string')) {
      this.fail(node, `${where} must be a list of strings`);
      return undefined;
    }
    return node.items.map((i) => String((i as { value: unknown }).value));
  }

  scope(node: Node | undefined, where: string): Scope | undefined {
    if (node === undefined) return undefined;
    if (!isMap(node)) {
      this.fail(node, `${where} must be a mapping of kinds, types, lifecycles, tiers`);
      return undefined;
    }
    this.onlyKeys(node, ['kinds', 'types', 'lifecycles', 'tiers'], where);
    const scope: Scope = {};
    const kinds = this.strings(this.field(node, 'kinds'), `${where}.kinds`);
    if (kinds) scope.kinds = kinds.map((k) => k.toLowerCase());
    const types = this.strings(this.field(node, 'types'), `${where}.types`);
    if (types) scope.types = types;
    const lifecycles = this.strings(this.field(node, 'lifecycles'), `${where}.lifecycles`);
    if (lifecycles) scope.lifecycles = lifecycles;
    const tiers = this.field(node, 'tiers');
    if (tiers !== undefined) {
      if (
        !isSeq(tiers) ||
        tiers.items.some((i) => !isScalar(i) || !Number.isInteger(i.value) || (i.value as number) < 1)
      )
        this.fail(tiers, `${where}.tiers must be a list of tier numbers (1–4)`);
      else scope.tiers = tiers.items.map((i) => (i as { value: number }).value);
    }
    return scope;
  }

  metadata(root: Node): { name?: string; title?: string; description?: string } {
    const metadata = this.field(root, 'metadata');
    if (!metadata || !isMap(metadata)) {
      this.fail(metadata ?? root, 'metadata (name, title) is required');
      return {};
    }
    this.onlyKeys(metadata, ['name', 'title', 'description'], 'metadata');
    const name = this.str(this.field(metadata, 'name'), 'metadata.name');
    if (name === undefined) {
      if (!this.field(metadata, 'name')) this.fail(metadata, 'metadata.name is required');
    } else if (!NAME.test(name))
      this.fail(this.field(metadata, 'name'), `metadata.name "${name}" must be lowercase-hyphen`);
    const title = this.str(this.field(metadata, 'title'), 'metadata.title');
    const description = this.str(this.field(metadata, 'description'), 'metadata.description');
    return { name, title, description };
  }

  /** spec.checks: each check's name (unique), kind and the kind's parameters. */
  checks(spec: Node): CheckDefinition[] {
    const checks: CheckDefinition[] = [];
    const checksNode = this.field(spec, 'checks');
    if (!isSeq(checksNode) || checksNode.items.length === 0) {
      this.fail(checksNode ?? spec, 'spec.checks must be a non-empty list of checks');
      return checks;
    }
    const seen = new Map<string, Position>();
    checksNode.items.forEach((item, i) => {
      const check = this.check(item as Node, `spec.checks[${i}]`, seen);
      if (check) checks.push(check);
    });
    return checks;
  }

  private check(node: Node, where: string, seen: Map<string, Position>): CheckDefinition | undefined {
    const { fail } = this;
    if (!isMap(node)) {
      fail(node, `${where} must be a mapping with name, kind and the kind's parameters`);
      return undefined;
    }
    const kindNode = this.field(node, 'kind');
    const kindName = isScalar(kindNode) ? String(kindNode.value) : undefined;
    const spec = kindName && kindName in CHECK_KINDS ? CHECK_KINDS[kindName as CheckKind] : undefined;
    const paramNames = spec ? Object.keys(spec.params) : [];
    this.onlyKeys(node, ['name', 'title', 'kind', 'fix', 'scope', ...paramNames], where);
    const nameNode = this.field(node, 'name');
    const checkName = this.str(nameNode, `${where}.name`);
    if (!nameNode) fail(node, `${where}.name is required`);
    else if (checkName !== undefined && !NAME.test(checkName))
      fail(nameNode, `${where}.name "${checkName}" must be lowercase-hyphen`);
    if (checkName !== undefined) {
      const before = seen.get(checkName);
      if (before)
        fail(
          nameNode,
          `duplicate check name "${checkName}" (first at line ${before.line}); check names must be unique`,
        );
      else seen.set(checkName, this.posOf(nameNode));
    }
    if (!kindNode) {
      fail(node, `${where}.kind is required; one of ${Object.keys(CHECK_KINDS).join(', ')}`);
      return undefined;
    }
    if (!spec) {
      const code = kindName && CODE_KEYS.includes(kindName.toLowerCase());
      fail(
        kindNode,
        code
          ? `${where}.kind "${kindName}" would need code to be run; scorecards never evaluate code. Use a check kind (${Object.keys(CHECK_KINDS).join(', ')})`
          : `${where}.kind "${kindName}" is not a check kind; known: ${Object.keys(CHECK_KINDS).join(', ')}`,
      );
      return undefined;
    }
    const params: Record<string, unknown> = {};
    for (const [p, ps] of Object.entries(spec.params) as [
      string,
      { type: ParamType; required?: boolean },
    ][]) {
      const v = this.field(node, p);
      if (v === undefined) {
        if (ps.required) fail(node, `${where}: ${kindName} needs "${p}"`);
        continue;
      }
      const value = paramValue(v, ps.type, `${where}.${p}`, fail);
      if (value !== undefined) params[p] = value;
    }
    if (kindName === 'fact' && params.fact !== undefined) {
      const ops = ['present', 'equals', 'in', 'atLeast', 'atMost'].filter(
        (o) => this.field(node, o) !== undefined,
      );
      if (ops.length !== 1)
        fail(node, `${where}: a fact check needs exactly one of present, equals, in, atLeast, atMost`);
    }
    const fix = this.str(this.field(node, 'fix'), `${where}.fix`) ?? spec.fix;
    const at = this.posOf(node);
    if (checkName === undefined) return undefined;
    return {
      name: checkName,
      title: this.str(this.field(node, 'title'), `${where}.title`) ?? checkName,
      kind: kindName as CheckKind,
      params,
      fix,
      scope: this.scope(this.field(node, 'scope'), `${where}.scope`),
      at,
    };
  }

  /** spec.levels, lowest first: each level's name (unique) and the checks it needs (declared in spec.checks). */
  levels(spec: Node, checks: CheckDefinition[]): LevelDefinition[] {
    const levels: LevelDefinition[] = [];
    const levelsNode = this.field(spec, 'levels');
    if (!isSeq(levelsNode) || levelsNode.items.length === 0) {
      this.fail(levelsNode ?? spec, 'spec.levels must be a non-empty list of levels, lowest first');
      return levels;
    }
    const names = new Set(checks.map((c) => c.name));
    const checksNode = this.field(spec, 'checks');
    const declared = isSeq(checksNode)
      ? new Set(
          checksNode.items.map((i) => {
            const n = isMap(i) ? this.field(i as Node, 'name') : undefined;
            return isScalar(n) ? String(n.value) : '';
          }),
        )
      : new Set<string>();
    const seenLevels = new Set<string>();
    levelsNode.items.forEach((item, i) => {
      const where = `spec.levels[${i}]`;
      const node = item as Node;
      if (!isMap(node)) {
        this.fail(node, `${where} must be a mapping with name and checks`);
        return;
      }
      this.onlyKeys(node, ['name', 'checks'], where);
      const levelName = this.str(this.field(node, 'name'), `${where}.name`);
      if (!this.field(node, 'name')) this.fail(node, `${where}.name is required`);
      if (levelName && seenLevels.has(levelName))
        this.fail(this.field(node, 'name'), `duplicate level "${levelName}"`);
      if (levelName) seenLevels.add(levelName);
      const list = this.field(node, 'checks');
      const refs = this.strings(list, `${where}.checks`) ?? [];
      if (!list) this.fail(node, `${where}.checks is required`);
      if (isSeq(list)) {
        list.items.forEach((ref, j) => {
          const n = isScalar(ref) ? String(ref.value) : '';
          if (!declared.has(n))
            this.fail(
              ref as Node,
              `${where}.checks[${j}]: level "${levelName ?? '?'}" references check "${n}", which is not defined in spec.checks${closest(n, [...names])}`,
            );
        });
      }
      if (levelName) levels.push({ name: levelName, checks: refs, at: this.posOf(node) });
    });
    return levels;
  }
}

function paramValue(
  v: Node,
  type: ParamType,
  where: string,
  fail: (node: Node, message: string) => void,
): unknown {
  const scalar = isScalar(v) ? v.value : undefined;
  switch (type) {
    case 'fact':
      if (typeof scalar !== 'string') return fail(v, `${where} must name a fact`);
      if (!(scalar in FACTS))
        return fail(
          v,
          `${where}: unknown fact "${scalar}"; known facts: ${Object.keys(FACTS).join(', ')}${closest(scalar, Object.keys(FACTS))}`,
        );
      return scalar;
    case 'boolean':
      if (typeof scalar !== 'boolean') return fail(v, `${where} must be true or false`);
      return scalar;
    case 'number':
      if (typeof scalar !== 'number' || !Number.isFinite(scalar) || scalar < 0)
        return fail(v, `${where} must be a number ≥ 0`);
      return scalar;
    case 'string':
      if (typeof scalar !== 'string' && typeof scalar !== 'number')
        return fail(v, `${where} must be a string`);
      return String(scalar);
    case 'strings':
      if (!isSeq(v) || v.items.some((i) => !isScalar(i) || i.value === null))
        return fail(v, `${where} must be a list of values`);
      return v.items.map((i) => String((i as { value: unknown }).value));
    case 'probes': {
      const allowed = ['readiness', 'liveness', 'startup'];
      if (!isSeq(v) || v.items.some((i) => !isScalar(i) || !allowed.includes(String(i.value))))
        return fail(v, `${where} must be a list of ${allowed.join(', ')}`);
      return v.items.map((i) => String((i as { value: unknown }).value));
    }
    case 'byTier': {
      if (typeof scalar === 'number' && scalar >= 0) return { default: scalar };
      if (!isMap(v))
        return fail(v, `${where} must be a number, or a mapping of tier (1–4 or default) to a number`);
      const out: Record<string, number> = {};
      for (const pair of v.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : '';
        const n = isScalar(pair.value) ? pair.value.value : undefined;
        if (!/^([1-9]|default)$/.test(k))
          fail(pair.key as Node, `${where}: "${k}" is not a tier (1–4) or default`);
        else if (typeof n !== 'number' || n < 0)
          fail((pair.value ?? v) as Node, `${where}.${k} must be a number ≥ 0`);
        else out[k] = n;
      }
      return out;
    }
  }
}

function closest(input: string, names: string[]): string {
  const best = closestRefs(input, names, 1)[0];
  return best ? `; did you mean "${best}"?` : '';
}

/** The number a by-tier parameter asks of an entity of `tier`. */
export function forTier(byTier: Record<string, number>, tier: number | undefined): number | undefined {
  return (tier !== undefined ? byTier[String(tier)] : undefined) ?? byTier.default;
}
