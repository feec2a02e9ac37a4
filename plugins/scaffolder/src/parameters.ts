/**
 * Parameter validation: parameters are hostile. Before the JSON Schema (ajv) runs, the raw object is
 * checked for prototype keys, NUL bytes, template syntax and size; after it, the pickers' values are
 * looked up in the catalogue (owner → a Group, dependencies → Components/Resources) with the closest
 * names when they are unknown, and the new service's name must be free. Every problem names its field.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { closestRefs, DNS_LABEL, parseRef } from '@bank/catalog';
import { ConflictError, InputError } from '@bank/plugin-kit';
import { Ajv, type ValidateFunction } from 'ajv';
import { FORBIDDEN_KEYS } from './expr/expression.ts';
import { hasTemplateSyntax } from './expr/render.ts';
import { schemaOnly, type Template } from './template.ts';

export interface ParameterProblem {
  field: string;
  message: string;
  suggestions?: string[];
  conflict?: boolean;
}

export class ParameterError extends InputError {
  constructor(readonly problems: ParameterProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('; '), { problems });
  }
}
export class ParameterConflictError extends ConflictError {
  constructor(readonly problems: ParameterProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('; '), { problems });
  }
}

/** What parameter validation needs of the catalogue. */
export interface CatalogLookup {
  readonly refs: ReadonlySet<string>;
}

export interface ParameterContext {
  catalog: CatalogLookup;
  /** Where services are published: `<servicesDir>/<name>` must not exist. */
  servicesDir: string;
}

/** Kubernetes object names are `service-<name>` (a DNS-1035 label, ≤ 63), so the name leaves room for the prefix. */
export const MAX_SERVICE_NAME = 55;
const MAX_STRING = 10_000;
const MAX_ITEMS = 200;
const MAX_DEPTH = 8;

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(page: object): ValidateFunction {
  let v = compiled.get(page);
  if (!v) {
    v = ajv.compile(schemaOnly(page) as object);
    compiled.set(page, v);
  }
  return v;
}

function hostile(v: unknown, field: string, depth: number, out: ParameterProblem[]): void {
  if (depth > MAX_DEPTH) {
    out.push({ field, message: `is nested more than ${MAX_DEPTH} levels deep` });
    return;
  }
  if (typeof v === 'string') {
    if (v.includes('\0')) out.push({ field, message: 'contains a NUL byte' });
    if (v.length > MAX_STRING) out.push({ field, message: `is longer than ${MAX_STRING} characters` });
    const marker = hasTemplateSyntax(v);
    if (marker) {
      out.push({
        field,
        message: `contains template syntax "${marker}"; parameter values are data and are never evaluated, so remove it`,
      });
    }
  } else if (Array.isArray(v)) {
    if (v.length > MAX_ITEMS) out.push({ field, message: `has more than ${MAX_ITEMS} items` });
    v.forEach((x, i) => {
      hostile(x, `${field}[${i}]`, depth + 1, out);
    });
  } else if (v && typeof v === 'object') {
    if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) {
      out.push({ field, message: 'must be plain data' });
      return;
    }
    for (const k of Object.keys(v)) {
      const f = field ? `${field}.${k}` : k;
      if (FORBIDDEN_KEYS.has(k)) out.push({ field: f, message: `"${k}" is not allowed as a key` });
      else hostile((v as Record<string, unknown>)[k], f, depth + 1, out);
    }
  } else if (typeof v === 'number' && !Number.isFinite(v))
    out.push({ field, message: 'must be a finite number' });
}

const pickerOf = (schema: Record<string, unknown>): string | undefined =>
  typeof schema['ui:field'] === 'string' ? (schema['ui:field'] as string) : undefined;

function allowedKinds(schema: Record<string, unknown>, fallback: string[]): string[] {
  const opts = (schema['ui:options'] ?? {}) as Record<string, unknown>;
  const filter = (opts.catalogFilter ?? {}) as Record<string, unknown>;
  const kinds = filter.kind ?? opts.allowedKinds;
  const list = Array.isArray(kinds) ? kinds : typeof kinds === 'string' ? [kinds] : fallback;
  return list.filter((k): k is string => typeof k === 'string').map((k) => k.toLowerCase());
}

/** Resolve what a person typed to a known ref of one of `kinds`. */
export function resolvePicked(
  input: string,
  kinds: string[],
  refs: ReadonlySet<string>,
): { ref?: string; message?: string; suggestions?: string[] } {
  let parsed: { kind: string; namespace: string; name: string };
  try {
    parsed = parseRef(input, { kind: kinds[0] });
  } catch (err) {
    return { message: (err as Error).message };
  }
  const explicit = /^[^/]*:/.test(input.trim());
  const candidates = explicit ? [parsed.kind] : kinds;
  if (explicit && !kinds.includes(parsed.kind)) {
    return { message: `"${input}" is a ${parsed.kind}; expected a ${kinds.join(' or ')}` };
  }
  for (const kind of candidates) {
    const ref = `${kind}:${parsed.namespace}/${parsed.name}`;
    if (refs.has(ref)) return { ref };
  }
  const sameKinds = [...refs].filter((r) => kinds.some((k) => r.startsWith(`${k}:`)));
  const suggestions = closestRefs(parsed.name, sameKinds, 3);
  return {
    message: `"${input}" is not a ${kinds.join(' or ')} in the catalogue${suggestions.length ? `; did you mean ${suggestions.join(', ')}?` : ''}`,
    suggestions,
  };
}

/**
 * Validate raw parameters for a template. Returns the values to render with (defaults filled, picked
 * entities as canonical refs), or throws ParameterError / ParameterConflictError listing every problem.
 */
/**
 * Every parameter a page can set: its properties and those of its `dependencies`, `oneOf`/`anyOf`/`allOf`
 * and `if`/`then`/`else` branches (Backstage's forms show a branch's fields when it applies).
 */
export function pageFields(
  schema: Record<string, unknown>,
  out: Map<string, Record<string, unknown>>,
  depth = 0,
): void {
  if (depth > 20) return;
  const props = schema.properties;
  if (props && typeof props === 'object' && !Array.isArray(props))
    for (const [k, v] of Object.entries(props))
      if (!out.has(k) && v && typeof v === 'object') out.set(k, v as Record<string, unknown>);
  const branch = (b: unknown) => {
    if (b && typeof b === 'object' && !Array.isArray(b))
      pageFields(b as Record<string, unknown>, out, depth + 1);
  };
  for (const key of ['oneOf', 'anyOf', 'allOf'])
    if (Array.isArray(schema[key])) for (const b of schema[key] as unknown[]) branch(b);
  for (const key of ['then', 'else']) branch(schema[key]);
  const deps = schema.dependencies;
  if (deps && typeof deps === 'object') for (const d of Object.values(deps)) branch(d);
}

export function validateParameters(
  template: Template,
  raw: unknown,
  ctx: ParameterContext,
): Record<string, unknown> {
  const problems: ParameterProblem[] = [];
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ParameterError([
      { field: 'parameters', message: 'must be an object of parameter name → value' },
    ]);
  }
  hostile(raw, '', 0, problems);
  if (problems.length) throw new ParameterError(problems);
  const known = new Map<string, Record<string, unknown>>();
  for (const page of template.parameters) pageFields(page as Record<string, unknown>, known);
  for (const k of Object.keys(raw)) {
    if (!known.has(k))
      problems.push({
        field: k,
        message: `is not a parameter of template ${template.name}; it takes ${[...known.keys()].join(', ')}`,
      });
  }
  // A copy made of plain JSON: keys were checked above, so nothing can reach a prototype.
  const values = JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;

  // The new entity's name first: its message is the one people need.
  const nameFields = [...known].filter(([, s]) => pickerOf(s) === 'EntityNamePicker').map(([k]) => k);
  for (const field of nameFields) {
    const v = values[field];
    if (typeof v !== 'string' || v === '') continue;
    const max = Math.min(
      MAX_SERVICE_NAME,
      typeof known.get(field)?.maxLength === 'number' ? (known.get(field)?.maxLength as number) : 63,
    );
    if (!DNS_LABEL.test(v) || v.length > max) {
      problems.push({ field, message: nameProblem(v, max) });
      continue;
    }
    // Services, their APIs, resources and systems share one name space (Kubernetes names, short refs).
    const taken = [...ctx.catalog.refs].filter(
      (r) =>
        /^(component|api|resource|system):/.test(r) &&
        (r.endsWith(`:default/${v}`) || r === `api:default/${v}-rpc`),
    );
    if (taken.length > 0) {
      problems.push({
        field,
        message: `"${v}" already exists in the catalogue (${taken.join(', ')}); choose another name`,
        conflict: true,
      });
    } else if (existsSync(path.join(ctx.servicesDir, v))) {
      problems.push({
        field,
        message: `services/${v} already exists in the repository; choose another name`,
        conflict: true,
      });
    }
  }

  const reported = new Set(problems.map((p) => p.field.split(/[.[]/)[0]));
  for (const page of template.parameters) {
    const validate = validatorFor(page);
    if (!validate(values)) {
      for (const e of validate.errors ?? []) {
        const missing = (e.params as { missingProperty?: string }).missingProperty;
        const extra = (e.params as { additionalProperty?: string }).additionalProperty;
        if (extra) continue; // reported above with the list of parameters
        const field =
          missing ??
          e.instancePath
            .slice(1)
            .replace(/\/(\d+)(?=\/|$)/g, '[$1]')
            .replace(/\//g, '.');
        if (reported.has(field.split(/[.[]/)[0])) continue;
        const schema = known.get(field.split(/[.[]/)[0]) ?? {};
        const hint = typeof schema.description === 'string' ? ` (${schema.description})` : '';
        problems.push({
          field: field || 'parameters',
          message: missing ? `is required${hint}` : `${e.message ?? 'is invalid'}${hint}`,
        });
      }
    }
  }

  // Pickers: look the entities up.
  for (const [field, schema] of known) {
    const v = values[field];
    const picker = pickerOf(schema);
    if (v === undefined || !picker) continue;
    if (picker === 'OwnerPicker' || picker === 'EntityPicker') {
      if (typeof v !== 'string') continue;
      const kinds =
        picker === 'OwnerPicker' ? allowedKinds(schema, ['group']) : allowedKinds(schema, ['component']);
      const r = resolvePicked(v, kinds, ctx.catalog.refs);
      if (r.ref) values[field] = r.ref;
      else problems.push({ field, message: r.message ?? 'unknown', suggestions: r.suggestions });
    } else if (picker === 'MultiEntityPicker') {
      if (!Array.isArray(v)) continue;
      const kinds = allowedKinds(schema, ['component']);
      const out: string[] = [];
      v.forEach((item, i) => {
        if (typeof item !== 'string') return;
        const r = resolvePicked(item, kinds, ctx.catalog.refs);
        if (r.ref) out.push(r.ref);
        else
          problems.push({
            field: `${field}[${i}]`,
            message: r.message ?? 'unknown',
            suggestions: r.suggestions,
          });
      });
      values[field] = [...new Set(out)].sort();
    }
  }
  if (problems.length) {
    if (problems.every((p) => p.conflict)) throw new ParameterConflictError(problems);
    throw new ParameterError(problems);
  }
  return values;
}

/**
 * Coerce `--set k=v` strings to the types the schema asks for: arrays split on commas, numbers, booleans.
 * Repeated keys for an array parameter append.
 */
export function coerceSets(template: Template, sets: string[]): Record<string, unknown> {
  const schemas = new Map<string, Record<string, unknown>>();
  for (const page of template.parameters) pageFields(page as Record<string, unknown>, schemas);
  const out: Record<string, unknown> = {};
  for (const set of sets) {
    const eq = set.indexOf('=');
    if (eq <= 0) throw new InputError(`--set "${set}": expected key=value`);
    const key = set.slice(0, eq).trim();
    const value = set.slice(eq + 1);
    if (FORBIDDEN_KEYS.has(key)) throw new InputError(`--set ${key}: "${key}" is not allowed as a key`);
    const type = schemas.get(key)?.type;
    if (type === 'array') {
      const items = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      out[key] = [...((out[key] as string[] | undefined) ?? []), ...items];
    } else if (type === 'integer' || type === 'number') {
      const n = Number(value);
      out[key] = value.trim() !== '' && Number.isFinite(n) ? n : value;
    } else if (type === 'boolean') {
      out[key] = value === 'true' ? true : value === 'false' ? false : value;
    } else out[key] = value;
  }
  return out;
}

/**
 * Why a service name is refused, naming what is actually wrong (capitals, which characters, a leading or
 * trailing '-', the length) and a name that would do: names are DNS-1123 labels because Kubernetes objects
 * are named "service-<name>" (at most 63 characters).
 */
export function nameProblem(v: string, max: number): string {
  const shown = `"${v.length > 80 ? `${v.slice(0, 80)}…` : v}"`;
  const wrong: string[] = [];
  const capitals = [...new Set(v.match(/[A-Z]/g) ?? [])];
  if (capitals.length) wrong.push(`capital letters (${capitals.slice(0, 5).join(', ')})`);
  const others = [...new Set(v.match(/[^A-Za-z0-9-]/g) ?? [])];
  if (others.length)
    wrong.push(
      `${others
        .slice(0, 5)
        .map((c) => (c === ' ' ? 'spaces' : `'${c}'`))
        .join(', ')}`,
    );
  if (wrong.length === 0 && /^-|-$/.test(v)) wrong.push("a '-' at the start or end");
  const suggestion = v
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  const hint = suggestion && suggestion !== v ? `, e.g. "${suggestion}"` : '';
  if (wrong.length)
    return `${shown} is not a valid name: it has ${wrong.join(' and ')}; use lowercase letters, digits and '-' (a DNS-1123 label, as Kubernetes names need)${hint}`;
  return `${shown} is too long: ${v.length} characters, at most ${max} (its Kubernetes objects are named "service-<name>", at most 63)${hint}`;
}
