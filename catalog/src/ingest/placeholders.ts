import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Problem } from '../model/validate.ts';
import { parseDescriptor } from './parse.ts';

/** One placeholder file may be this big (an OpenAPI definition of a large API fits comfortably). */
export const MAX_PLACEHOLDER_BYTES = 1024 * 1024;
/** All the placeholders of one descriptor file together. */
export const MAX_PLACEHOLDER_TOTAL_BYTES = 8 * 1024 * 1024;

const KINDS = ['$text', '$json', '$yaml'] as const;

export type PlaceholderProblem = Problem;

/**
 * Resolve Backstage's placeholders in a parsed document, in place: a mapping with the single key `$text`,
 * `$json` or `$yaml` is replaced by the file it names (as text, parsed JSON, or one parsed YAML document).
 * Paths are relative to the descriptor and must stay inside `confine` once symlinks are resolved (as Location
 * targets do, and as Backstage keeps them inside the repository); URLs are refused (the portal reads files).
 */
export function resolvePlaceholders(
  doc: unknown,
  descriptor: string,
  confine: string,
  budget = { bytes: MAX_PLACEHOLDER_TOTAL_BYTES },
): PlaceholderProblem[] {
  const problems: PlaceholderProblem[] = [];
  const visit = (value: unknown, at: (string | number)[], set: (v: unknown) => void): void => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        visit(item, [...at, i], (v) => {
          value[i] = v;
        });
      });
      return;
    }
    if (!value || typeof value !== 'object') return;
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    const kind = KINDS.find((k) => k === keys[0]);
    if (keys.length === 1 && kind) {
      const r = read(kind, obj[kind], descriptor, confine, budget);
      if ('error' in r) problems.push({ path: [...at, kind], message: r.error });
      else set(r.value);
      return;
    }
    for (const k of keys) {
      visit(obj[k], [...at, k], (v) => {
        obj[k] = v;
      });
    }
  };
  visit(doc, [], () => undefined);
  return problems;
}

function read(
  kind: (typeof KINDS)[number],
  target: unknown,
  descriptor: string,
  confine: string,
  budget: { bytes: number },
): { value: unknown } | { error: string } {
  if (typeof target !== 'string' || target === '')
    return { error: `${kind} must name a file relative to this descriptor, e.g. ${kind}: ./openapi.yaml` };
  if (/^[a-z][a-z0-9+.-]*:/i.test(target))
    return { error: `${kind} "${target}" is a URL; only files beside the descriptor are read` };
  if (path.isAbsolute(target))
    return { error: `${kind} "${target}" is an absolute path; use a path relative to the descriptor` };
  const abs = path.resolve(path.dirname(descriptor), target);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    return { error: `${kind} "${target}" does not exist (looked for ${abs})` };
  }
  const root = (() => {
    try {
      return realpathSync(confine);
    } catch {
      return confine;
    }
  })();
  if (real !== root && !real.startsWith(root + path.sep))
    return {
      error: `${kind} "${target}" resolves to ${real}, outside the catalogue tree (${root}); it was not read`,
    };
  const size = statSync(real).size;
  if (size > MAX_PLACEHOLDER_BYTES)
    return {
      error: `${kind} "${target}" is ${(size / 1024 / 1024).toFixed(1)} MB; placeholder files are limited to ${MAX_PLACEHOLDER_BYTES / 1024 / 1024} MB`,
    };
  if (size > budget.bytes)
    return {
      error: `${kind} "${target}": the placeholders of this descriptor add up to more than ${MAX_PLACEHOLDER_TOTAL_BYTES / 1024 / 1024} MB`,
    };
  budget.bytes -= size;
  const bytes = readFileSync(real);
  if (kind === '$text') return { value: new TextDecoder('utf-8').decode(bytes) };
  if (kind === '$json') {
    try {
      return { value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) };
    } catch (err) {
      return { error: `${kind} "${target}" is not valid JSON: ${(err as Error).message}` };
    }
  }
  const parsed = parseDescriptor(bytes);
  const first = parsed.problems[0];
  if (first) return { error: `${kind} "${target}" line ${first.line}: ${first.message}` };
  if (parsed.documents.length !== 1)
    return { error: `${kind} "${target}" must hold one YAML document but holds ${parsed.documents.length}` };
  return { value: parsed.documents[0].data };
}
