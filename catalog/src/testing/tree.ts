import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Write a small descriptor tree into a fresh temp folder: `{ 'svc/a/catalog-info.yaml': '…' }`. */
export function writeTree(
  files: Record<string, string | Uint8Array>,
  dir = mkdtempSync(path.join(tmpdir(), 'portal-tree-')),
): string {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(dir, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
  return dir;
}

export function removeFile(dir: string, rel: string): void {
  rmSync(path.join(dir, rel));
}

/** A Component descriptor; `extra` lines are appended under spec. */
export function component(
  name: string,
  opts: {
    owner?: string;
    dependsOn?: string[];
    consumesApis?: string[];
    tier?: string;
    system?: string;
  } = {},
): string {
  return [
    'apiVersion: backstage.io/v1alpha1',
    'kind: Component',
    'metadata:',
    `  name: ${name}`,
    `  description: The ${name} service`,
    '  annotations:',
    `    bank.io/tier: "${opts.tier ?? '2'}"`,
    'spec:',
    '  type: service',
    '  lifecycle: production',
    `  owner: ${opts.owner ?? 'ledger'}`,
    ...(opts.system ? [`  system: ${opts.system}`] : []),
    ...(opts.dependsOn ? [`  dependsOn: [${opts.dependsOn.join(', ')}]`] : []),
    ...(opts.consumesApis ? [`  consumesApis: [${opts.consumesApis.join(', ')}]`] : []),
    '',
  ].join('\n');
}

export const ORG = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: bank
spec:
  type: organization
  children: [core-banking]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: core-banking
spec:
  type: collective
  parent: bank
  children: [ledger, accounts]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: ledger
spec:
  type: squad
  parent: core-banking
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: accounts
spec:
  type: squad
  parent: core-banking
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: jane.doe
spec:
  memberOf: [ledger]
`;
