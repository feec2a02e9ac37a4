import { SHORT_NAME_KIND_ORDER } from '@bank/catalog/model/ref.ts';

/** Kinds in the order a short name prefers them when several entities share it: the catalogue's order. */
export const KIND_PREFERENCE = [...SHORT_NAME_KIND_ORDER, 'location'];

export function kindRank(kind: string): number {
  const i = KIND_PREFERENCE.indexOf(kind);
  return i < 0 ? KIND_PREFERENCE.length : i;
}

export interface RefParts {
  kind: string;
  namespace: string;
  name: string;
}

/** Splits a canonical `kind:namespace/name` ref (already checked, lowercase). */
export function splitRef(ref: string): RefParts {
  const colon = ref.indexOf(':');
  const slash = ref.indexOf('/', colon + 1);
  return { kind: ref.slice(0, colon), namespace: ref.slice(colon + 1, slash), name: ref.slice(slash + 1) };
}

export function isCallable(kind: string): boolean {
  return kind === 'component' || kind === 'resource';
}

/** Orders refs for a short name: preferred kind, then the default namespace, then the ref. */
export function compareForShortName(a: string, b: string): number {
  const pa = splitRef(a);
  const pb = splitRef(b);
  return (
    kindRank(pa.kind) - kindRank(pb.kind) ||
    Number(pb.namespace === 'default') - Number(pa.namespace === 'default') ||
    (a < b ? -1 : a > b ? 1 : 0)
  );
}

/** Plain code-unit order: locale-independent, so results are the same on every machine. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
