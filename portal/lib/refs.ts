/** Refs (`kind:namespace/name`) and the portal's URLs for them. */
export interface ParsedRef {
  kind: string;
  namespace: string;
  name: string;
}

export function parseRef(ref: string): ParsedRef {
  const colon = ref.indexOf(':');
  const kind = colon > 0 ? ref.slice(0, colon) : 'component';
  const rest = colon > 0 ? ref.slice(colon + 1) : ref;
  const slash = rest.indexOf('/');
  return slash >= 0
    ? { kind, namespace: rest.slice(0, slash), name: rest.slice(slash + 1) }
    : { kind, namespace: 'default', name: rest };
}

export function entityHref(ref: string): string {
  const { kind, namespace, name } = parseRef(ref);
  return `/entity/${encodeURIComponent(kind.toLowerCase())}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

/** `component:default/ledger` → `ledger`; other namespaces stay visible. */
export function shortName(ref: string | null | undefined): string {
  if (!ref) return '';
  const { namespace, name } = parseRef(ref);
  return namespace === 'default' ? name : `${namespace}/${name}`;
}

export function kindOf(ref: string): string {
  return parseRef(ref).kind.toLowerCase();
}
