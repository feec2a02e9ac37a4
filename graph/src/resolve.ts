import { distance } from 'fastest-levenshtein';
import { MalformedRefError, UnknownRefError } from './errors.ts';
import type { GraphIndex } from './graph-index.ts';
import { splitRef } from './internal/ref.ts';

const PART = /^[a-z0-9][a-z0-9_.-]{0,252}$/;
const EXPECTED = "a name like 'card-api' or a ref like 'component:default/card-api'";

export interface ParsedRef {
  kind?: string;
  namespace?: string;
  name: string;
}

/** Parses `name`, `namespace/name`, `kind:name` or `kind:namespace/name` (case-insensitive). */
export function parseRef(input: string, fn = 'resolve'): ParsedRef {
  const text = typeof input === 'string' ? input.trim().toLowerCase() : '';
  const fail = (): never => {
    throw new MalformedRefError(`${fn}: malformed ref ${JSON.stringify(input)}: expected ${EXPECTED}`, {
      ref: input,
    });
  };
  const colon = text.split(':');
  if (colon.length > 2) fail();
  const kind = colon.length === 2 ? colon[0] : undefined;
  const rest = colon.length === 2 ? colon[1] : colon[0];
  const slash = rest.split('/');
  if (slash.length > 2) fail();
  const namespace = slash.length === 2 ? slash[0] : undefined;
  const name = slash.length === 2 ? slash[1] : slash[0];
  for (const part of [kind, namespace, name]) if (part !== undefined && !PART.test(part)) fail();
  const parsed: ParsedRef = { name };
  if (kind !== undefined) parsed.kind = kind;
  if (namespace !== undefined) parsed.namespace = namespace;
  return parsed;
}

export interface ResolveOptions {
  /** Function name for messages, e.g. 'paths'. */
  fn?: string;
  /** Which argument this is, e.g. 'from'. */
  field?: string;
  /** Only refs this predicate accepts count (e.g. callable nodes for paths). */
  accept?: (ref: string) => boolean;
}

/**
 * Resolves a short name or ref to a canonical ref in the index. A short name shared by several entities
 * prefers Component, then Group, System, API, Resource, and the default namespace. An unknown name throws
 * {@link UnknownRefError} with the closest known refs.
 */
export function resolveRef(index: GraphIndex, input: string, options: ResolveOptions = {}): string {
  const fn = options.fn ?? 'resolve';
  const parsed = parseRef(input, fn);
  const accept = options.accept ?? (() => true);
  if (parsed.kind !== undefined) {
    const ref = `${parsed.kind}:${parsed.namespace ?? 'default'}/${parsed.name}`;
    if (index.relations.hasNode(ref) && accept(ref)) return ref;
  } else {
    for (const ref of index.names.get(parsed.name) ?? []) {
      if (parsed.namespace !== undefined && splitRef(ref).namespace !== parsed.namespace) continue;
      if (accept(ref)) return ref;
    }
  }
  const suggestions = closestRefs(index, parsed, accept);
  const field = options.field ? ` (${options.field})` : '';
  const hint = suggestions.length > 0 ? `; closest: ${suggestions.map(displayName(index)).join(', ')}` : '';
  throw new UnknownRefError(`${fn}: unknown ref '${input}'${field}${hint}`, input, suggestions);
}

/** `card-api` when that short name resolves to this ref, else the full ref. */
function displayName(index: GraphIndex): (ref: string) => string {
  return (ref) => {
    const name = splitRef(ref).name;
    return index.names.get(name)?.[0] === ref ? name : ref;
  };
}

/** Up to 5 refs whose names are closest (edit distance, then containment) to the unknown one. */
export function closestRefs(
  index: GraphIndex,
  parsed: ParsedRef,
  accept: (ref: string) => boolean = () => true,
): string[] {
  const target = parsed.name;
  const limit = Math.max(2, Math.floor(target.length / 3));
  const scored: { ref: string; score: number }[] = [];
  for (const [name, refs] of index.names) {
    let score = distance(target, name);
    if (
      score > limit &&
      (name.includes(target) || target.includes(name)) &&
      Math.min(name.length, target.length) >= 3
    ) {
      score = limit;
    }
    if (score > limit) continue;
    for (const ref of refs) {
      if (!accept(ref)) continue;
      if (parsed.kind !== undefined && splitRef(ref).kind !== parsed.kind) {
        scored.push({ ref, score: score + 1 });
      } else {
        scored.push({ ref, score });
      }
      break;
    }
  }
  scored.sort((a, b) => a.score - b.score || (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  return scored.slice(0, 5).map((s) => s.ref);
}
