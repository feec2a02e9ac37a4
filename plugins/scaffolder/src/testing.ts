/**
 * Test and bench helpers (`@bank/plugin-scaffolder/testing`, not exported from index.ts): a temporary copy of the monorepo with just what a
 * scaffold needs — the root package.json and configs, the templates, services/lib/rpc, a small org and
 * a few services — with node_modules symlinked to the real one, so generated services resolve @bank/rpc,
 * tsx and biome offline and at once. Optionally a real git repository. Also the actions' helpers
 * (actions/testing.ts): an action context, and the GitHub/GitLab API test double.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EntitySpec, estateFiles } from '@bank/catalog/testing';

export {
  DOUBLE_TOKEN,
  makeContext,
  type ProviderDouble,
  type ReceivedRequest,
  startProviderDouble,
} from './actions/testing.ts';

export const MAIN_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const GROUPS = 'org/groups.yaml';
const SYSTEMS = 'org/systems.yaml';

const group = (
  name: string,
  type: string,
  parent?: string,
  children: string[] = [],
  members: string[] = [],
): EntitySpec => ({
  kind: 'Group',
  name,
  title: name.replace(/(^|-)(\w)/g, (_, d, c) => `${d ? ' ' : ''}${c.toUpperCase()}`),
  type,
  parent,
  children,
  members: members.length ? members : undefined,
  file: GROUPS,
});

const user = (name: string, group: string): EntitySpec => ({
  kind: 'User',
  name,
  profile: { displayName: name },
  memberOf: [group],
  file: GROUPS,
});

const component = (
  name: string,
  owner: string,
  opts: { dependsOn?: string[]; system?: string; providesApis?: string[] } = {},
): EntitySpec => ({
  kind: 'Component',
  name,
  description: `The ${name} service`,
  tier: 2,
  serviceId: `service.${name}`,
  owner: `group:default/${owner}`,
  system: opts.system,
  providesApis: opts.providesApis?.length ? opts.providesApis : undefined,
  dependsOn: opts.dependsOn?.length ? opts.dependsOn : undefined,
});

const ledgerOwned = {
  owner: 'group:default/ledger',
  system: 'ledger-system',
  file: 'ledger/catalog-info.yaml',
};

/** The org and services of the fixture estate, from the shared test estate builder (@bank/catalog/testing). */
export const FIXTURE_FILES: Record<string, string | Uint8Array> = estateFiles({
  root: 'services',
  entities: [
    {
      kind: 'Location',
      name: 'fixture-estate',
      targets: [`./${GROUPS}`, `./${SYSTEMS}`],
      file: 'catalog-info.yaml',
    },
    group('bank', 'organization', undefined, ['core-banking', 'payments', 'platform']),
    group('platform', 'collective', 'bank', ['service-framework']),
    group('service-framework', 'squad', 'platform'),
    group('core-banking', 'collective', 'bank', ['ledger', 'accounts']),
    group('payments', 'collective', 'bank', ['card-processing']),
    group('ledger', 'squad', 'core-banking', [], ['jane.doe']),
    group('accounts', 'squad', 'core-banking'),
    group('card-processing', 'squad', 'payments', [], ['sam.lee']),
    user('jane.doe', 'ledger'),
    user('sam.lee', 'card-processing'),
    { kind: 'Domain', name: 'core-banking', owner: 'group:default/core-banking', file: SYSTEMS },
    {
      kind: 'System',
      name: 'ledger-system',
      owner: 'group:default/ledger',
      domain: 'core-banking',
      file: SYSTEMS,
    },
    { kind: 'System', name: 'service-framework', owner: 'group:default/service-framework', file: SYSTEMS },
    // ledger serves an API (calls to it are consumesApis); accounts does not (calls to it stay dependsOn).
    component('ledger', 'ledger', {
      system: 'ledger-system',
      dependsOn: ['resource:cassandra-ledger'],
      providesApis: ['ledger-rpc'],
    }),
    {
      kind: 'API',
      name: 'ledger-rpc',
      description: "The ledger's RPCs",
      type: 'openapi',
      definition: 'openapi: 3.0.3',
      ...ledgerOwned,
    },
    { kind: 'Resource', name: 'cassandra-ledger', type: 'cassandra-keyspace', ...ledgerOwned },
    { kind: 'Resource', name: 'ledger-entries', type: 'kafka-topic', ...ledgerOwned },
    component('accounts', 'accounts', { dependsOn: ['component:ledger'] }),
    component('cards', 'card-processing', { dependsOn: ['component:ledger', 'component:accounts'] }),
  ],
});

export interface FixtureRepo {
  root: string;
  cleanup(): void;
}

/**
 * A temporary monorepo copy. `git: true` makes it a git repository with one commit; `estate: true` copies
 * the real estate in services/ (the generated bank) instead of the small fixture.
 */
export function makeFixtureRepo(opts: { git?: boolean; estate?: boolean } = {}): FixtureRepo {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'scaffold-repo-')));
  for (const f of ['package.json', 'tsconfig.base.json', 'biome.json'])
    cpSync(path.join(MAIN_ROOT, f), path.join(root, f));
  cpSync(path.join(MAIN_ROOT, 'templates'), path.join(root, 'templates'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  cpSync(path.join(MAIN_ROOT, 'services', 'lib', 'rpc'), path.join(root, 'services', 'lib', 'rpc'), {
    recursive: true,
    filter: (src) => !src.includes('node_modules'),
  });
  if (opts.estate) {
    cpSync(path.join(MAIN_ROOT, 'services'), path.join(root, 'services'), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (src) => !src.includes('node_modules'),
    });
  }
  for (const [rel, text] of Object.entries(opts.estate ? {} : FIXTURE_FILES)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  symlinkSync(path.join(MAIN_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  writeFileSync(path.join(root, '.gitignore'), 'node_modules\n');
  if (opts.git) {
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=fixture', '-c', 'user.email=fixture@bank.example', ...args], {
        cwd: root,
        stdio: 'pipe',
      });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'fixture');
  }
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
