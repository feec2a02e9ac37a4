/**
 * Offline validation of generated Kubernetes manifests: each object against the Kubernetes schemas
 * (kubernetes-models 4.5.1, ajv, Kubernetes 1.27 schemas), then the checks the schemas cannot make: selectors match
 * pod labels, named ports exist, the PDB leaves room to roll, images are pinned by digest, names fit.
 */
import jsYaml from 'js-yaml';
import { parseAllDocuments } from 'yaml';

export interface ManifestObject {
  file: string;
  apiVersion: string;
  kind: string;
  name: string;
  object: Record<string, unknown>;
}

export interface ManifestReport {
  file: string;
  kind: string;
  name: string;
  apiVersion: string;
  errors: string[];
}

type ModelCtor = new (o: unknown) => { validate(): void };

/**
 * apiVersion → module and exported class per kind. Only these are accepted from a template. Each module is
 * imported by a literal specifier so that the compiled CLI (portal/bin/build.mjs) can see and locate it.
 */
const MODELS: Record<string, { module: () => Promise<unknown>; kinds: string[] }> = {
  v1: {
    module: () => import('kubernetes-models/v1'),
    kinds: ['ServiceAccount', 'Service', 'ConfigMap', 'Secret'],
  },
  'apps/v1': { module: () => import('kubernetes-models/apps/v1'), kinds: ['Deployment', 'StatefulSet'] },
  'policy/v1': { module: () => import('kubernetes-models/policy/v1'), kinds: ['PodDisruptionBudget'] },
  'networking.k8s.io/v1': {
    module: () => import('kubernetes-models/networking.k8s.io/v1'),
    kinds: ['NetworkPolicy'],
  },
  'batch/v1': { module: () => import('kubernetes-models/batch/v1'), kinds: ['CronJob', 'Job'] },
  'autoscaling/v2': {
    module: () => import('kubernetes-models/autoscaling/v2'),
    kinds: ['HorizontalPodAutoscaler'],
  },
};

const loaded = new Map<string, Record<string, ModelCtor>>();
async function modelFor(apiVersion: string, kind: string): Promise<ModelCtor | undefined> {
  const entry = MODELS[apiVersion];
  if (!entry?.kinds.includes(kind)) return undefined;
  let mod = loaded.get(apiVersion);
  if (!mod) {
    mod = (await entry.module()) as Record<string, ModelCtor>;
    loaded.set(apiVersion, mod);
  }
  return mod[kind];
}

/** Load every model module now (they take ~2 s the first time). */
export async function preloadManifestModels(): Promise<void> {
  for (const [apiVersion, entry] of Object.entries(MODELS)) {
    for (const kind of entry.kinds) {
      const Model = await modelFor(apiVersion, kind);
      try {
        // The first validate() of a kind compiles its schema: do it now, on an empty object.
        new (Model as ModelCtor)({}).validate();
      } catch {
        // expected: an empty object is invalid
      }
    }
  }
}

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * Parse YAML manifest files into objects (one file may hold several documents).
 *
 * What a file means is what the yaml package makes of it (YAML 1.2 core schema, duplicate keys refused,
 * merge keys not merged, at most 10 alias expansions): `parseManifestsSlow`. Most files are plain block
 * mappings, which js-yaml reads about seven times faster (CPU, the generated estate's manifests); a file
 * is read that way only when nothing in it could be read differently by the two (see `fastDocuments`),
 * and with the yaml package's core schema rebuilt for js-yaml (`YAML_CORE`), so the objects are the same.
 * Anything else, and any file js-yaml rejects, is read by the yaml package, so every error is its error.
 * manifests-parse.test.ts holds the two equal.
 */
export function parseManifests(files: { path: string; text: string }[]): {
  objects: ManifestObject[];
  errors: ManifestReport[];
} {
  const objects: ManifestObject[] = [];
  const errors: ManifestReport[] = [];
  for (const f of files) {
    const docs = fastDocuments(f.text);
    if (docs) for (const o of docs) addDocument(f.path, o, objects, errors);
    else parseFileSlow(f, objects, errors);
  }
  return { objects, errors };
}

/** parseManifests with the yaml package alone: what the fast path must equal. */
export function parseManifestsSlow(files: { path: string; text: string }[]): {
  objects: ManifestObject[];
  errors: ManifestReport[];
} {
  const objects: ManifestObject[] = [];
  const errors: ManifestReport[] = [];
  for (const f of files) parseFileSlow(f, objects, errors);
  return { objects, errors };
}

function parseFileSlow(
  f: { path: string; text: string },
  objects: ManifestObject[],
  errors: ManifestReport[],
): void {
  const docs = parseAllDocuments(f.text, { merge: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    if (doc.errors.length) {
      errors.push({
        file: f.path,
        kind: '',
        name: '',
        apiVersion: '',
        errors: [`not valid YAML: ${doc.errors[0].message.split('\n')[0]}`],
      });
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 10 });
    } catch (err) {
      // An alias bomb (more alias expansions than maxAliasCount allows) is refused while building the
      // value: reported as this file's error like any other unreadable YAML, not thrown at the caller.
      errors.push({
        file: f.path,
        kind: '',
        name: '',
        apiVersion: '',
        errors: [`not valid YAML: ${String((err as Error).message ?? err).split('\n')[0]}`],
      });
      continue;
    }
    addDocument(f.path, value, objects, errors);
  }
}

function addDocument(file: string, doc: unknown, objects: ManifestObject[], errors: ManifestReport[]): void {
  const o = doc as Record<string, unknown> | null;
  if (o === null || o === undefined) return;
  if (typeof o !== 'object' || Array.isArray(o)) {
    errors.push({ file, kind: '', name: '', apiVersion: '', errors: ['a manifest must be a mapping'] });
    return;
  }
  const meta = (o.metadata ?? {}) as Record<string, unknown>;
  objects.push({
    file,
    apiVersion: String(o.apiVersion ?? ''),
    kind: String(o.kind ?? ''),
    name: String(meta.name ?? ''),
    object: o,
  });
}

/**
 * The yaml package's core schema (yaml/dist/schema/core: null, bool, int, float in that order, with its
 * patterns and conversions) for js-yaml's plain scalars. js-yaml's own CORE_SCHEMA differs: it reads
 * `0b1`, `1_000`, `+0x1F` as numbers and `-.5` as text. Quoted scalars are text in both.
 */
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
const isText = (s: unknown): s is string => typeof s === 'string';
// One js-yaml type per kind of value: js-yaml keeps only the last of several types with the same tag.
const YAML_CORE = jsYaml.FAILSAFE_SCHEMA.extend({
  implicit: [
    new jsYaml.Type('tag:yaml.org,2002:null', {
      kind: 'scalar',
      resolve: (s: unknown) => s === null || (isText(s) && NULL.test(s)),
      construct: () => null,
    }),
    new jsYaml.Type('tag:yaml.org,2002:bool', {
      kind: 'scalar',
      resolve: (s: unknown) => isText(s) && BOOL.test(s),
      construct: (s: string) => s[0] === 't' || s[0] === 'T',
    }),
    new jsYaml.Type('tag:yaml.org,2002:int', {
      kind: 'scalar',
      resolve: (s: unknown) => isText(s) && (INT_OCT.test(s) || INT.test(s) || INT_HEX.test(s)),
      construct: (s: string) =>
        INT_OCT.test(s)
          ? Number.parseInt(s.substring(2), 8)
          : INT.test(s)
            ? Number.parseInt(s, 10)
            : Number.parseInt(s.substring(2), 16),
    }),
    new jsYaml.Type('tag:yaml.org,2002:float', {
      kind: 'scalar',
      resolve: (s: unknown) => isText(s) && (FLOAT_NAN.test(s) || FLOAT_EXP.test(s) || FLOAT.test(s)),
      construct: (s: string) =>
        FLOAT_NAN.test(s)
          ? s.slice(-3).toLowerCase() === 'nan'
            ? Number.NaN
            : s[0] === '-'
              ? Number.NEGATIVE_INFINITY
              : Number.POSITIVE_INFINITY
          : Number.parseFloat(s),
    }),
  ],
});

/**
 * What the two parsers might read differently, or only the yaml package limits or reports as it should:
 * anchors, aliases and tags (`&`, `*`, `!`: alias bombs, explicit types), merge keys, directives (`%YAML
 * 1.1` changes the schema), block scalars (`|`, `>`), flow collections, explicit keys (`?`), reserved
 * indicators (`@`, backtick) at the start of a token, and escapes, tabs, carriage returns, a byte order
 * mark or the YAML 1.1 line breaks anywhere. The rest of a file must then pass `isPlainBlockYaml`.
 */
const SLOW_ONLY = /(?:^|[\s,[\]{}:?-])[&*!|>%@`{}[\]?]|<<|[\t\r\\\u0085\u2028\u2029\ufeff]/;
/**
 * A key read as null is '' for the yaml package and 'null' for js-yaml. In what isPlainBlockYaml lets
 * through, such a key is written like this (and a key written "null" is left to the yaml package too).
 */
const NULL_KEY = /(?:^|[ -])(?:~|[Nn]ull|NULL|"null"|'null'):(?: |$)/m;
/** The yaml package refuses an implicit key longer than 1024 characters; js-yaml does not. */
const LONG_LINE = 1000;

/**
 * The documents of a file as js-yaml reads them, when that is what the yaml package would make of it;
 * undefined when the file is for the yaml package (exported for the tests).
 */
export function fastDocuments(text: string): unknown[] | undefined {
  if (SLOW_ONLY.test(text) || NULL_KEY.test(text) || hasLongLine(text) || !isPlainBlockYaml(text))
    return undefined;
  let docs: unknown[];
  try {
    docs = jsYaml.loadAll(text, undefined, { schema: YAML_CORE });
  } catch {
    return undefined;
  }
  return docs;
}

// One line of the block YAML both parsers read alike: indentation, an optional `- `, an optional `key:`
// (a plain key without ':' or a quoted one), an optional one-line value (plain, or quoted without escapes),
// an optional comment after a space.
const START = String.raw`[^\s\-?:,[\]{}#&*!|>'"%@\x60]`;
const KEY = String.raw`(?:${START}[^\s:]*(?: +[^\s:#][^\s:]*)*|"[^"]*"|'(?:[^']|'')*')`;
const WORD = String.raw`(?:[^\s:]|:(?=\S))`;
const PLAIN = String.raw`(?:(?:${START}|-(?=\S))${WORD}*(?: +(?:[^\s:#]|:(?=\S))${WORD}*)*)`;
const VALUE = `(?:${PLAIN}|"[^"]*"|'(?:[^']|'')*')`;
const LINE = new RegExp(`^( *)(-(?: +|$))?(?:(${KEY}):(?: +|$))?(${VALUE})? *(?:(?<= )#.*)?$`);
const NOTHING = /^ *(?:#.*)?$/;

/**
 * Whether a file is only block mappings and sequences of one-line scalars, each line a `key: value`, a
 * `- value` or a `- key: value` at an indentation the yaml package accepts (js-yaml lets some wrong ones
 * pass: sequence items at different columns, quoted text continued on a line indented too little).
 */
function isPlainBlockYaml(text: string): boolean {
  const open: { col: number; seq: boolean }[] = [];
  // The column of a key whose value starts on a later line, if the last line ended with one.
  let pending = -1;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (NOTHING.test(line)) continue;
    if (line === '---') {
      open.length = 0;
      pending = -1;
      continue;
    }
    const m = LINE.exec(line);
    if (!m) return false;
    const col = m[1].length;
    const dash = m[2];
    const key = m[3] !== undefined;
    const value = m[4] !== undefined;
    // Without a key, a line is `- value`: not a scalar alone, and not a bare `-` (an empty item, or one
    // whose value starts below: js-yaml puts the next item of the enclosing sequence into the one below).
    if (!key && !(dash && value)) return false;
    const top = open.at(-1);
    if (
      open.length === 0 ||
      (pending >= 0 && (col > pending || (col === pending && dash && top?.col === col && !top.seq)))
    ) {
      open.push({ col, seq: dash !== undefined });
    } else {
      while (open.length > 0 && (open.at(-1) as { col: number }).col > col) open.pop();
      let at = open.at(-1);
      // A sequence at its key's indentation ends at the next key there.
      if (at && at.col === col && at.seq && !dash) {
        open.pop();
        at = open.at(-1);
      }
      if (!at || at.col !== col || at.seq !== (dash !== undefined)) return false;
    }
    pending = -1;
    if (dash) {
      const body = col + dash.length;
      if (key) {
        open.push({ col: body, seq: false });
        if (!value) pending = body;
      }
    } else if (!value) pending = col;
  }
  return true;
}

function hasLongLine(text: string): boolean {
  if (text.length < LONG_LINE) return false;
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    if ((end < 0 ? text.length : end) - start >= LONG_LINE) return true;
    if (end < 0) return false;
    start = end + 1;
  }
}

const get = (o: unknown, ...path: string[]): unknown => {
  let v = o;
  for (const k of path) {
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
};

function matches(selector: unknown, labels: unknown): boolean {
  if (!selector || typeof selector !== 'object') return false;
  const l = (labels ?? {}) as Record<string, unknown>;
  const entries = Object.entries(selector as Record<string, unknown>);
  return entries.length > 0 && entries.every(([k, v]) => l[k] === v);
}

/** Validate every object; returns one report per object (errors empty when valid). */
/** On a workload whose image is not built yet (see the image check). */
export const AWAITING_BUILD = 'bank.io/awaiting-first-build';

export async function validateManifests(objects: ManifestObject[]): Promise<ManifestReport[]> {
  const reports: ManifestReport[] = [];
  const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
  for (const m of objects) {
    const errors: string[] = [];
    const Model = await modelFor(m.apiVersion, m.kind);
    if (!Model) {
      errors.push(
        `${m.apiVersion || '(no apiVersion)'} ${m.kind || '(no kind)'} is not a kind the scaffolder validates; known: ${Object.entries(
          MODELS,
        )
          .flatMap(([v, e]) => e.kinds.map((k) => `${v} ${k}`))
          .join(', ')}`,
      );
    } else {
      try {
        new Model(m.object).validate();
      } catch (err) {
        for (const part of String((err as Error).message).split(/, (?=data)/))
          errors.push(part.replace(/^data/, '') || part);
      }
    }
    const nameRule =
      m.kind === 'Service'
        ? DNS_1035_LABEL
        : ['Deployment', 'ServiceAccount', 'PodDisruptionBudget', 'StatefulSet', 'CronJob'].includes(m.kind)
          ? DNS_1123_LABEL
          : DNS_SUBDOMAIN;
    const maxName = m.kind === 'CronJob' ? 52 : nameRule === DNS_SUBDOMAIN ? 253 : 63;
    if (!nameRule.test(m.name) || m.name.length > maxName) {
      errors.push(
        `/metadata/name "${m.name}" must be a ${m.kind === 'Service' ? 'DNS-1035' : 'DNS-1123'} name of at most ${maxName} characters`,
      );
    }
    for (const [k, v] of Object.entries(
      (get(m.object, 'metadata', 'labels') ?? {}) as Record<string, unknown>,
    )) {
      if (
        typeof v !== 'string' ||
        v.length > 63 ||
        (v !== '' && !/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(v))
      ) {
        errors.push(
          `/metadata/labels/${k} "${String(v)}" is not a valid label value (≤ 63 characters, alphanumerics, '-', '_', '.')`,
        );
      }
    }
    const podSpec =
      m.kind === 'CronJob'
        ? get(m.object, 'spec', 'jobTemplate', 'spec', 'template', 'spec')
        : get(m.object, 'spec', 'template', 'spec');
    if (podSpec && typeof podSpec === 'object') {
      const base = m.kind === 'CronJob' ? '/spec/jobTemplate/spec/template/spec' : '/spec/template/spec';
      const containers = (get(podSpec, 'containers') ?? []) as Record<string, unknown>[];
      containers.forEach((c, i) => {
        const at = `${base}/containers/${i}`;
        const image = String(c.image ?? '');
        // A service not built yet has no digest to pin: it names its repository with no tag and
        // imagePullPolicy Never, so nothing (no `latest`) can run until the pipeline pins the digest it built.
        const awaitingBuild =
          get(m.object, 'metadata', 'annotations', AWAITING_BUILD) !== undefined &&
          !/[@:][^/]*$/.test(image) &&
          c.imagePullPolicy === 'Never';
        if (!/@sha256:[0-9a-f]{64}$/.test(image) && !awaitingBuild)
          errors.push(
            `${at}/image "${image}" must be pinned by digest (…@sha256:<64 hex>), or, before the first build, be the repository alone with imagePullPolicy: Never and the ${AWAITING_BUILD} annotation`,
          );
        if (/@sha256:0{64}$/.test(image))
          errors.push(`${at}/image "${image}" has an all-zero digest: no image has it`);
        if (/:latest(@|$)/.test(image)) errors.push(`${at}/image must not use the "latest" tag`);
        const ports = new Set(
          ((c.ports ?? []) as Record<string, unknown>[]).map((p) => p.name).filter(Boolean),
        );
        for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
          const port = get(c, probe, 'httpGet', 'port');
          if (typeof port === 'string' && !ports.has(port))
            errors.push(`${at}/${probe}/httpGet/port "${port}" is not a named port of the container`);
        }
        if (!get(c, 'resources', 'requests')) errors.push(`${at}/resources/requests are required`);
        if (!get(c, 'resources', 'limits', 'memory'))
          errors.push(`${at}/resources/limits/memory is required`);
      });
      if (get(podSpec, 'securityContext', 'runAsNonRoot') !== true)
        errors.push(`${base}/securityContext/runAsNonRoot must be true`);
    }
    if (m.kind === 'Deployment' || m.kind === 'StatefulSet') {
      if (
        !matches(
          get(m.object, 'spec', 'selector', 'matchLabels'),
          get(m.object, 'spec', 'template', 'metadata', 'labels'),
        )
      ) {
        errors.push('/spec/selector/matchLabels must match /spec/template/metadata/labels');
      }
    }
    if (m.kind === 'Service') {
      const selector = get(m.object, 'spec', 'selector');
      const target = workloads.find((w) =>
        matches(selector, get(w.object, 'spec', 'template', 'metadata', 'labels')),
      );
      if (workloads.length > 0 && !target) errors.push('/spec/selector matches no Deployment in this set');
      if (target) {
        const names = new Set(
          (
            (get(target.object, 'spec', 'template', 'spec', 'containers') ?? []) as Record<string, unknown>[]
          ).flatMap((c) => ((c.ports ?? []) as Record<string, unknown>[]).map((p) => p.name)),
        );
        ((get(m.object, 'spec', 'ports') ?? []) as Record<string, unknown>[]).forEach((p, i) => {
          if (typeof p.targetPort === 'string' && !names.has(p.targetPort))
            errors.push(
              `/spec/ports/${i}/targetPort "${p.targetPort}" is not a named container port of ${target.name}`,
            );
        });
      }
    }
    if (m.kind === 'PodDisruptionBudget') {
      const selector = get(m.object, 'spec', 'selector', 'matchLabels');
      const target = workloads.find((w) =>
        matches(selector, get(w.object, 'spec', 'template', 'metadata', 'labels')),
      );
      if (!target) errors.push('/spec/selector/matchLabels matches no Deployment in this set');
      const min = get(m.object, 'spec', 'minAvailable');
      const replicas = target ? get(target.object, 'spec', 'replicas') : undefined;
      if (typeof min === 'number' && typeof replicas === 'number' && min >= replicas) {
        errors.push(
          `/spec/minAvailable ${min} must be less than the Deployment's replicas (${replicas}), or no pod can ever be evicted`,
        );
      }
    }
    if (m.kind === 'NetworkPolicy') {
      const selector = get(m.object, 'spec', 'podSelector', 'matchLabels');
      const target = workloads.find((w) =>
        matches(selector, get(w.object, 'spec', 'template', 'metadata', 'labels')),
      );
      if (workloads.length > 0 && selector && Object.keys(selector).length > 0 && !target)
        errors.push('/spec/podSelector matches no Deployment in this set');
    }
    reports.push({ file: m.file, kind: m.kind, name: m.name, apiVersion: m.apiVersion, errors });
  }
  return reports;
}

/**
 * The edges a set of NetworkPolicies allows for the pods labelled `app.kubernetes.io/name: <self>`:
 * ingress from which pod names (and namespaces), egress to which pod names, CIDRs and ports.
 */
export function networkEdges(objects: ManifestObject[], self: string) {
  const ingressFrom = new Set<string>();
  const ingressNamespaces = new Set<string>();
  const egressTo = new Set<string>();
  const egressCidrs = new Set<string>();
  let dns = false;
  const podNames = (sel: unknown): string[] => {
    const ml = get(sel, 'matchLabels', 'app.kubernetes.io/name');
    if (typeof ml === 'string') return [ml];
    const out: string[] = [];
    for (const e of (get(sel, 'matchExpressions') ?? []) as Record<string, unknown>[]) {
      if (e.key === 'app.kubernetes.io/name' && e.operator === 'In')
        out.push(...((e.values ?? []) as string[]));
    }
    return out;
  };
  for (const o of objects) {
    if (o.kind !== 'NetworkPolicy') continue;
    if (get(o.object, 'spec', 'podSelector', 'matchLabels', 'app.kubernetes.io/name') !== self) continue;
    for (const rule of (get(o.object, 'spec', 'ingress') ?? []) as Record<string, unknown>[]) {
      for (const peer of (rule.from ?? []) as Record<string, unknown>[]) {
        for (const n of podNames(peer.podSelector)) ingressFrom.add(n);
        const ns = get(peer, 'namespaceSelector', 'matchLabels', 'kubernetes.io/metadata.name');
        if (typeof ns === 'string') ingressNamespaces.add(ns);
      }
    }
    for (const rule of (get(o.object, 'spec', 'egress') ?? []) as Record<string, unknown>[]) {
      for (const peer of (rule.to ?? []) as Record<string, unknown>[]) {
        if (get(peer, 'podSelector', 'matchLabels', 'k8s-app') === 'kube-dns') dns = true;
        else for (const n of podNames(peer.podSelector)) egressTo.add(n);
        const cidr = get(peer, 'ipBlock', 'cidr');
        if (typeof cidr === 'string') {
          const ports = ((rule.ports ?? []) as Record<string, unknown>[]).map((p) => p.port).join('+');
          egressCidrs.add(`${cidr}:${ports}`);
        }
      }
    }
  }
  return {
    ingressFrom: [...ingressFrom].sort(),
    ingressNamespaces: [...ingressNamespaces].sort(),
    egressTo: [...egressTo].sort(),
    egressCidrs: [...egressCidrs].sort(),
    dns,
  };
}
