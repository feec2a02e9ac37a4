import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Which rules an entity is held to. `backstage`: Backstage's own (catalog-model's validators; references may
 * dangle: the entity and its relation are kept and the missing target reported with the closest names), the
 * default for every catalogue. `bank`: the bank's stricter rules on top (DNS-1123 names, a tier annotation of
 * 1-4, an owner that is a Group, every reference resolving), applied to the folders configured for it,
 * reported as errors (the entity is refused, or kept at its last good version) or as warnings.
 */
export type PolicyName = 'backstage' | 'bank';
export type PolicyLevel = 'error' | 'warning';

export interface CatalogPolicies {
  /** Folders (real paths) whose files the bank's policy applies to, and how its findings are reported. */
  bank: { roots: string[]; level: PolicyLevel };
}

export interface AppliedPolicy {
  name: PolicyName;
  level: PolicyLevel;
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function real(p: string): string {
  try {
    return realpathSync(path.resolve(p));
  } catch {
    return path.resolve(p);
  }
}

/**
 * The policies from the environment: `PORTAL_BANK_POLICY` (comma-separated folders, `none` for nowhere;
 * default the bank's own tree, services/) and `PORTAL_BANK_POLICY_LEVEL` (`error`, the default, or `warning`).
 */
export function policiesFromEnv(env: NodeJS.ProcessEnv = process.env): CatalogPolicies {
  const raw = env.PORTAL_BANK_POLICY?.trim();
  const roots =
    raw === 'none' || raw === ''
      ? []
      : (raw?.split(',') ?? [path.join(REPO_ROOT, 'services')]).map((p) => real(p.trim()));
  const levelRaw = env.PORTAL_BANK_POLICY_LEVEL?.trim() ?? 'error';
  if (levelRaw !== 'error' && levelRaw !== 'warning')
    throw new Error(`PORTAL_BANK_POLICY_LEVEL must be "error" or "warning" but was "${levelRaw}"`);
  return { bank: { roots, level: levelRaw } };
}

/** The bank's policy everywhere (for tests and tools that check a tree by the bank's rules). */
export function bankPolicyFor(roots: string[], level: PolicyLevel = 'error'): CatalogPolicies {
  return { bank: { roots: roots.map(real), level } };
}

/** The policy a file is held to. */
export function policyOf(policies: CatalogPolicies, file: string): AppliedPolicy {
  const bank = policies.bank.roots.some((r) => file === r || file.startsWith(r + path.sep));
  return bank ? { name: 'bank', level: policies.bank.level } : { name: 'backstage', level: 'error' };
}
