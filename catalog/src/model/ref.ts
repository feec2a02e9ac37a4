import { distance } from 'fastest-levenshtein';

/**
 * Entity refs have one home: parse, canonical stringify, short names and closest matches.
 * Canonical form is Backstage's: `kind:namespace/name`, lowercased.
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

/** Kinds tried, in order, when a short name (no kind) is given: services first. */
export const SHORT_NAME_KIND_ORDER = ['component', 'group', 'system', 'api', 'resource', 'domain', 'user'];

/**
 * Resolve what a person typed (`card-api`, `group:ledger`, `Component:default/Card-API`) against the
 * known refs. Unknown names throw a RefError carrying the closest matches.
 */
export function resolveRef(
  input: string,
  known: ReadonlySet<string>,
  preferKinds = SHORT_NAME_KIND_ORDER,
): string {
  const trimmed = typeof input === 'string' ? input.trim() : '';
  const hasKind = /^[^/]*:/.test(trimmed);
  if (hasKind) {
    const ref = toRef(trimmed);
    if (known.has(ref)) return ref;
    throw unknownRef(trimmed, known);
  }
  const { namespace, name } = parseRef(trimmed, { kind: 'component' });
  for (const kind of preferKinds) {
    const ref = `${kind}:${namespace}/${name}`;
    if (known.has(ref)) return ref;
  }
  throw unknownRef(trimmed, known);
}

function unknownRef(input: string, known: ReadonlySet<string>): RefError {
  const suggestions = closestRefs(input, known);
  const hint = suggestions.length ? ` Did you mean: ${suggestions.join(', ')}?` : '';
  return new RefError(`No entity named "${input}".${hint}`, suggestions);
}

/** Up to `limit` known refs whose names are closest to `input` (edit distance on the name part). */
export function closestRefs(input: string, known: Iterable<string>, limit = 5): string[] {
  const wanted = input.toLowerCase().replace(/^.*[:/]/, '');
  const scored: { ref: string; score: number }[] = [];
  for (const ref of known) {
    const name = ref.slice(ref.indexOf('/') + 1);
    let score = distance(wanted, name);
    if (name.includes(wanted) || wanted.includes(name))
      score = Math.min(score, 1 + Math.abs(name.length - wanted.length) / 10);
    scored.push({ ref, score });
  }
  const max = Math.max(2, Math.ceil(wanted.length / 2));
  return scored
    .filter((s) => s.score <= max)
    .sort((a, b) => a.score - b.score || a.ref.localeCompare(b.ref))
    .slice(0, limit)
    .map((s) => s.ref);
}
