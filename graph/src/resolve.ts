import { RefError, splitRefInput } from '@bank/catalog/model/ref.ts';
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

/**
 * Parses `name`, `namespace/name`, `kind:name` or `kind:namespace/name` (case-insensitive), with the
 * catalogue's ref rules (splitRefInput), and each part limited to the characters entity names may have.
 */
export function parseRef(input: string, fn = 'resolve'): ParsedRef {
  const fail = (): never => {
    throw new MalformedRefError(`${fn}: malformed ref ${JSON.stringify(input)}: expected ${EXPECTED}`, {
      ref: input,
    });
  };
  let parts: ParsedRef;
  try {
    parts = splitRefInput(input);
  } catch (err) {
    if (err instanceof RefError) return fail();
    throw err;
  }
  for (const part of [parts.kind, parts.namespace, parts.name])
    if (part !== undefined && !PART.test(part)) fail();
  return parts;
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
    if (index.node(ref) !== undefined && accept(ref)) return ref;
  } else {
    for (const ref of index.refsNamed(parsed.name)) {
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
    return index.refsNamed(name)[0] === ref ? name : ref;
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
