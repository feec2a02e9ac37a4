import type { Entity } from '@backstage/catalog-model';
import { distance } from 'fastest-levenshtein';

/**
 * Entity refs have one home: parse, canonical stringify, resolving what a person typed (short names), the
 * closest matches for an unknown name, and the short form shown back to people. Canonical form is
 * Backstage's: `kind:namespace/name`, lowercased. Resolution takes a {@link RefLookup}, so the catalogue
 * view and the graph index answer by the same rules from their own tables.
 */
export interface CompoundRef {
  kind: string;
  namespace: string;
  name: string;
}

export class RefError extends Error {
  constructor(
    message: string,
    readonly suggestions: string[] = [],
    /** `malformed`: not of the form `[kind:][namespace/]name`; `unknown`: well-formed, names nothing. */
    readonly problem: 'malformed' | 'unknown' = 'malformed',
  ) {
    super(message);
    this.name = 'RefError';
  }
}

const REF_FORM = 'expected "[kind:][namespace/]name", e.g. "component:default/card-api" or "card-api"';

/**
 * The parts of `[kind:][namespace/]name` that were written, lowercased, before any defaults: what the graph's
 * resolver and parseRef share. Throws RefError when a part is empty or the form is wrong.
 */
export function splitRefInput(input: string): { kind?: string; namespace?: string; name: string } {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new RefError(`Entity ref is empty; ${REF_FORM}`);
  }
  const ref = input.trim();
  let kind: string | undefined;
  let rest = ref;
  const colon = ref.indexOf(':');
  const slash = ref.indexOf('/');
  if (colon !== -1 && (slash === -1 || colon < slash)) {
    kind = ref.slice(0, colon);
    rest = ref.slice(colon + 1);
  }
  let namespace: string | undefined;
  let name = rest;
  const slash2 = rest.indexOf('/');
  if (slash2 !== -1) {
    namespace = rest.slice(0, slash2);
    name = rest.slice(slash2 + 1);
  }
  if (kind === '' || namespace === '' || !name || name.includes('/') || name.includes(':')) {
    throw new RefError(`Entity ref "${ref}" is malformed; ${REF_FORM}`);
  }
  return {
    ...(kind !== undefined ? { kind: kind.toLowerCase() } : {}),
    ...(namespace !== undefined ? { namespace: namespace.toLowerCase() } : {}),
    name: name.toLowerCase(),
  };
}

/** Parse `[kind:][namespace/]name`; `defaults` fill what the ref leaves out. Throws RefError. */
export function parseRef(input: string, defaults: { kind?: string; namespace?: string } = {}): CompoundRef {
  const parts = splitRefInput(input);
  const kind = parts.kind ?? defaults.kind?.toLowerCase();
  if (!kind) {
    throw new RefError(`Entity ref "${input.trim()}" has no kind and none is implied here; ${REF_FORM}`);
  }
  return {
    kind,
    namespace: parts.namespace ?? (defaults.namespace ?? 'default').toLowerCase(),
    name: parts.name,
  };
}

export function stringifyRef(ref: CompoundRef): string {
  return `${ref.kind}:${ref.namespace}/${ref.name}`.toLowerCase();
}

export function toRef(input: string, defaults: { kind?: string; namespace?: string } = {}): string {
  return stringifyRef(parseRef(input, defaults));
}

/** An entity's own ref, `kind:namespace/name`. */
export function entityRef(entity: Entity): string {
  return stringifyRef({
    kind: entity.kind,
    namespace: entity.metadata.namespace ?? 'default',
    name: entity.metadata.name,
  });
}

/** Splits a canonical `kind:namespace/name` ref (already checked, lowercase) without checking it again. */
export function splitRef(ref: string): CompoundRef {
  const colon = ref.indexOf(':');
  const slash = ref.indexOf('/', colon + 1);
  return { kind: ref.slice(0, colon), namespace: ref.slice(colon + 1, slash), name: ref.slice(slash + 1) };
}

/** Kinds in the order a short name (no kind) prefers them when several entities share it: services first. */
export const SHORT_NAME_KIND_ORDER = [
  'component',
  'group',
  'system',
  'api',
  'resource',
  'domain',
  'user',
  'location',
];

function kindRank(kind: string): number {
  const i = SHORT_NAME_KIND_ORDER.indexOf(kind);
  return i < 0 ? SHORT_NAME_KIND_ORDER.length : i;
}

/** Orders canonical refs for a short name: preferred kind, then the default namespace, then the ref. */
export function compareForShortName(a: string, b: string): number {
  const pa = splitRef(a);
  const pb = splitRef(b);
  return (
    kindRank(pa.kind) - kindRank(pb.kind) ||
    Number(pb.namespace === 'default') - Number(pa.namespace === 'default') ||
    (a < b ? -1 : a > b ? 1 : 0)
  );
}

/**
 * What resolving a name needs to know of the entities. The catalogue view and the graph index each answer
 * from their own tables; {@link refLookup} makes one from a list of refs.
 */
export interface RefLookup {
  /** Whether this canonical ref is known. */
  has(ref: string): boolean;
  /** The known refs with this name (any kind, any namespace), in {@link compareForShortName} order. */
  named(name: string): readonly string[];
  /** Every known name with its refs, each list in {@link compareForShortName} order. */
  names(): Iterable<readonly [string, readonly string[]]>;
}

/** A {@link RefLookup} over canonical refs. */
export function refLookup(refs: Iterable<string>): RefLookup {
  const all = new Set(refs);
  const byName = new Map<string, string[]>();
  for (const ref of all) {
    const name = ref.slice(ref.indexOf('/') + 1);
    const list = byName.get(name);
    if (list) list.push(ref);
    else byName.set(name, [ref]);
  }
  for (const list of byName.values()) if (list.length > 1) list.sort(compareForShortName);
  return {
    has: (ref) => all.has(ref),
    named: (name) => byName.get(name) ?? [],
    names: () => byName,
  };
}

/** Characters a part of a typed ref may have (Backstage's entity names, lowercased). */
const PART = /^[a-z0-9][a-z0-9_.-]{0,252}$/;

export interface ResolveOptions {
  /** Only refs this accepts count (e.g. callable nodes for a call path). */
  accept?: (ref: string) => boolean;
}

/**
 * Resolve what a person typed (`card-api`, `group:ledger`, `legacy/ledger`, `Component:default/Card-API`)
 * to a known ref. A short name is looked for in every namespace: several entities sharing it prefer
 * Component, then Group, System, API, Resource, Domain, User, and the default namespace
 * ({@link compareForShortName}). Throws a RefError: `malformed` for a bad form, `unknown` (with the closest
 * matches as suggestions) for a name that is not known.
 */
export function resolveRef(input: string, known: RefLookup, options: ResolveOptions = {}): string {
  const parts = splitRefInput(input);
  for (const part of [parts.kind, parts.namespace, parts.name])
    if (part !== undefined && !PART.test(part))
      throw new RefError(`Entity ref "${input.trim()}" is malformed; ${REF_FORM}`);
  const accept = options.accept ?? (() => true);
  if (parts.kind !== undefined) {
    const ref = `${parts.kind}:${parts.namespace ?? 'default'}/${parts.name}`;
    if (known.has(ref) && accept(ref)) return ref;
  } else {
    for (const ref of known.named(parts.name)) {
      if (parts.namespace !== undefined && splitRef(ref).namespace !== parts.namespace) continue;
      if (accept(ref)) return ref;
    }
  }
  const suggestions = closestRefs(input, known, 5, accept);
  const hint = suggestions.length ? ` Did you mean: ${suggestions.join(', ')}?` : '';
  throw new RefError(`No entity named "${input.trim()}".${hint}`, suggestions, 'unknown');
}

/**
 * Up to `limit` of the known refs (or plain names) whose names are closest to `input`: edit distance on the
 * name part, at most a third of its length (and at least 2); a name containing the input, or contained in
 * it, counts as that far. Each close name is listed once, as the ref its short name prefers (of the kind
 * the input names, when it has one; a ref of another kind is one further), nearest first, then in ref order.
 */
export function closestRefs(
  input: string,
  known: RefLookup | Iterable<string>,
  limit = 5,
  accept: (ref: string) => boolean = () => true,
): string[] {
  const typed = input.trim().toLowerCase();
  const target = typed.replace(/^.*[:/]/, '');
  const kind = /^([^:/]+):/.exec(typed)?.[1];
  const most = Math.max(2, Math.floor(target.length / 3));
  const scored: { ref: string; score: number }[] = [];
  for (const [name, refs] of isLookup(known) ? known.names() : refLookup(known).names()) {
    let score = distance(target, name);
    if (
      score > most &&
      (name.includes(target) || target.includes(name)) &&
      Math.min(name.length, target.length) >= 3
    )
      score = most;
    if (score > most) continue;
    const accepted = refs.filter(accept);
    const ofKind = (ref: string) => ref.slice(0, Math.max(0, ref.indexOf(':'))) === kind;
    const ref = (kind !== undefined ? accepted.find(ofKind) : undefined) ?? accepted[0];
    if (ref === undefined) continue;
    scored.push({ ref, score: kind !== undefined && ref.includes(':') && !ofKind(ref) ? score + 1 : score });
  }
  scored.sort((a, b) => a.score - b.score || (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  return scored.slice(0, limit).map((s) => s.ref);
}

/**
 * The closest known refs of the kind `raw` names (or, when it names none, of `kind`, else Component): what
 * a dangling relation target suggests. An unparsable `raw` suggests nothing.
 */
export function closestOfKind(raw: string, known: Iterable<string>, kind?: string, limit = 3): string[] {
  let wanted: string;
  try {
    wanted = parseRef(raw, { kind: kind ?? 'component' }).kind;
  } catch {
    return [];
  }
  return closestRefs(raw, known, limit, (ref) => ref.startsWith(`${wanted}:`));
}

function isLookup(known: RefLookup | Iterable<string>): known is RefLookup {
  return typeof (known as RefLookup).named === 'function';
}

/**
 * `ref` as people write it: the bare name of a Component in the default namespace (`card-api`), `kind:name`
 * in the default namespace (`group:ledger`), else the full ref. Not a canonical ref: given back as it is.
 */
export function shortRef(ref: string | null | undefined): string {
  return short(ref, undefined);
}

/**
 * {@link shortRef} knowing the entities: the bare name whenever it resolves to the ref by
 * {@link resolveRef}'s rules (`ledger` for `component:legacy/ledger` when no other entity is called ledger).
 */
export function shortRefIn(known: RefLookup): (ref: string | null | undefined) => string {
  return (ref) => short(ref, known);
}

function short(ref: string | null | undefined, known: RefLookup | undefined): string {
  if (!ref) return '';
  const colon = ref.indexOf(':');
  const slash = ref.indexOf('/', colon + 1);
  if (colon <= 0 || slash < 0) return ref;
  const { kind, namespace, name } = splitRef(ref);
  if (known ? known.named(name)[0] === ref : kind === 'component' && namespace === 'default') return name;
  return namespace === 'default' ? `${kind}:${name}` : ref;
}
