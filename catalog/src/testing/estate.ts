/**
 * The one test estate builder. A test describes its estate as a list of compact entity specs (groups with
 * their parent, users with their squads, components with owner, tier, calls and APIs, and APIs, resources,
 * systems, domains, locations) plus any extra files (Kubernetes manifests, scorecards), and gets either
 * Backstage entities with their relations ({@link toEntities}, what the graph is built from) or the
 * descriptor tree ({@link estateFiles}, {@link writeTestEstate}, what ingest reads). Both come from the same specs,
 * so an estate a graph test reasons about is the one a catalogue test ingests.
 */
import type { Entity } from '@backstage/catalog-model';
import { ANNOTATION } from '../model/annotations.ts';
import { stringifyRef } from '../model/ref.ts';
import { writeTree } from './tree.ts';

export type EntitySpecKind =
  | 'Component'
  | 'Resource'
  | 'API'
  | 'Group'
  | 'User'
  | 'System'
  | 'Domain'
  | 'Location';

export interface EntitySpec {
  kind: EntitySpecKind;
  name: string;
  namespace?: string;
  title?: string;
  description?: string;
  tags?: string[];
  links?: Array<{ url: string; title?: string }>;
  /** The bank's annotations, by meaning (written as `bank.io/…`, in this order). */
  tier?: number | string;
  oncall?: string;
  runbook?: string;
  slack?: string;
  language?: string;
  serviceId?: string;
  /** `bank.io/k8s-manifests`: the manifests' folder, relative to the descriptor. */
  manifests?: string;
  /** Any other annotations, after the bank's. */
  annotations?: Record<string, string>;
  /** spec.type (in a descriptor unless given: Component `service`, API `openapi`, Resource `database`). */
  type?: string;
  /** spec.lifecycle (Component and API: `production` in a descriptor unless given). */
  lifecycle?: string;
  /** Targets are written as given (`ledger`, `group:default/ledger`); for entities, short ones are resolved. */
  owner?: string;
  system?: string;
  domain?: string;
  /** A Group's parent; its `children` in a descriptor are the groups naming it as parent, unless given. */
  parent?: string;
  children?: string[];
  members?: string[];
  /** Group and User `spec.profile`. */
  profile?: { displayName?: string; email?: string };
  memberOf?: string[];
  /** A component's calls: to components and resources. */
  dependsOn?: string[];
  providesApis?: string[];
  consumesApis?: string[];
  /** An API's definition (in a descriptor unless given: `openapi: 3.0.3`). */
  definition?: string;
  /** A Location's targets. */
  targets?: string[];
  /** Where the descriptor is written, relative to the estate's root: by default `org/catalog-info.yaml` for
   * groups and users, `<name>/catalog-info.yaml` for the rest. Entities of one file share it, in spec order. */
  file?: string;
}

export interface EstateSpec {
  entities: readonly EntitySpec[];
  /** Extra files beside the descriptors (k8s manifests, scorecards), relative to the estate's root. */
  files?: Record<string, string | Uint8Array>;
  /** A folder every descriptor is written under (`services` puts ledger in `services/ledger/`). */
  root?: string;
}

/** A spec's ref, as the catalogue writes refs (catalog/model's stringifyRef). */
export function refOf(kind: string, name: string, namespace = 'default'): string {
  return stringifyRef({ kind, namespace, name });
}

/** A target as written (`ledger`, `component:ledger`, `group:default/ledger`) as a full ref. */
function fullRef(target: string, defaultKind: string): string {
  const colon = target.indexOf(':');
  const kind = colon < 0 ? defaultKind : target.slice(0, colon);
  const rest = colon < 0 ? target : target.slice(colon + 1);
  const slash = rest.indexOf('/');
  return slash < 0 ? refOf(kind, rest) : refOf(kind, rest.slice(slash + 1), rest.slice(0, slash));
}

/** Inverse of each forward relation, as Backstage pairs them. */
const INVERSE: Record<string, string> = {
  ownedBy: 'ownerOf',
  dependsOn: 'dependencyOf',
  providesApi: 'apiProvidedBy',
  consumesApi: 'apiConsumedBy',
  partOf: 'hasPart',
  childOf: 'parentOf',
  memberOf: 'hasMember',
};

function bankAnnotations(s: EntitySpec): Record<string, string> {
  const annotations: Record<string, string> = {};
  if (s.tier !== undefined) annotations[ANNOTATION.tier] = String(s.tier);
  if (s.oncall) annotations[ANNOTATION.oncall] = s.oncall;
  if (s.runbook) annotations[ANNOTATION.runbook] = s.runbook;
  if (s.slack) annotations[ANNOTATION.slack] = s.slack;
  if (s.language) annotations[ANNOTATION.language] = s.language;
  if (s.serviceId) annotations[ANNOTATION.serviceId] = s.serviceId;
  if (s.manifests) annotations[ANNOTATION.k8sManifests] = s.manifests;
  return { ...annotations, ...s.annotations };
}

/**
 * Specs as Backstage entities with relations computed in both directions, as the catalogue hands them to
 * the graph: metadata (name, namespace, title, description, annotations), spec.type and relations. Short
 * targets are resolved as the catalogue does (an owner or parent is a Group, a call a Component).
 */
export function toEntities(specs: readonly EntitySpec[]): Entity[] {
  const relations = new Map<string, { type: string; targetRef: string }[]>();
  const add = (source: string, type: string, target: string) => {
    const list = relations.get(source) ?? [];
    if (!list.some((r) => r.type === type && r.targetRef === target)) list.push({ type, targetRef: target });
    relations.set(source, list);
  };
  const pair = (source: string, type: string, target: string) => {
    add(source, type, target);
    add(target, INVERSE[type], source);
  };
  for (const s of specs) {
    const ref = refOf(s.kind, s.name, s.namespace);
    if (!relations.has(ref)) relations.set(ref, []);
    if (s.owner) pair(ref, 'ownedBy', fullRef(s.owner, 'group'));
    if (s.parent) pair(ref, 'childOf', fullRef(s.parent, 'group'));
    for (const g of s.memberOf ?? []) pair(ref, 'memberOf', fullRef(g, 'group'));
    for (const d of s.dependsOn ?? []) pair(ref, 'dependsOn', fullRef(d, 'component'));
    for (const a of s.providesApis ?? []) pair(ref, 'providesApi', fullRef(a, 'api'));
    for (const a of s.consumesApis ?? []) pair(ref, 'consumesApi', fullRef(a, 'api'));
    if (s.system) pair(ref, 'partOf', fullRef(s.system, 'system'));
  }
  return specs.map((s) => {
    const ref = refOf(s.kind, s.name, s.namespace);
    const spec: Record<string, string> = {};
    if (s.type) spec.type = s.type;
    return {
      apiVersion: 'backstage.io/v1alpha1',
      kind: s.kind,
      metadata: {
        name: s.name,
        ...(s.namespace ? { namespace: s.namespace } : {}),
        ...(s.title ? { title: s.title } : {}),
        ...(s.description ? { description: s.description } : {}),
        annotations: bankAnnotations(s),
      },
      spec,
      relations: relations.get(ref) ?? [],
    } as Entity;
  });
}

type Yaml = string | number | boolean | Yaml[] | { [key: string]: Yaml | undefined };

/** The descriptor a person would write for a spec (`children` of a group from `groups`, when given). */
export function descriptorOf(s: EntitySpec, groups: readonly EntitySpec[] = []): Record<string, Yaml> {
  const annotations = bankAnnotations(s);
  const metadata: Record<string, Yaml | undefined> = {
    name: s.name,
    namespace: s.namespace,
    title: s.title,
    description: s.description,
    tags: s.tags,
    links: s.links,
    annotations: Object.keys(annotations).length > 0 ? annotations : undefined,
  };
  const common = { owner: s.owner, system: s.system };
  let spec: Record<string, Yaml | undefined>;
  switch (s.kind) {
    case 'Component':
      spec = {
        type: s.type ?? 'service',
        lifecycle: s.lifecycle ?? 'production',
        ...common,
        providesApis: s.providesApis,
        dependsOn: s.dependsOn,
        consumesApis: s.consumesApis,
      };
      break;
    case 'API':
      // Backstage requires a type and a definition: a placeholder OpenAPI one unless given.
      spec = {
        type: s.type ?? 'openapi',
        lifecycle: s.lifecycle ?? 'production',
        ...common,
        definition: s.definition ?? 'openapi: 3.0.3',
      };
      break;
    case 'Resource':
      spec = { type: s.type ?? 'database', ...common, dependsOn: s.dependsOn };
      break;
    case 'System':
      spec = { owner: s.owner, domain: s.domain };
      break;
    case 'Domain':
      spec = { owner: s.owner };
      break;
    case 'Group':
      spec = {
        type: s.type ?? 'squad',
        profile: s.profile,
        parent: s.parent,
        children:
          s.children ?? groups.filter((g) => g.kind === 'Group' && g.parent === s.name).map((g) => g.name),
        members: s.members,
      };
      break;
    case 'User':
      spec = { profile: s.profile, memberOf: s.memberOf ?? [] };
      break;
    case 'Location':
      spec = { type: s.type, targets: s.targets ?? [] };
      break;
  }
  return { apiVersion: 'backstage.io/v1alpha1', kind: s.kind, metadata, spec } as Record<string, Yaml>;
}

/** The descriptors of `specs` as one multi-document YAML text, in spec order. */
export function descriptorText(specs: readonly EntitySpec[], groups: readonly EntitySpec[] = specs): string {
  return specs.map((s) => toYaml(descriptorOf(s, groups))).join('---\n');
}

/** The estate as files: descriptors (grouped by file, in spec order) and the extra files. */
export function estateFiles(estate: EstateSpec): Record<string, string | Uint8Array> {
  const byFile = new Map<string, EntitySpec[]>();
  for (const s of estate.entities) {
    const home = s.kind === 'Group' || s.kind === 'User' ? 'org' : s.name;
    const rel = s.file ?? `${home}/catalog-info.yaml`;
    const file = estate.root ? `${estate.root}/${rel}` : rel;
    byFile.set(file, [...(byFile.get(file) ?? []), s]);
  }
  const files: Record<string, string | Uint8Array> = {};
  for (const [file, specs] of byFile) files[file] = descriptorText(specs, estate.entities);
  return { ...files, ...estate.files };
}

/** Writes the estate's descriptor tree into `dir` (a fresh temporary folder by default) and returns it. */
export function writeTestEstate(estate: EstateSpec, dir?: string): string {
  return writeTree(estateFiles(estate), dir);
}

// A small YAML writer for descriptors, in the style people write them: block mappings, lists of plain
// values in flow style (`dependsOn: [component:ledger]`), anything a plain scalar would misread quoted.
const PLAIN = /^[^\s\-?:,[\]{}#&*!|>'"%@`][^\n]*$/;
const MISREAD = /^(?:true|false|yes|no|on|off|null|~|[-+]?[\d.][\d._eE+-]*|0x[\da-fA-F]+|\.inf|\.nan)$/i;

function scalar(value: string | number | boolean, flow: boolean): string {
  if (typeof value !== 'string') return String(value);
  const plain =
    PLAIN.test(value) &&
    !MISREAD.test(value) &&
    !/: |:$| #|\s$/.test(value) &&
    !(flow && /[,[\]{}]/.test(value));
  return plain ? value : JSON.stringify(value);
}

function lines(value: Yaml, indent: string): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (typeof item !== 'object') return [`${indent}- ${scalar(item, false)}`];
      const [first, ...rest] = lines(item, `${indent}  `);
      return [`${indent}- ${first.trimStart()}`, ...rest];
    });
  }
  if (typeof value !== 'object') return [`${indent}${scalar(value, false)}`];
  const out: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (Array.isArray(v) && v.every((i) => typeof i !== 'object'))
      out.push(`${indent}${key}: [${v.map((i) => scalar(i as string, true)).join(', ')}]`);
    else if (typeof v === 'object' && Object.keys(v).length === 0) out.push(`${indent}${key}: {}`);
    else if (typeof v === 'object') out.push(`${indent}${key}:`, ...lines(v, `${indent}  `));
    else out.push(`${indent}${key}: ${scalar(v, false)}`);
  }
  return out;
}

/** One YAML document for a plain object, ending in a newline. */
export function toYaml(value: Record<string, Yaml | undefined>): string {
  return `${lines(value as Yaml, '').join('\n')}\n`;
}

/** A component as most tests want it: described, tier 2 unless told, owned by the ledger squad. */
export function componentSpec(
  name: string,
  opts: Omit<Partial<EntitySpec>, 'kind' | 'name'> = {},
): EntitySpec {
  return { kind: 'Component', name, description: `The ${name} service`, tier: '2', owner: 'ledger', ...opts };
}

/** A Component descriptor (see {@link componentSpec}). */
export function component(
  name: string,
  opts: {
    owner?: string;
    dependsOn?: string[];
    consumesApis?: string[];
    tier?: string;
    system?: string;
  } = {},
): string {
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  return descriptorText([componentSpec(name, defined)]);
}

/** The org most tests use: bank → core-banking (a collective) → the ledger and accounts squads; jane.doe in ledger. */
export const ORG_SPECS: readonly EntitySpec[] = [
  { kind: 'Group', name: 'bank', type: 'organization' },
  { kind: 'Group', name: 'core-banking', type: 'collective', parent: 'bank' },
  { kind: 'Group', name: 'ledger', type: 'squad', parent: 'core-banking' },
  { kind: 'Group', name: 'accounts', type: 'squad', parent: 'core-banking' },
  { kind: 'User', name: 'jane.doe', memberOf: ['ledger'] },
];

/** {@link ORG_SPECS} as the descriptor file `org/catalog-info.yaml`. */
export const ORG = descriptorText(ORG_SPECS);
