/**
 * The allow-list of filters. Each is a pure function of plain data; none reads the file system, the
 * environment or a prototype. Backstage's own (parseRepoUrl, parseEntityRef, pick, projectSlug), the
 * Nunjucks built-ins templates use most, and a few for writing code (camelCase, pascalCase, constantCase).
 */
type Filter = (input: unknown, ...args: unknown[]) => unknown;

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_STRING = 1 << 20;

const str = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
};

function words(v: unknown): string[] {
  return str(v)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

function checkedLength(s: string): string {
  if (s.length > MAX_STRING) throw new Error(`a filter produced more than ${MAX_STRING} characters`);
  return s;
}

function parseEntityRef(input: unknown, defaults?: unknown): Record<string, string> {
  const ref = str(input).trim();
  const d = (defaults && typeof defaults === 'object' ? defaults : {}) as Record<string, unknown>;
  const m = /^(?:([^:/]+):)?(?:([^:/]+)\/)?([^:/]+)$/.exec(ref);
  if (!m) throw new Error(`parseEntityRef: "${ref}" is not an entity ref like "kind:namespace/name"`);
  const kind = m[1] ?? (typeof d.defaultKind === 'string' ? d.defaultKind : undefined);
  const namespace = m[2] ?? (typeof d.defaultNamespace === 'string' ? d.defaultNamespace : 'default');
  const out: Record<string, string> = { namespace: namespace.toLowerCase(), name: m[3].toLowerCase() };
  if (kind) out.kind = kind.toLowerCase();
  return out;
}

function parseRepoUrl(input: unknown): Record<string, string> {
  const s = str(input);
  const q = s.indexOf('?');
  if (q <= 0) throw new Error(`parseRepoUrl: "${s}" is not like "github.com?owner=o&repo=r"`);
  const params = new URLSearchParams(s.slice(q + 1));
  const out: Record<string, string> = { host: s.slice(0, q) };
  for (const key of ['owner', 'repo', 'organization', 'workspace', 'project']) {
    const v = params.get(key);
    if (v !== null) out[key] = v;
  }
  return out;
}

export const FILTERS = new Map<string, Filter>([
  ['lower', (v) => str(v).toLowerCase()],
  ['upper', (v) => str(v).toUpperCase()],
  ['trim', (v) => str(v).trim()],
  ['capitalize', (v) => cap(str(v).toLowerCase())],
  ['string', (v) => str(v)],
  ['replace', (v, from, to) => checkedLength(str(v).split(str(from)).join(str(to)))],
  ['default', (v, d) => (v === undefined || v === null || v === '' ? d : v)],
  [
    'join',
    (v, sep) =>
      Array.isArray(v) ? checkedLength(v.map(str).join(sep === undefined ? ',' : str(sep))) : str(v),
  ],
  ['dump', (v) => checkedLength(JSON.stringify(v === undefined ? null : v))],
  [
    'length',
    (v) =>
      Array.isArray(v) || typeof v === 'string'
        ? v.length
        : v && typeof v === 'object'
          ? Object.keys(v).length
          : 0,
  ],
  ['first', (v) => (Array.isArray(v) ? v[0] : typeof v === 'string' ? v.charAt(0) : undefined)],
  [
    'last',
    (v) => (Array.isArray(v) ? v[v.length - 1] : typeof v === 'string' ? v.charAt(v.length - 1) : undefined),
  ],
  [
    'sort',
    (v) => (Array.isArray(v) ? [...v].sort((a, b) => (str(a) < str(b) ? -1 : str(a) > str(b) ? 1 : 0)) : v),
  ],
  ['unique', (v) => (Array.isArray(v) ? [...new Set(v)] : v)],
  [
    'pick',
    (v, key) => {
      const k = str(key);
      if (FORBIDDEN.has(k)) throw new Error(`pick: "${k}" is not allowed`);
      if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
      const desc = Object.getOwnPropertyDescriptor(v, k);
      return desc && 'value' in desc ? desc.value : undefined;
    },
  ],
  ['parseEntityRef', (v, d) => parseEntityRef(v, d)],
  ['parseRepoUrl', (v) => parseRepoUrl(v)],
  [
    'projectSlug',
    (v) => {
      const r = parseRepoUrl(v);
      return `${r.owner ?? r.organization ?? r.workspace ?? ''}/${r.repo ?? ''}`;
    },
  ],
  [
    'camelCase',
    (v) =>
      words(v)
        .map((w, i) => (i === 0 ? w : cap(w)))
        .join(''),
  ],
  ['pascalCase', (v) => words(v).map(cap).join('')],
  ['snakeCase', (v) => words(v).join('_')],
  ['constantCase', (v) => words(v).join('_').toUpperCase()],
  ['kebabCase', (v) => words(v).join('-')],
]);
