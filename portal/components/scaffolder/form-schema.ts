/**
 * Backstage's form language for react-jsonschema-form: a template's parameter page is one JSON Schema with
 * `ui:*` keys written inside it; Backstage splits it into the schema and a uiSchema (its
 * extractSchemaFromStep), so `ui:field`, `ui:widget`, `ui:options`, `ui:order`, … reach rjsf — also
 * inside `dependencies`/`oneOf`/`allOf`/`if-then-else` branches and array `items`.
 *
 * The validator rjsf runs in the browser is @cfworker/json-schema, an interpreter: the portal's pages are
 * served with a Content-Security-Policy without 'unsafe-eval', which Ajv (validator-ajv8, Backstage's
 * choice) needs to compile schemas to functions. The server validates again with Ajv either way.
 */
import { type OutputUnit, Validator } from '@cfworker/json-schema';
import {
  type CustomValidator,
  createErrorHandler,
  type ErrorTransformer,
  type RJSFSchema,
  type RJSFValidationError,
  toErrorSchema,
  type UiSchema,
  unwrapErrorHandler,
  type ValidationData,
  type ValidatorType,
  validationDataMerge,
} from '@rjsf/utils';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Split a page's schema into the JSON Schema and the uiSchema Backstage would hand rjsf. */
export function extractUiSchema(page: Json): { schema: RJSFSchema; uiSchema: UiSchema } {
  const uiSchema: Json = {};
  const schema = strip(page, uiSchema) as RJSFSchema;
  return { schema, uiSchema: uiSchema as UiSchema };
}

function strip(node: unknown, ui: Json): unknown {
  if (Array.isArray(node)) return node.map((n) => strip(n, ui));
  if (!isObj(node)) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (FORBIDDEN.has(k)) continue;
    if (k.startsWith('ui:')) {
      ui[k] = v;
      continue;
    }
    if (k === 'properties' && isObj(v)) {
      const props: Json = {};
      for (const [name, sub] of Object.entries(v)) {
        if (FORBIDDEN.has(name)) continue;
        const subUi = (isObj(ui[name]) ? ui[name] : {}) as Json;
        props[name] = strip(sub, subUi);
        if (Object.keys(subUi).length) ui[name] = subUi;
      }
      out[k] = props;
    } else if (k === 'items' && isObj(v)) {
      const itemsUi = (isObj(ui.items) ? ui.items : {}) as Json;
      out[k] = strip(v, itemsUi);
      if (Object.keys(itemsUi).length) ui.items = itemsUi;
    } else if (k === 'dependencies' && isObj(v)) {
      // A dependency's branches describe fields of this same object: their ui keys land at this level.
      const deps: Json = {};
      for (const [name, dep] of Object.entries(v)) deps[name] = Array.isArray(dep) ? dep : strip(dep, ui);
      out[k] = deps;
    } else if (['oneOf', 'anyOf', 'allOf'].includes(k) && Array.isArray(v)) {
      out[k] = v.map((branch) => strip(branch, ui));
    } else if (['if', 'then', 'else'].includes(k) && isObj(v)) {
      out[k] = strip(v, ui);
    } else out[k] = v;
  }
  return out;
}

/** `#/a/0/b` (an instance location) → rjsf's property notation `.a.0.b`. */
function property(instanceLocation: string): string {
  const parts = instanceLocation
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return parts.length ? `.${parts.join('.')}` : '';
}

// Container keywords report that something under them failed; the leaf error says what.
const CONTAINERS = new Set([
  'properties',
  'items',
  'prefixItems',
  'additionalItems',
  'allOf',
  'anyOf',
  '$ref',
  'dependencies',
  'dependentSchemas',
  'if',
  'then',
  'else',
  'contains',
  'additionalProperties',
  'unevaluatedProperties',
  'patternProperties',
]);

function messageOf(u: OutputUnit): { name: string; property: string; message: string } {
  const name = u.keyword;
  let prop = property(u.instanceLocation);
  let message = u.error;
  const required = /required property "([^"]+)"/.exec(u.error);
  if (name === 'required' && required) {
    prop = `${prop}.${required[1]}`;
    message = 'is required';
  } else if (name === 'pattern') message = 'does not have the expected form';
  else if (name === 'minLength' || name === 'maxLength') {
    const n = /(\d+)/.exec(u.error.replace(/^.*?(length|long)/i, ''))?.[1];
    message =
      name === 'minLength'
        ? `must be at least ${n ?? 'the minimum'} characters`
        : `must be at most ${n ?? 'the maximum'} characters`;
  } else if (name === 'enum') message = 'must be one of the listed values';
  else if (name === 'oneOf') message = 'must match exactly one of the options';
  else message = message.replace(/^Instance /, '').replace(/\.$/, '');
  return { name, property: prop, message };
}

const cache = new WeakMap<object, Validator>();
function validatorOf(schema: RJSFSchema): Validator {
  let v = cache.get(schema);
  if (!v) {
    v = new Validator(schema as never, '7', false);
    cache.set(schema, v);
  }
  return v;
}

/** rjsf's validator interface over @cfworker/json-schema (no code generation). */
export const formValidator: ValidatorType = {
  validateFormData(
    formData: unknown,
    schema: RJSFSchema,
    customValidate?: CustomValidator,
    transformErrors?: ErrorTransformer,
    uiSchema?: UiSchema,
  ): ValidationData<unknown> {
    const { errors: raw } = this.rawValidation<OutputUnit>(schema, formData);
    const seen = new Set<string>();
    let errors: RJSFValidationError[] = [];
    for (const u of raw ?? []) {
      if (CONTAINERS.has(u.keyword)) continue;
      const e = messageOf(u);
      const key = `${e.property} ${e.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      errors.push({
        ...e,
        params: {},
        schemaPath: u.keywordLocation,
        stack: `${e.property} ${e.message}`.trim(),
      });
    }
    if (transformErrors) errors = transformErrors(errors, uiSchema);
    const validation = { errors, errorSchema: toErrorSchema(errors) };
    if (!customValidate) return validation;
    const handler = customValidate(formData, createErrorHandler(formData), uiSchema);
    return validationDataMerge(validation, unwrapErrorHandler(handler));
  },
  isValid(schema: RJSFSchema, formData: unknown): boolean {
    try {
      return validatorOf(schema).validate(formData as never).valid;
    } catch {
      return false;
    }
  },
  rawValidation<Result = unknown>(schema: RJSFSchema, formData?: unknown) {
    try {
      return { errors: validatorOf(schema).validate(formData as never).errors as Result[] };
    } catch (err) {
      return { errors: [] as Result[], validationError: err as Error };
    }
  },
};
