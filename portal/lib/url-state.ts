/**
 * Every view keeps its state in the URL, so any view can be shared. A schema lists each parameter with
 * its default; defaults are left out of the URL, lists are comma-separated, and unknown or malformed
 * values fall back to the default instead of breaking the page.
 */
export type ParamSpec =
  | { type: 'string'; default: string }
  | { type: 'int'; default: number; min: number; max: number }
  | { type: 'list'; default: string[] }
  | { type: 'enum'; default: string; values: readonly string[] }
  | { type: 'bool'; default: boolean };

export type Schema = Record<string, ParamSpec>;

export type StateOf<S extends Schema> = {
  [K in keyof S]: S[K] extends { type: 'int' }
    ? number
    : S[K] extends { type: 'list' }
      ? string[]
      : S[K] extends { type: 'bool' }
        ? boolean
        : string;
};

type Input = URLSearchParams | Record<string, string | string[] | undefined>;

function getRaw(input: Input, key: string): string | undefined {
  if (input instanceof URLSearchParams) return input.get(key) ?? undefined;
  const v = input[key];
  return Array.isArray(v) ? v[0] : v;
}

export function readState<S extends Schema>(schema: S, input: Input): StateOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const raw = getRaw(input, key);
    switch (spec.type) {
      case 'string':
        out[key] = raw?.trim().slice(0, 200) || spec.default;
        break;
      case 'int': {
        const n = raw !== undefined && /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
        out[key] = Number.isInteger(n) && n >= spec.min && n <= spec.max ? n : spec.default;
        break;
      }
      case 'list':
        out[key] =
          raw === undefined
            ? [...spec.default]
            : [
                ...new Set(
                  raw
                    .split(',')
                    .map((s) => s.trim())
                    .filter(Boolean),
                ),
              ].slice(0, 50);
        break;
      case 'enum':
        out[key] = raw !== undefined && spec.values.includes(raw) ? raw : spec.default;
        break;
      case 'bool':
        out[key] = raw === undefined ? spec.default : raw === '1' || raw === 'true';
        break;
    }
  }
  return out as StateOf<S>;
}

/** The query string for `state` (with a leading `?`, or '' when everything is default). */
export function writeState<S extends Schema>(schema: S, state: Partial<StateOf<S>>): string {
  const params = new URLSearchParams();
  for (const [key, spec] of Object.entries(schema)) {
    const value = (state as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (spec.type === 'list') {
      const list = value as string[];
      if (list.length === 0 && spec.default.length === 0) continue;
      if (list.join(',') === spec.default.join(',')) continue;
      params.set(key, list.join(','));
    } else if (spec.type === 'bool') {
      if (value !== spec.default) params.set(key, value ? '1' : '0');
    } else if (value !== spec.default && value !== '') {
      params.set(key, String(value));
    }
  }
  const s = params.toString().replace(/%2C/gi, ',');
  return s ? `?${s}` : '';
}

export const CATALOGUE_SCHEMA = {
  kind: { type: 'list', default: ['component'] },
  type: { type: 'list', default: [] },
  owner: { type: 'list', default: [] },
  collective: { type: 'list', default: [] },
  system: { type: 'list', default: [] },
  tier: { type: 'list', default: [] },
  lifecycle: { type: 'list', default: [] },
  level: { type: 'list', default: [] },
  q: { type: 'string', default: '' },
  sort: {
    type: 'enum',
    default: 'name',
    values: ['name', 'kind', 'type', 'owner', 'collective', 'system', 'tier', 'lifecycle'],
  },
  dir: { type: 'enum', default: 'asc', values: ['asc', 'desc'] },
  page: { type: 'int', default: 1, min: 1, max: 100000 },
  /** Only services deployed in the last 24 h ('' = no filter), optionally to one environment. */
  changed: { type: 'enum', default: '', values: ['', '24h'] },
  changedEnv: { type: 'string', default: '' },
} as const satisfies Schema;

export const GRAPH_SCHEMA = {
  focus: { type: 'string', default: '' },
  depth: { type: 'int', default: 1, min: 1, max: 4 },
  group: { type: 'enum', default: 'collective', values: ['collective', 'system'] },
  tier: { type: 'list', default: [] },
  team: { type: 'string', default: '' },
  edges: { type: 'enum', default: 'any', values: ['any', 'declared', 'observed'] },
  resources: { type: 'bool', default: false },
  selected: { type: 'string', default: '' },
} as const satisfies Schema;

/** The change windows people pick from (path tracer, change timeline). */
export const CHANGE_WINDOWS = ['1h', '2h', '6h', '24h', '7d', '30d'] as const;

export const PATHS_SCHEMA = {
  from: { type: 'string', default: '' },
  to: { type: 'string', default: '' },
  k: { type: 'int', default: 5, min: 1, max: 20 },
  maxHops: { type: 'int', default: 8, min: 1, max: 15 },
  path: { type: 'int', default: 1, min: 1, max: 20 },
  /** The window in which a hop counts as changed (a deploy started in it). */
  since: { type: 'enum', default: '24h', values: CHANGE_WINDOWS },
  /** Which call edges the paths may use: declared (descriptors), observed (traces) or any. */
  via: { type: 'enum', default: 'any', values: ['any', 'declared', 'observed'] },
} as const satisfies Schema;

/** /changes: what changed on a path, a team, a collective, a blast radius or one service. */
export const CHANGES_SCHEMA = {
  from: { type: 'string', default: '' },
  to: { type: 'string', default: '' },
  team: { type: 'string', default: '' },
  collective: { type: 'string', default: '' },
  impact: { type: 'string', default: '' },
  service: { type: 'string', default: '' },
  since: { type: 'enum', default: '24h', values: CHANGE_WINDOWS },
} as const satisfies Schema;

export const IMPACT_SCHEMA = {
  ref: { type: 'string', default: '' },
  depth: { type: 'int', default: 0, min: 0, max: 50 },
  /** Which call edges count: declared (descriptors), observed (traces) or any. */
  via: { type: 'enum', default: 'any', values: ['any', 'declared', 'observed'] },
} as const satisfies Schema;

export const ORG_SCHEMA = {
  squad: { type: 'string', default: '' },
  collective: { type: 'string', default: '' },
  matrix: { type: 'enum', default: 'collective', values: ['collective', 'squad'] },
} as const satisfies Schema;
