import { RefError, type RefLookup, resolveRef as resolveName, shortRefIn } from '@bank/catalog/model';
import { MalformedRefError, UnknownRefError } from './errors.ts';
import type { GraphIndex } from './graph-index.ts';

const EXPECTED = "a name like 'card-api' or a ref like 'component:default/card-api'";

export interface ResolveOptions {
  /** Function name for messages, e.g. 'paths'. */
  fn?: string;
  /** Which argument this is, e.g. 'from'. */
  field?: string;
  /** Only refs this predicate accepts count (e.g. callable nodes for paths). */
  accept?: (ref: string) => boolean;
}

/** The index as the catalogue's ref resolver asks it: its nodes and its short-name table. */
export function refLookupOf(index: GraphIndex): RefLookup {
  return {
    has: (ref) => index.node(ref) !== undefined,
    named: (name) => index.refsNamed(name),
    names: () => index.names,
  };
}

/**
 * Resolves a short name or ref to a canonical ref in the index, by the catalogue's rules
 * (catalog/src/model/ref.ts resolveRef), with the graph's errors: {@link MalformedRefError} for a bad form,
 * {@link UnknownRefError} with the closest known refs for a name that is not in the index.
 */
export function resolveRef(index: GraphIndex, input: string, options: ResolveOptions = {}): string {
  const fn = options.fn ?? 'resolve';
  const lookup = refLookupOf(index);
  try {
    return resolveName(input, lookup, { accept: options.accept });
  } catch (err) {
    if (!(err instanceof RefError)) throw err;
    if (err.problem === 'malformed')
      throw new MalformedRefError(`${fn}: malformed ref ${JSON.stringify(input)}: expected ${EXPECTED}`, {
        ref: input,
      });
    const field = options.field ? ` (${options.field})` : '';
    const hint = err.suggestions.length
      ? `; closest: ${err.suggestions.map(shortRefIn(lookup)).join(', ')}`
      : '';
    throw new UnknownRefError(`${fn}: unknown ref '${input}'${field}${hint}`, input, err.suggestions);
  }
}
