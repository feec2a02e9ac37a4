import { type CompoundRef, parseRef, toRef } from '@bank/catalog/model';

/**
 * The portal's URLs and labels for refs. Refs are parsed by the catalogue's rules (catalog/src/model/ref.ts);
 * a name without a kind is a Component's.
 */
function partsOf(ref: string): CompoundRef | undefined {
  try {
    return parseRef(ref, { kind: 'component' });
  } catch {
    return undefined;
  }
}

/** The entity page of a ref; a malformed one (from a hand-edited URL) searches the catalogue for it instead. */
export function entityHref(ref: string): string {
  const parts = partsOf(ref);
  if (!parts) return `/catalogue?q=${encodeURIComponent(ref)}`;
  const { kind, namespace, name } = parts;
  return `/entity/${encodeURIComponent(kind)}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

/**
 * The ref a URL parameter names (`ledger`, `group:ledger`, a full ref), of `kind` when it names none; a
 * malformed one as it is (it matches nothing).
 */
export function refFromParam(input: string, kind: string): string {
  try {
    return toRef(input, { kind });
  } catch {
    return input;
  }
}

/** A label: `component:default/ledger` → `ledger`; other namespaces stay visible (`ops/ledger`). */
export function shortName(ref: string | null | undefined): string {
  if (!ref) return '';
  const parts = partsOf(ref);
  if (!parts) return ref;
  return parts.namespace === 'default' ? parts.name : `${parts.namespace}/${parts.name}`;
}
