import type { CatalogService } from '@bank/plugin-catalog';
import { ingestWithProgress, watchRoots } from '@bank/plugin-catalog';
import type { DeploysService } from '@bank/plugin-deploys';
import { UsageError } from '@bank/plugin-kit';
import type { Command } from 'commander';

/**
 * `portal start` is the quick start: on a fresh checkout the web UI is not built yet, so build it once
 * (about a minute) rather than serve a bare page.
 */
async function ensureUiBuilt(): Promise<void> {
  const { existsSync } = await import('node:fs');
  const path = await import('node:path');
  const { REPO_ROOT } = await import('../server/runtime.ts');
  const portalDir = path.join(REPO_ROOT, 'portal');
  if (existsSync(path.join(portalDir, '.next', 'BUILD_ID'))) return;
  process.stdout.write('building the web UI (first start only; about a minute)…\n');
  const { spawnSync } = await import('node:child_process');
  const next = path.join(REPO_ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');
  const r = spawnSync(process.execPath, [next, 'build'], {
    cwd: portalDir,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (r.status !== 0) process.stderr.write('the UI build failed; serving the API and a plain service list\n');
}

/**
 * The quick start's deploy history (written by the estate generator): loaded only into a store without
 * deploys, marked as demo, and dropped when the first real deploy event arrives.
 */
async function loadDemoDeploys(deploys: DeploysService, roots: string[]): Promise<void> {
  const { readDemoHistory } = await import('@bank/plugin-deploys');
  try {
    const events = roots.flatMap((root) => readDemoHistory(root));
    if (events.length === 0) return;
    const loaded = await deploys.loadDemo(events);
    if (loaded > 0)
      process.stdout.write(
        `loaded ${loaded} demo deploys (generated history of the last 30 days; the first real deploy event replaces it)\n`,
      );
  } catch (err) {
    process.stderr.write(`demo deploy history not loaded: ${(err as Error).message}\n`);
  }
}

/** serve and start: the web server (API + UI), with the file watcher keeping the catalogue current. */
export async function registerPortalCommands(
  program: Command,
  open: () => Promise<CatalogService>,
): Promise<void> {
  const serve = async (opts: {
    port?: string;
    host?: string;
    baseUrl?: string;
    watch?: boolean;
    ingest?: boolean;
  }) => {
    const port = opts.port === undefined ? Number(process.env.PORT ?? 7007) : Number(opts.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port must be 0–65535, got "${opts.port}"`);
    const catalog = await open();
    if (opts.ingest) {
      const result = await ingestWithProgress(catalog, catalog.roots);
      process.stdout.write(
        `indexed ${Object.entries(result.counts)
          .map(([k, n]) => `${n} ${k}`)
          .join(
            ', ',
          )} in ${result.durationMs} ms${result.errors.length ? `; ${result.errors.length} errors (run \`portal errors\` to list them)` : ''}\n`,
      );
    }
    if (opts.ingest) await ensureUiBuilt();
    const { startServer } = await import('../server/server.ts');
    const server = await startServer({
      catalog,
      host: opts.host ?? process.env.HOST,
      port,
      baseUrl: opts.baseUrl,
    });
    if (opts.ingest) await loadDemoDeploys(server.context.deploys, catalog.roots);
    if (opts.watch !== false) watchRoots(catalog, catalog.roots, () => {});
    // What other writers put in the store (`portal ingest` in a terminal, another replica) shows up too.
    catalog.followStore();
    process.stdout.write(`portal listening on ${server.url}\n`);
    const stop = async () => {
      await server.close();
      await catalog.store.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  };
  program
    .command('serve')
    .description('run the portal web server (API and UI) on 127.0.0.1, watching the catalogue files')
    .option('--port <port>', 'port (default 7007, or PORT)')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option(
      '--base-url <url>',
      'public URL people reach it at (default PORTAL_BASE_URL); other Hosts get 421',
    )
    .option('--no-watch', 'do not re-ingest on file changes')
    .action((opts) => serve(opts));
  const token = program.command('token').description('API tokens for machines (CI/CD, deploy hooks)');
  token
    .command('create')
    .description('issue a token; it is printed once and only its hash is stored')
    .argument('<name>', 'what it is for, e.g. ci-deployer')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { json?: boolean }) => {
      const { randomBytes, randomUUID } = await import('node:crypto');
      const { hashToken } = await import('../server/auth.ts');
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name))
        throw new UsageError(`token name must be lowercase letters, digits and '-', got "${name}"`);
      const catalog = await open();
      const secret = `ptl_${randomBytes(24).toString('base64url')}`;
      const actor = `cli:${process.env.USER ?? 'unknown'}`;
      await catalog.store.addToken({ id: randomUUID(), name, hash: hashToken(secret), createdBy: actor });
      await catalog.store.audit(actor, 'token.create', `token:${name}`);
      if (opts.json) process.stdout.write(`${JSON.stringify({ name, token: secret })}\n`);
      else
        process.stdout.write(
          `token for ${name} (shown once; send it as "Authorization: Bearer <token>"):\n${secret}\n`,
        );
    });
  const db = program.command('db').description('the database: migrations');
  db.command('migrate')
    .description('apply pending migrations (also done automatically at start)')
    .action(async () => {
      const { migrateDeploy } = await import('@bank/catalog/store/migrate/index.ts');
      const url = program.opts<{ db?: string }>().db ?? process.env.DATABASE_URL;
      const { databaseUrl } = await import('../server/runtime.ts');
      const r = await migrateDeploy(databaseUrl(url));
      process.stdout.write(
        r.applied.length ? `applied ${r.applied.join(', ')}\n` : 'database is up to date\n',
      );
    });
  db.command('status')
    .description('pending, failed or edited migrations and schema drift (exit 1 when any)')
    .action(async () => {
      const { migrateStatus } = await import('@bank/catalog/store/migrate/index.ts');
      const { databaseUrl } = await import('../server/runtime.ts');
      const r = await migrateStatus(databaseUrl(program.opts<{ db?: string }>().db));
      process.stdout.write(
        r.ok
          ? 'migrations and schema are in sync\n'
          : `${[...r.pending.map((p) => `pending: ${p}`), ...r.problems].join('\n')}\n`,
      );
      process.exitCode = r.ok ? 0 : 1;
    });
  program
    .command('start')
    .description('index the bank estate (services/) and run the portal: the quick start')
    .option('--port <port>', 'port (default 7007, or PORT)')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .action((opts) => serve({ ...opts, ingest: true }));
}
