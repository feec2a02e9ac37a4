/**
 * The allow-lists of filters and tests. Each is a pure function of plain data; none reads the file
 * system, the environment or a prototype, and none calls anything of the value it is given. Backstage's
 * own filters (parseRepoUrl, parseEntityRef, pick, projectSlug), the Nunjucks built-ins templates use
 * (with Nunjucks' semantics: `default` replaces only undefined unless its second argument is true,
 * `join` joins with "" by default), `json`, and a few for writing code (camelCase, pascalCase, …).
 */
type Filter = (input: unknown, ...args: unknown[]) => unknown;
type Test = (input: unknown, ...args: unknown[]) => boolean;

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
/** The longest string an expression or filter may produce. */
export const MAX_STRING = 1 << 20;
/** The longest list an expression or filter may produce (range, split, list, batch). */
export const MAX_LIST = 10_000;

/** Own data properties of a mapping: a getter is never run, prototype keys never read. */
export function dataEntries(v: object): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const k of Object.keys(v)) {
    if (FORBIDDEN.has(k)) continue;
    const d = Object.getOwnPropertyDescriptor(v, k);
    if (d && 'value' in d) out.push([k, d.value]);
  }
  return out;
}

/** A copy of plain data (primitives, lists, plain mappings' data properties); anything else is null. */
function plainData(v: unknown, depth: number): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint')
    return undefined;
  if (depth > 100) throw new Error('value is nested more than 100 deep');
  if (Array.isArray(v)) return Array.from({ length: v.length }, (_, i) => plainData(dataAt(v, i), depth + 1));
  if (!isMapping(v)) return null;
  const out: Record<string, unknown> = {};
  for (const [k, x] of dataEntries(v)) out[k] = plainData(x, depth + 1);
  return out;
}

function dataAt(v: unknown[], i: number): unknown {
  const d = Object.getOwnPropertyDescriptor(v, i);
  return d && 'value' in d ? d.value : undefined;
}

/** JSON of plain data: no toJSON, getter or other code of the value runs. */
export function toJson(v: unknown, indent?: number | string): string {
  return capped(JSON.stringify(plainData(v, 0), null, indent) ?? 'null');
}

/** Text of a value for filters (Nunjucks' normalize): undefined and null are "". Lists and mappings as JSON. */
const str = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return toJson(v);
};

/** JavaScript's String(v) on plain data, as Nunjucks' `+` and `~` see a value. */
export function jsString(v: unknown, depth = 0): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) {
    if (depth > 20) throw new Error('list is nested too deeply');
    return capped(v.map((x) => (x === undefined || x === null ? '' : jsString(x, depth + 1))).join(','));
  }
  return '[object Object]';
}

function capped(s: string): string {
  if (s.length > MAX_STRING) throw new Error(`produced more than ${MAX_STRING} characters`);
  return s;
}

function cappedList<T>(xs: T[]): T[] {
  if (xs.length > MAX_LIST) throw new Error(`produced more than ${MAX_LIST} items`);
  return xs;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

function own(v: unknown, key: unknown): unknown {
  const k = str(key);
  if (FORBIDDEN.has(k)) throw new Error(`"${k}" is not allowed`);
  if (Array.isArray(v)) return /^\d+$/.test(k) ? v[Number(k)] : undefined;
  if (!isMapping(v)) return undefined;
  const desc = Object.getOwnPropertyDescriptor(v, k);
  return desc && 'value' in desc ? desc.value : undefined;
}

/** A dotted path of own properties (`pick("spec.owner")`, `sort(false, false, "name")`). */
function ownPath(v: unknown, path: unknown): unknown {
  let cur = v;
  for (const part of str(path).split('.')) cur = own(cur, part);
  return cur;
}

function words(v: unknown): string[] {
  return str(v)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

const num = (v: unknown): number =>
  typeof v === 'number' ? v : v === null || v === undefined || v === '' ? Number.NaN : Number(str(v));

function parseEntityRef(input: unknown, defaults?: unknown): Record<string, string> {
  const ref = str(input).trim();
  const d = isMapping(defaults) ? defaults : {};
  const m = /^(?:([^:/]+):)?(?:([^:/]+)\/)?([^:/]+)$/.exec(ref);
  if (!m) throw new Error(`"${ref}" is not an entity ref like "kind:namespace/name"`);
  const kind = m[1] ?? (typeof d.defaultKind === 'string' ? d.defaultKind : undefined);
  const namespace = m[2] ?? (typeof d.defaultNamespace === 'string' ? d.defaultNamespace : 'default');
  const out: Record<string, string> = { namespace: namespace.toLowerCase(), name: m[3].toLowerCase() };
  if (kind) out.kind = kind.toLowerCase();
  return out;
}

function parseRepoUrl(input: unknown): Record<string, string> {
  const s = str(input);
  const q = s.indexOf('?');
  if (q <= 0) throw new Error(`"${s}" is not like "github.com?owner=o&repo=r"`);
  const params = new URLSearchParams(s.slice(q + 1));
  const out: Record<string, string> = { host: s.slice(0, q) };
  for (const key of ['owner', 'repo', 'organization', 'workspace', 'project']) {
    const v = params.get(key);
    if (v !== null) out[key] = v;
  }
  return out;
}

function replace(v: unknown, from: unknown, to: unknown, maxCount?: unknown): string {
  const s = str(v);
  const f = str(from);
  const t = str(to);
  const max = maxCount === undefined || maxCount === null ? Number.POSITIVE_INFINITY : num(maxCount);
  if (f === '') {
    // Nunjucks inserts the replacement between every character (and at both ends).
    if (s.length * (t.length + 1) > MAX_STRING)
      throw new Error(`would produce more than ${MAX_STRING} characters`);
    return `${t}${[...s].join(t)}${t}`;
  }
  let out = '';
  let at = 0;
  let n = 0;
  for (let i = s.indexOf(f); i !== -1 && n < max; i = s.indexOf(f, at)) {
    out += s.slice(at, i) + t;
    at = i + f.length;
    n++;
    if (out.length > MAX_STRING) throw new Error(`produced more than ${MAX_STRING} characters`);
  }
  return capped(out + s.slice(at));
}

function compareValues(a: unknown, b: unknown, caseSensitive: boolean): number {
  let x = a;
  let y = b;
  if (!caseSensitive) {
    if (typeof x === 'string') x = x.toLowerCase();
    if (typeof y === 'string') y = y.toLowerCase();
  }
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  const sx = str(x);
  const sy = str(y);
  return sx < sy ? -1 : sx > sy ? 1 : 0;
}

const escapeHtml = (v: unknown): string =>
  capped(
    str(v)
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;'),
  );

function round(v: unknown, precision?: unknown, method?: unknown): number {
  const p = precision === undefined ? 0 : num(precision);
  const f = 10 ** p;
  const m = str(method);
  const fn = m === 'ceil' ? Math.ceil : m === 'floor' ? Math.floor : Math.round;
  return fn(num(v) * f) / f;
}

function dump(v: unknown, spaces?: unknown): string {
  const indent =
    typeof spaces === 'number'
      ? Math.min(10, Math.max(0, spaces))
      : typeof spaces === 'string'
        ? spaces.slice(0, 10)
        : undefined;
  return toJson(v === undefined ? null : v, indent);
}

export const TESTS = new Map<string, Test>([
  ['defined', (v) => v !== undefined],
  ['undefined', (v) => v === undefined],
  ['none', (v) => v === null],
  ['null', (v) => v === null],
  ['number', (v) => typeof v === 'number'],
  ['string', (v) => typeof v === 'string'],
  ['boolean', (v) => typeof v === 'boolean'],
  ['true', (v) => v === true],
  ['false', (v) => v === false],
  ['truthy', (v) => !!v],
  ['falsy', (v) => !v],
  ['odd', (v) => num(v) % 2 === 1 || num(v) % 2 === -1],
  ['even', (v) => num(v) % 2 === 0],
  ['divisibleby', (v, n) => num(v) % num(n) === 0],
  ['equalto', (v, o) => v === o],
  ['eq', (v, o) => v === o],
  ['sameas', (v, o) => v === o],
  ['ne', (v, o) => v !== o],
  ['lt', (v, o) => num(v) < num(o)],
  ['gt', (v, o) => num(v) > num(o)],
  ['le', (v, o) => num(v) <= num(o)],
  ['ge', (v, o) => num(v) >= num(o)],
  ['lower', (v) => typeof v === 'string' && v.toLowerCase() === v],
  ['upper', (v) => typeof v === 'string' && v.toUpperCase() === v],
  ['iterable', (v) => Array.isArray(v) || typeof v === 'string'],
  ['mapping', (v) => isMapping(v)],
  ['callable', () => false],
]);

function selectBy(
  keep: boolean,
  list: unknown,
  getter: (x: unknown) => unknown,
  test?: unknown,
  arg?: unknown,
) {
  if (!Array.isArray(list)) return [];
  let t: Test = (v) => !!v;
  if (test !== undefined) {
    const found = TESTS.get(str(test));
    if (!found) throw new Error(`unknown test "${str(test)}"`);
    t = found;
  }
  return list.filter((x) => t(getter(x), arg) === keep);
}

export const FILTERS = new Map<string, Filter>([
  ['lower', (v) => str(v).toLowerCase()],
  ['upper', (v) => str(v).toUpperCase()],
  ['trim', (v) => str(v).trim()],
  ['capitalize', (v) => cap(str(v).toLowerCase())],
  [
    'title',
    (v) =>
      str(v)
        .split(' ')
        .map((w) => cap(w.toLowerCase()))
        .join(' '),
  ],
  ['string', (v) => str(v)],
  ['safe', (v) => v],
  ['escape', escapeHtml],
  ['e', escapeHtml],
  ['replace', (v, from, to, max) => replace(v, from, to, max)],
  // Nunjucks: only undefined takes the default, unless the second argument is true (then any falsy value).
  ['default', (v, d, bool) => (bool === true ? v || d : v !== undefined ? v : d)],
  ['d', (v, d, bool) => (bool === true ? v || d : v !== undefined ? v : d)],
  [
    'join',
    (v, sep, attr) =>
      Array.isArray(v)
        ? capped(
            v
              .map((x) => str(attr === undefined ? x : ownPath(x, attr)))
              .join(sep === undefined ? '' : str(sep)),
          )
        : str(v),
  ],
  ['dump', dump],
  ['json', dump],
  [
    'length',
    (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : isMapping(v) ? dataEntries(v).length : 0),
  ],
  ['first', (v) => (Array.isArray(v) ? v[0] : typeof v === 'string' ? v.charAt(0) : undefined)],
  [
    'last',
    (v) => (Array.isArray(v) ? v[v.length - 1] : typeof v === 'string' ? v.charAt(v.length - 1) : undefined),
  ],
  [
    'int',
    (v, d) => {
      const n = Number.parseInt(str(v), 10);
      return Number.isNaN(n) ? (d === undefined ? 0 : d) : n;
    },
  ],
  [
    'float',
    (v, d) => {
      const n = Number.parseFloat(str(v));
      return Number.isNaN(n) ? (d === undefined ? 0 : d) : n;
    },
  ],
  ['abs', (v) => Math.abs(num(v))],
  ['round', (v, p, m) => round(v, p, m)],
  [
    'list',
    (v) =>
      typeof v === 'string'
        ? cappedList([...v])
        : Array.isArray(v)
          ? v
          : isMapping(v)
            ? dataEntries(v).map(([key, value]) => ({ key, value }))
            : [],
  ],
  [
    'reverse',
    (v) => (typeof v === 'string' ? [...v].reverse().join('') : Array.isArray(v) ? [...v].reverse() : v),
  ],
  [
    'sort',
    (v, reverse, caseSensitive, attr) => {
      if (!Array.isArray(v)) return v;
      const key = (x: unknown) => (attr === undefined ? x : ownPath(x, attr));
      const out = [...v].sort((a, b) => compareValues(key(a), key(b), caseSensitive === true));
      return reverse === true ? out.reverse() : out;
    },
  ],
  ['unique', (v) => (Array.isArray(v) ? [...new Set(v)] : v)],
  [
    'sum',
    (v, attr, start) =>
      Array.isArray(v)
        ? v.reduce<number>(
            (acc, x) => acc + num(attr === undefined || attr === null ? x : ownPath(x, attr)),
            start === undefined ? 0 : num(start),
          )
        : 0,
  ],
  [
    'indent',
    (v, width, first) => {
      const pad =
        typeof width === 'string'
          ? width
          : ' '.repeat(Math.min(100, Math.max(0, width === undefined ? 4 : num(width))));
      const lines = str(v).split('\n');
      return capped(lines.map((l, i) => (i === 0 && first !== true ? l : l ? pad + l : l)).join('\n'));
    },
  ],
  [
    'truncate',
    (v, length, killwords, end) => {
      const s = str(v);
      const n = length === undefined ? 255 : num(length);
      if (s.length <= n) return s;
      const tail = end === undefined ? '...' : str(end);
      if (killwords === true) return s.slice(0, n) + tail;
      const space = s.lastIndexOf(' ', n);
      return s.slice(0, space === -1 ? n : space) + tail;
    },
  ],
  [
    'urlencode',
    (v) =>
      capped(
        isMapping(v)
          ? new URLSearchParams(dataEntries(v).map(([k, x]) => [k, str(x)])).toString()
          : encodeURIComponent(str(v)),
      ),
  ],
  ['wordcount', (v) => str(v).split(/\s+/).filter(Boolean).length],
  ['select', (v, test, arg) => selectBy(true, v, (x) => x, test, arg)],
  ['reject', (v, test, arg) => selectBy(false, v, (x) => x, test, arg)],
  ['selectattr', (v, attr, test, arg) => selectBy(true, v, (x) => ownPath(x, attr), test, arg)],
  ['rejectattr', (v, attr, test, arg) => selectBy(false, v, (x) => ownPath(x, attr), test, arg)],
  [
    'batch',
    (v, size, fill) => {
      if (!Array.isArray(v)) return [];
      const n = Math.max(1, Math.trunc(num(size)) || 1);
      const out: unknown[][] = [];
      for (let i = 0; i < v.length; i += n) {
        const row = v.slice(i, i + n);
        if (fill !== undefined) while (row.length < n) row.push(fill);
        out.push(row);
      }
      return out;
    },
  ],
  ['pick', (v, key) => ownPath(v, key)],
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
