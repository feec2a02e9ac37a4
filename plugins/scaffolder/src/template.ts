/**
 * Loading and validating templates (Backstage `scaffolder.backstage.io/v1beta3`, kind Template). A
 * malformed template.yaml gets an error that names the field and the line; a template is semi-trusted
 * text, so every expression in it is parsed up front and every path in it is checked for shape.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError, NotFoundError } from '@bank/plugin-kit';
import { Ajv } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { FORBIDDEN_KEYS } from './expr/expression.ts';
import { checkExpressions } from './expr/render.ts';
import { isInside, PathError, safeRelative } from './paths.ts';

export const TEMPLATE_API_VERSION = 'scaffolder.backstage.io/v1beta3';
/** Template version, recorded on every service made from it (bank.io/template-version). */
export const VERSION_ANNOTATION = 'bank.io/template-version';
const MAX_TEMPLATE_BYTES = 256 * 1024;

export type JsonSchema = Record<string, unknown>;

export interface ParameterPage extends JsonSchema {
  title?: string;
  description?: string;
  required?: string[];
  properties: Record<string, JsonSchema>;
}

export interface TemplateStep {
  id: string;
  name: string;
  action: string;
  input: Record<string, unknown>;
  if?: unknown;
  each?: unknown;
}

export interface TemplateOutput {
  links?: { url?: string; entityRef?: string; title?: string; icon?: string; if?: unknown }[];
  text?: { title?: string; content?: string; if?: unknown }[];
}

/** A step whose action is not registered here, with where it is used. */
export interface MissingAction {
  action: string;
  stepId: string;
  /** `spec.steps[2].action` */
  field: string;
  line?: number;
  /** The closest registered action, when the name looks like a typo of it. */
  didYouMean?: string;
}

export interface Template {
  /** metadata.name (Backstage's identity of a template; it need not equal the directory's name). */
  name: string;
  /** The directory under templates/ it was loaded from. */
  dirName: string;
  /** `templates/<dir>/template.yaml`, as errors show it. */
  shownFile: string;
  title: string;
  description: string;
  version: string;
  type: string;
  tags: string[];
  owner?: string;
  /** Directory of the template (real path). */
  dir: string;
  /** template.yaml (real path). */
  file: string;
  parameters: ParameterPage[];
  steps: TemplateStep[];
  output: TemplateOutput;
  /**
   * Every step whose action is not registered here. The template still loads and dry-runs (those
   * steps are skipped and say so); a real run refuses before anything happens, naming them all.
   */
  missingActions: MissingAction[];
}

/** The refusal of a real run of a template with missing actions: every one, with its step and line. */
export function missingActionsError(t: Template): TemplateError | undefined {
  const [first, ...rest] = t.missingActions;
  if (!first) return undefined;
  const one = (m: MissingAction) =>
    `unknown action "${m.action}" in step "${m.stepId}"${m.didYouMean ? ` (did you mean "${m.didYouMean}"?)` : ''}`;
  const more = rest.map((m) => `; ${m.field}${m.line ? ` (line ${m.line})` : ''}: ${one(m)}`).join('');
  return new TemplateError(
    t.shownFile,
    first.field,
    first.line,
    `${one(first)}${more}. ${t.missingActions.length === 1 ? 'It is' : 'They are'} not available here (see GET /api/scaffolder/actions); a dry-run skips ${t.missingActions.length === 1 ? 'it' : 'them'}`,
  );
}

/** Backstage's metadata.name: 1–63 characters, letters, digits and - _ . between alphanumerics. */
const ENTITY_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

/** A problem in a template file: the field (`spec.steps[1].action`), the file and line. */
export class TemplateError extends InputError {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly line: number | undefined,
    problem: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${field ? `${field}: ` : ''}${problem}`, { field, file, line });
  }
}

const fieldOf = (p: (string | number)[]): string =>
  p.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k), '');

/** Strip `ui:*` hints (and the `when` page condition) before handing a schema to ajv. */
export function schemaOnly(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(schemaOnly);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith('ui:') || k === 'when') continue;
    out[k] = schemaOnly(v);
  }
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const cache = new Map<string, { stamp: string; template: Template }>();

/** The templates under `dir` (each `<name>/template.yaml`), and the errors of those that do not load. */
export function loadTemplates(
  dir: string,
  knownActions: ReadonlySet<string>,
): { templates: Template[]; errors: TemplateError[] } {
  const templates: Template[] = [];
  const errors: TemplateError[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() || e.isSymbolicLink())
      .map((e) => e.name)
      .sort();
  } catch {
    return { templates, errors };
  }
  for (const name of names) {
    try {
      statSync(path.join(dir, name, 'template.yaml'));
    } catch {
      continue;
    }
    try {
      templates.push(loadTemplate(dir, name, knownActions));
    } catch (err) {
      if (err instanceof TemplateError) errors.push(err);
      else errors.push(new TemplateError(`${name}/template.yaml`, '', undefined, (err as Error).message));
    }
  }
  return { templates, errors };
}

/**
 * Load one template by name: the directory `<dir>/<name>`, else the template whose metadata.name is
 * `name` (Backstage names templates by metadata.name). The template must live inside `dir`.
 */
export function loadTemplate(dir: string, name: string, knownActions: ReadonlySet<string>): Template {
  if (typeof name !== 'string' || !ENTITY_NAME.test(name) || name.length > 63) {
    throw new PathError(
      `template: "${String(name).slice(0, 80)}" is not a template name (letters, digits and '-', '_', '.'; no paths)`,
    );
  }
  const root = realpathSync(dir);
  const tdir = path.join(root, name);
  let real: string;
  try {
    real = realpathSync(tdir);
    statSync(path.join(real, 'template.yaml'));
  } catch {
    const byName = loadTemplates(dir, knownActions).templates.find((t) => t.name === name);
    if (byName) return byName;
    const known = loadTemplateNames(root);
    throw new NotFoundError(
      `template: no template named "${name}"${known.length ? `; known: ${known.join(', ')}` : ''}`,
      {
        suggestions: known,
      },
    );
  }
  if (!isInside(root, real) || real === root)
    throw new PathError(`template: "${name}" resolves outside ${dir}`);
  const file = path.join(real, 'template.yaml');
  const shown = `templates/${name}/template.yaml`;
  let text: string;
  let stamp: string;
  try {
    const st = statSync(file);
    if (st.size > MAX_TEMPLATE_BYTES) {
      throw new TemplateError(shown, '', undefined, `larger than ${MAX_TEMPLATE_BYTES} bytes`);
    }
    // Parsed templates are kept while the file is unchanged (same size, mtime and known actions).
    stamp = `${st.size}:${st.mtimeMs}:${[...knownActions].sort().join(',')}`;
    const hit = cache.get(file);
    if (hit && hit.stamp === stamp) return hit.template;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof TemplateError) throw err;
    throw new TemplateError(shown, '', undefined, `cannot read: ${(err as Error).message}`);
  }
  const template = parseTemplate(text, shown, real, path.basename(tdir), knownActions);
  cache.set(file, { stamp, template });
  return template;
}

function loadTemplateNames(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** A field of template.yaml as a path from the root: `['spec', 'steps', 2, 'action']`. */
type FieldPath = (string | number)[];
/** Throws the TemplateError naming the field at a path, with its line. */
type Fail = (p: FieldPath, problem: string) => never;

/** Parse and validate template.yaml text. `dir` is the template's directory (for path checks). */
export function parseTemplate(
  text: string,
  shown: string,
  dir: string,
  dirName: string,
  knownActions: ReadonlySet<string>,
): Template {
  const { raw, fail, lineOf } = readYaml(text, shown);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    fail([], 'must be a mapping with apiVersion, kind, metadata and spec');
  const t = raw as Record<string, unknown>;
  forbidKeys(t, [], fail);
  const { m, version } = checkHead(t, fail);
  const spec = t.spec as Record<string, unknown> | undefined;
  if (!spec || typeof spec !== 'object' || Array.isArray(spec))
    fail(['spec'], 'is required (type, parameters, steps)');
  const s = spec as Record<string, unknown>;
  if (typeof s.type !== 'string' || s.type.trim() === '') fail(['spec', 'type'], 'is required, e.g. service');
  // In this order: the first problem in the file's order is the one reported.
  const parameters = parseParameterPages(s.parameters, fail);
  const { steps, missingActions } = parseSteps(s.steps, dir, knownActions, fail, lineOf);
  const output = parseOutput(s.output, fail);
  return {
    name: m.name as string,
    dirName,
    shownFile: shown,
    title: typeof m.title === 'string' ? m.title : (m.name as string),
    description: typeof m.description === 'string' ? m.description : '',
    version,
    type: s.type as string,
    tags: Array.isArray(m.tags)
      ? (m.tags as unknown[]).filter((x): x is string => typeof x === 'string')
      : [],
    owner: typeof s.owner === 'string' ? s.owner : undefined,
    dir,
    file: path.join(dir, 'template.yaml'),
    parameters,
    steps,
    output,
    missingActions,
  };
}

/** The YAML as plain data, and how to name a field's line in errors (the nearest node that has one). */
function readYaml(
  text: string,
  shown: string,
): { raw: unknown; fail: Fail; lineOf: (p: FieldPath) => number | undefined } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, merge: false, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line;
    throw new TemplateError(shown, '', line, `not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const lineOf = (p: FieldPath): number | undefined => {
    for (let n = p.length; n >= 0; n--) {
      const node = doc.getIn(p.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && (isMap(node) || isSeq(node) || isScalar(node)) && node.range)
        return lc.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const fail = (p: FieldPath, problem: string): never => {
    throw new TemplateError(shown, fieldOf(p), lineOf(p), problem);
  };
  return { raw: doc.toJS({ maxAliasCount: 50 }) as unknown, fail, lineOf };
}

/** apiVersion, kind and metadata (the name, and the template's version annotation). */
function checkHead(t: Record<string, unknown>, fail: Fail): { m: Record<string, unknown>; version: string } {
  if (t.apiVersion !== TEMPLATE_API_VERSION)
    fail(
      ['apiVersion'],
      `must be "${TEMPLATE_API_VERSION}", found ${JSON.stringify(t.apiVersion)}${
        t.apiVersion === 'backstage.io/v1beta2'
          ? ' (the older template format, which Backstage no longer runs either: write it as v1beta3, whose expressions are $-prefixed, not handlebars {{ }})'
          : ''
      }`,
    );
  if (t.kind !== 'Template') fail(['kind'], `must be "Template", found ${JSON.stringify(t.kind)}`);
  const meta = t.metadata as Record<string, unknown> | undefined;
  if (!meta || typeof meta !== 'object') fail(['metadata'], 'is required (with a name)');
  const m = meta as Record<string, unknown>;
  if (typeof m.name !== 'string' || !ENTITY_NAME.test(m.name) || m.name.length > 63)
    fail(
      ['metadata', 'name'],
      `must be 1-63 letters, digits and '-', '_', '.' starting and ending with a letter or digit, found ${JSON.stringify(m.name)}`,
    );
  const annotations = (m.annotations ?? {}) as Record<string, unknown>;
  if (typeof annotations !== 'object') fail(['metadata', 'annotations'], 'must be a mapping');
  const version = annotations[VERSION_ANNOTATION] ?? '0.0.0';
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+$/.test(version)) {
    fail(
      ['metadata', 'annotations', VERSION_ANNOTATION],
      `must be a version like "1.2.0", found ${JSON.stringify(version)}`,
    );
  }
  return { m, version: version as string };
}

/** spec.parameters: one schema or a list of pages; each a valid JSON Schema, no name on two pages. */
function parseParameterPages(raw: unknown, fail: Fail): ParameterPage[] {
  const pagesRaw = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const parameters: ParameterPage[] = [];
  const seen = new Set<string>();
  pagesRaw.forEach((page, i) => {
    const at = Array.isArray(raw) ? ['spec', 'parameters', i] : ['spec', 'parameters'];
    if (!page || typeof page !== 'object' || Array.isArray(page))
      fail(at, 'must be a JSON Schema object with properties');
    const p = page as Record<string, unknown>;
    const props = p.properties ?? {};
    if (typeof props !== 'object' || Array.isArray(props))
      fail([...at, 'properties'], 'must be a mapping of parameter name → schema');
    for (const [key, schema] of Object.entries(props as Record<string, unknown>)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
        fail([...at, 'properties', key], 'parameter names must be identifiers (letters, digits, _)');
      if (seen.has(key)) fail([...at, 'properties', key], 'is defined on two pages');
      seen.add(key);
      if (!schema || typeof schema !== 'object' || Array.isArray(schema))
        fail([...at, 'properties', key], 'must be a JSON Schema object');
    }
    if (p.required !== undefined) {
      if (!Array.isArray(p.required) || p.required.some((r) => typeof r !== 'string'))
        fail([...at, 'required'], 'must be a list of parameter names');
      for (const [j, r] of (p.required as string[]).entries()) {
        if (!(r in (props as object)))
          fail([...at, 'required', j], `"${r}" is required but not defined in properties`);
      }
    }
    try {
      ajv.compile(schemaOnly(p) as object);
    } catch (err) {
      fail(at, `is not a valid JSON Schema: ${(err as Error).message}`);
    }
    parameters.push({ ...(p as ParameterPage), properties: props as Record<string, JsonSchema> });
  });
  return parameters;
}

/** spec.steps: unique ids, expressions that parse, template paths of the right shape; unknown actions listed. */
function parseSteps(
  raw: unknown,
  dir: string,
  knownActions: ReadonlySet<string>,
  fail: Fail,
  lineOf: (p: FieldPath) => number | undefined,
): { steps: TemplateStep[]; missingActions: MissingAction[] } {
  if (!Array.isArray(raw) || raw.length === 0) fail(['spec', 'steps'], 'must be a non-empty list of steps');
  const ids = new Set<string>();
  const missingActions: MissingAction[] = [];
  const steps: TemplateStep[] = (raw as unknown[]).map((st, i) => {
    const at = ['spec', 'steps', i];
    if (!st || typeof st !== 'object' || Array.isArray(st))
      fail(at, 'must be a mapping with id, name, action and input');
    const step = st as Record<string, unknown>;
    const id = step.id ?? `step-${i + 1}`;
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(id))
      fail([...at, 'id'], 'must be letters, digits, - or _');
    if (ids.has(id as string)) fail([...at, 'id'], `"${String(id)}" is used by two steps`);
    ids.add(id as string);
    if (typeof step.action !== 'string') fail([...at, 'action'], 'is required, e.g. fetch:template');
    if (!knownActions.has(step.action as string)) {
      const action = step.action as string;
      const close = [...knownActions]
        .map((k) => ({ k, d: editDistance(action, k) }))
        .filter((x) => x.d <= 2)
        .sort((a, b) => a.d - b.d)[0];
      missingActions.push({
        action,
        stepId: id as string,
        field: fieldOf([...at, 'action']),
        line: lineOf([...at, 'action']),
        ...(close ? { didYouMean: close.k } : {}),
      });
    }
    const input = step.input ?? {};
    if (typeof input !== 'object' || Array.isArray(input)) fail([...at, 'input'], 'must be a mapping');
    checkExprAt(input, [...at, 'input'], fail);
    if (step.if !== undefined) checkExprAt(step.if, [...at, 'if'], fail);
    if (step.each !== undefined) checkExprAt(step.each, [...at, 'each'], fail);
    const inp = input as Record<string, unknown>;
    if (step.action === 'fetch:template' || step.action === 'fetch:plain')
      checkFetchPaths(inp, at, dir, fail);
    return {
      id: id as string,
      name: typeof step.name === 'string' ? step.name : (id as string),
      action: step.action as string,
      input: inp,
      ...(step.if !== undefined ? { if: step.if } : {}),
      ...(step.each !== undefined ? { each: step.each } : {}),
    };
  });
  return { steps, missingActions };
}

/**
 * A fetch step's url and targetPath written in the template itself: their static shape is checked now (a
 * relative path, the url inside the template or an http(s) URL), the rendered value again at run time.
 */
function checkFetchPaths(inp: Record<string, unknown>, at: FieldPath, dir: string, fail: Fail): void {
  if (typeof inp.url !== 'string')
    fail([...at, 'input', 'url'], 'is required: a directory relative to the template, e.g. ./skeleton');
  // A skeleton at an http(s) URL is read at run time through the allow-listed URL reader (as Backstage's
  // templates do, e.g. a GitHub tree URL); any other scheme is refused now.
  const remote = /^https?:\/\//i.test(inp.url as string);
  if (!remote && /^[a-z][a-z0-9+.-]*:/i.test(inp.url as string)) {
    fail(
      [...at, 'input', 'url'],
      `"${String(inp.url)}": a path inside the template or an http(s) URL (read through the allow-listed URL reader)`,
    );
  }
  for (const key of ['url', 'targetPath'] as const) {
    const v = inp[key];
    if (key === 'url' && remote) continue;
    if (typeof v === 'string' && !v.includes('${{')) {
      try {
        const rel = safeRelative(v, key);
        if (key === 'url') {
          let real: string;
          try {
            real = realpathSync(path.join(dir, rel));
          } catch {
            fail([...at, 'input', key], `"${v}" does not exist in the template`);
          }
          if (!isInside(dir, real)) fail([...at, 'input', key], `"${v}" resolves outside the template`);
        }
      } catch (err) {
        if (err instanceof TemplateError) throw err;
        fail([...at, 'input', key], (err as Error).message.replace(/^[^:]+: /, ''));
      }
    }
  }
}

/** spec.output: links (each with a url or an entityRef) and text, expressions that parse. */
function parseOutput(raw: unknown, fail: Fail): TemplateOutput {
  const output = (raw ?? {}) as TemplateOutput;
  if (typeof output !== 'object' || Array.isArray(output))
    fail(['spec', 'output'], 'must be a mapping with links and text');
  if (output.links !== undefined && !Array.isArray(output.links))
    fail(['spec', 'output', 'links'], 'must be a list');
  (output.links ?? []).forEach((l, i) => {
    if (!l || typeof l !== 'object' || (l.url === undefined && l.entityRef === undefined)) {
      fail(['spec', 'output', 'links', i], 'each link needs url or entityRef');
    }
  });
  checkExprAt(output, ['spec', 'output'], fail);
  return output;
}

function checkExprAt(v: unknown, at: FieldPath, fail: Fail): void {
  try {
    checkExpressions(v, fieldOf(at));
  } catch (err) {
    const msg = (err as Error).message;
    const field = (err as { field?: string }).field ?? fieldOf(at);
    const p = field
      .split(/\.|\[(\d+)\]/)
      .filter((x) => x !== undefined && x !== '')
      .map((x) => (/^\d+$/.test(x) ? Number(x) : x));
    fail(p, msg.slice(field.length + 2));
  }
}

function forbidKeys(v: unknown, at: FieldPath, fail: Fail): void {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      forbidKeys(x, [...at, i], fail);
    });
  } else if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(k)) fail([...at, k], `"${k}" is not allowed as a key`);
      forbidKeys((v as Record<string, unknown>)[k], [...at, k], fail);
    }
  }
}
