import {
  type Entity,
  EntityPolicies,
  type EntityPolicy,
  FieldFormatEntityPolicy,
  type KindValidator,
  NoForeignRootFieldsEntityPolicy,
} from '@backstage/catalog-model';
import { ANNOTATION } from './annotations.ts';
import { ensureBuiltInKinds, registeredKinds, registeredKindValidator } from './kinds.ts';
import { isSafeUrl } from './links.ts';
import type { PolicyName } from './policy.ts';
import { defaultNamespacePolicy, precompiledValidators } from './precompiled.ts';

/** A problem with one entity: the field it is about (as a path into the document) and what to do. */
export interface Problem {
  path: (string | number)[];
  message: string;
  /** Set when the problem is one of the bank's rules (policy.ts), not Backstage's. */
  policy?: 'bank';
}

export const KNOWN_KINDS = ['Component', 'API', 'Resource', 'System', 'Domain', 'Group', 'User', 'Location'];

function policiesWith(namespacePolicy: EntityPolicy, schemaPolicy: EntityPolicy): EntityPolicy {
  return EntityPolicies.allOf([
    namespacePolicy,
    new NoForeignRootFieldsEntityPolicy(),
    new FieldFormatEntityPolicy(),
    schemaPolicy,
  ]);
}

interface Validators {
  policies: EntityPolicy;
  kindValidators: KindValidator[];
}
let validators: Promise<Validators> | undefined;

/**
 * The validators precompiled (see precompiled.ts), or catalog-model's own compiled at run time (about half a
 * second, runtime-validators.ts) when those cannot be had.
 */
function backstageValidators(): Promise<Validators> {
  validators ??= precompiledValidators().then(async (pre) => {
    if (pre)
      return {
        policies: policiesWith(defaultNamespacePolicy, pre.schemaPolicy),
        kindValidators: pre.kindValidators,
      };
    const runtime = await import('./runtime-validators.ts');
    return {
      policies: policiesWith(runtime.runtimeNamespacePolicy, runtime.runtimeSchemaPolicy),
      kindValidators: runtime.KIND_VALIDATORS,
    };
  });
  return validators;
}

/** DNS-1123 label: what Kubernetes needs for Service names, and so what the bank requires of services. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Users are `first.last`: a DNS subdomain. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const URL_ANNOTATIONS = [ANNOTATION.runbook];

/**
 * Validate one entity on its own (no cross-entity checks: those are in relations.ts) by Backstage's rules,
 * with the bank's on top under the `bank` policy (those problems carry `policy: 'bank'`). Links must be
 * http(s)/mailto under every policy. Returns every problem found by our own rules, and the first one
 * Backstage's validators report (ajv stops at the first error per entity).
 */
export async function validateEntity(raw: unknown, policy: PolicyName = 'backstage'): Promise<Problem[]> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return [
      {
        path: [],
        message: 'A catalogue document must be a mapping with apiVersion, kind, metadata and spec',
      },
    ];
  }
  const entity = raw as Entity;
  const problems: Problem[] = [];
  const kind = typeof entity.kind === 'string' ? entity.kind : undefined;
  if (!kind) return [{ path: ['kind'], message: '"kind" is required, e.g. kind: Component' }];
  ensureBuiltInKinds();
  const moduleValidator = registeredKindValidator(kind);
  if (!moduleValidator && !KNOWN_KINDS.some((k) => k.toLowerCase() === kind.toLowerCase())) {
    const known = [...KNOWN_KINDS, ...registeredKinds().map((k) => k.kind)];
    return [
      {
        path: ['kind'],
        message: `Unknown kind "${kind}"; the catalogue knows ${known.join(', ')} (more kinds come from kind modules: PORTAL_CATALOG_KINDS)`,
      },
    ];
  }
  problems.push(...safetyRules(entity));
  if (policy === 'bank') problems.push(...bankRules(entity).map((p) => ({ ...p, policy: 'bank' as const })));
  try {
    // Backstage fills the default namespace in metadata: validate a copy of the envelope and metadata.
    const copy = { ...entity, metadata: { ...entity.metadata } } as Entity;
    const { policies, kindValidators } = await backstageValidators();
    await policies.enforce(copy);
    let matched = false;
    for (const validator of moduleValidator ? [moduleValidator] : kindValidators) {
      if (await validator.check(copy)) {
        matched = true;
        break;
      }
    }
    if (!matched) {
      problems.push({
        path: ['apiVersion'],
        message: `apiVersion "${String(entity.apiVersion)}" is not supported for kind ${kind}; use ${moduleValidator ? 'the apiVersion its kind module defines' : 'backstage.io/v1alpha1'}`,
      });
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const same = problems.find((p) => message.includes(p.path.join('.')) && p.path.length > 0);
    // Our message says it better; but Backstage refuses it too, so it is no longer the bank's alone.
    if (same) delete same.policy;
    else problems.push({ path: pathFromBackstageMessage(message), message: tidy(message) });
  }
  return problems;
}

function bankRules(entity: Entity): Problem[] {
  const problems: Problem[] = [];
  const kind = entity.kind.toLowerCase();
  const name = entity.metadata?.name;
  if (typeof name === 'string') {
    const pattern = kind === 'user' ? DNS_SUBDOMAIN : DNS_LABEL;
    if (kind !== 'location' && (!pattern.test(name) || name.length > 63)) {
      problems.push({
        path: ['metadata', 'name'],
        message: `"metadata.name" must be lowercase letters, digits and '-'${kind === 'user' ? " or '.'" : ''}, start and end with a letter or digit, at most 63 characters (a DNS-1123 ${kind === 'user' ? 'subdomain' : 'label'}), but found "${name.length > 80 ? `${name.slice(0, 80)}…` : name}" (${name.length} characters)`,
      });
    }
  }
  const annotations = entity.metadata?.annotations ?? {};
  const tier = annotations[ANNOTATION.tier];
  if (tier !== undefined && !/^[1-4]$/.test(String(tier))) {
    problems.push({
      path: ['metadata', 'annotations', ANNOTATION.tier],
      message: `"${ANNOTATION.tier}" must be "1", "2", "3" or "4" but found "${String(tier)}"`,
    });
  }
  const spec = (entity.spec ?? {}) as Record<string, unknown>;
  if (kind === 'component' && entity.spec && typeof spec.lifecycle !== 'string') {
    problems.push({
      path: ['spec', 'lifecycle'],
      message: '"spec.lifecycle" is required, e.g. production, experimental or deprecated',
    });
  }
  if (
    ['component', 'api', 'resource', 'system', 'domain'].includes(kind) &&
    entity.spec &&
    typeof spec.owner !== 'string'
  ) {
    problems.push({
      path: ['spec', 'owner'],
      message: '"spec.owner" is required: the squad (Group) that owns it, e.g. owner: group:default/ledger',
    });
  }
  return problems;
}

/** What every policy requires: links a browser may open safely. */
function safetyRules(entity: Entity): Problem[] {
  const problems: Problem[] = [];
  const annotations = entity.metadata?.annotations ?? {};
  for (const key of URL_ANNOTATIONS) {
    const value = annotations[key];
    if (value !== undefined && !isSafeUrl(value)) {
      problems.push({
        path: ['metadata', 'annotations', key],
        message: `"${key}" must be an http(s) URL but found "${String(value).slice(0, 100)}"`,
      });
    }
  }
  const links = entity.metadata?.links;
  if (Array.isArray(links)) {
    links.forEach((link, i) => {
      const url = (link as { url?: unknown })?.url;
      if (typeof url === 'string' && !isSafeUrl(url)) {
        problems.push({
          path: ['metadata', 'links', i, 'url'],
          message: `Link URL "${url.slice(0, 100)}" is not allowed: only http, https and mailto links are accepted`,
        });
      }
    });
  }
  return problems;
}

/** Backstage's messages name the field as `"metadata.name"` or `/spec must have …`: recover the path. */
function pathFromBackstageMessage(message: string): (string | number)[] {
  const quoted = /"((?:metadata|spec|apiVersion|kind)[^"]*)"/.exec(message);
  if (quoted) return quoted[1].split('.').filter(Boolean);
  const slashed = /(?:^|\s)\/((?:metadata|spec)[^\s]*)/.exec(message);
  if (slashed) {
    const path: (string | number)[] = slashed[1].split('/').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    const required = /required property '([^']+)'/.exec(message);
    if (required) path.push(required[1]);
    return path;
  }
  const required = /required property '([^']+)'/.exec(message);
  if (required) return [required[1]];
  return [];
}

function tidy(message: string): string {
  return message
    .replace(/^Malformed envelope, /, '')
    .replace(/\s+/g, ' ')
    .trim();
}

let warming: Promise<void> | undefined;

/**
 * Load (or, the first time, generate) the precompiled validators and run each kind once, early, so that it
 * overlaps with reading files instead of delaying the first validations.
 */
export function warmValidators(): Promise<void> {
  warming ??= (async () => {
    for (const kind of KNOWN_KINDS) {
      await validateEntity({
        apiVersion: 'backstage.io/v1alpha1',
        kind,
        metadata: { name: 'warm-up' },
        spec: { type: 'service', lifecycle: 'production', owner: 'warm-up', children: [], memberOf: [] },
      });
    }
  })().catch(() => undefined);
  return warming;
}
