import type { CatalogService } from '@bank/plugin-catalog';
import { ingestProblemLines, ingestWithProgress, watchRoots } from '@bank/plugin-catalog';
import type { DeploysService } from '@bank/plugin-deploys';
import { formatTable, printJson, TOKEN_SCOPES, type TokenScope, UsageError } from '@bank/plugin-kit';
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

/** One line per file with problems, on stderr (the server's log). */
function logProblems(errors: Parameters<typeof ingestProblemLines>[0]): void {
  for (const line of ingestProblemLines(errors)) process.stderr.write(`ingest: ${line}\n`);
}

/** serve and start: the web server (API + UI), with the file watcher keeping the catalogue current. */
export async function registerPortalCommands(
  program: Command,
  open: () => Promise<CatalogService>,
): Promise<void> {
  const serve = (opts: ServeOptions) => runServer(open, opts);
  registerServe(program, serve);
  registerTokens(program, open);
  registerSessions(program, open);
  registerAudit(program, open);
  registerDb(program);
  registerStart(program, serve);
}

interface ServeOptions {
  port?: string;
  host?: string;
  baseUrl?: string;
  watch?: boolean;
  ingest?: boolean;
  devSignIn?: boolean;
  traffic?: boolean;
}

/**
 * Starts the web server and keeps it current: a taken port is said before anything else; with `ingest` (the
 * quick start) the estate is indexed first and the UI built; otherwise what changed while it was down is taken
 * in. It runs until SIGINT or SIGTERM.
 */
async function runServer(open: () => Promise<CatalogService>, opts: ServeOptions): Promise<void> {
  const port = opts.port === undefined ? Number(process.env.PORT ?? 7007) : Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be 0–65535, got "${opts.port}"`);
  const host = opts.host ?? process.env.HOST ?? '127.0.0.1';
  // Before opening the store or re-indexing: a taken port is said at once, with who has it.
  const { portProblem, describeListenError, PortTakenError } = await import('../server/port.ts');
  const taken = await portProblem(host, port);
  if (taken) throw new PortTakenError(taken);
  const catalog = await open();
  // The snapshot the CLI reads (see @bank/plugin-catalog snapshot.ts) follows the server's view, written
  // at most once every 2 s while edits come in.
  catalog.snapshotDelayMs = 2000;
  if (opts.ingest) {
    const result = await ingestWithProgress(catalog, catalog.roots);
    process.stdout.write(
      `indexed ${Object.entries(result.counts)
        .map(([k, n]) => `${n} ${k}`)
        .join(
          ', ',
        )} in ${result.durationMs} ms${result.errors.length ? `; ${result.errors.length} problems (\`portal errors\` lists them all)` : ''}\n`,
    );
    logProblems(result.errors);
  }
  if (opts.ingest) await ensureUiBuilt();
  const { startServer, DevSignInRefusedError } = await import('../server/server.ts');
  // The traffic demo's services send their spans with a token of their own, made up for this run.
  const demoToken = opts.traffic ? (await import('node:crypto')).randomBytes(18).toString('base64url') : '';
  if (demoToken)
    process.env.PORTAL_API_TOKENS = [process.env.PORTAL_API_TOKENS, demoToken].filter(Boolean).join(',');
  const server = await startServer({
    catalog,
    host,
    port,
    baseUrl: opts.baseUrl,
    devSignIn: opts.devSignIn,
    watchFiles: opts.watch !== false,
    // Before the work start-up does not wait for (the UI, the first scoring): behind the scoring's slices
    // the start-up reconcile of 35,000 files took 33 s instead of 2. Watching starts first, so an edit made
    // during the reconcile is not missed.
    onListening: async (context) => {
      if (opts.watch !== false) watchRoots(catalog, catalog.roots, (r) => logProblems(r.errors));
      if (opts.ingest) await loadDemoDeploys(context.deploys, catalog.roots);
      else await takeInChanges(catalog);
    },
  }).catch(async (err: NodeJS.ErrnoException) => {
    if (err instanceof DevSignInRefusedError) throw new UsageError(err.message);
    // Taken in the meantime (another start raced this one).
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
      await catalog.store.close();
      throw new PortTakenError(await describeListenError(err, host, port));
    }
    throw err;
  });
  // What other writers put in the store (`portal ingest` in a terminal, another replica) shows up too.
  catalog.followStore();
  // URL locations are read again on a schedule (and on demand through refreshEntity).
  const stopUrlRefresh = catalog.scheduleUrlRefresh(
    Number(process.env.PORTAL_URL_REFRESH_SECONDS ?? 300) * 1000,
    (message) => process.stderr.write(`warning: URL location refresh: ${message}\n`),
  );
  process.stdout.write(`portal listening on ${server.url}\n`);
  if (opts.devSignIn)
    process.stdout.write(
      'development sign-in is ON: anyone who can reach this address can sign in as any catalogue User\n',
    );
  const demo = demoToken ? await startTrafficDemo(server.url, demoToken) : undefined;
  const stop = async () => {
    demo?.kill('SIGTERM');
    stopUrlRefresh();
    await server.close();
    catalog.flushSnapshot();
    await catalog.store.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/**
 * Reconcile: take in what changed in the tree while the portal was down (edits, new and deleted
 * descriptors). Unchanged files are skipped by their content hash, so this is cheap. The watcher is
 * already on, so an edit made during this pass is not missed either.
 */
async function takeInChanges(catalog: CatalogService): Promise<void> {
  try {
    const r = await catalog.ingest();
    const changed = r.upserted.length + r.removed.length;
    if (changed > 0) process.stdout.write(`took in ${changed} changes made while the portal was down\n`);
    logProblems(r.errors);
  } catch (err) {
    process.stderr.write(
      `warning: could not compare the tree with the store at start: ${(err as Error).message}\n`,
    );
  }
}

function registerServe(program: Command, serve: (opts: ServeOptions) => Promise<void>): void {
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
    .option(
      '--dev-sign-in',
      'offer the password-less development sign-in (any catalogue User, no credential); loopback only',
    )
    .action((opts) => serve(opts));
}

/** `portal start`: the quick start (index the estate, then serve; the development sign-in on loopback only). */
function registerStart(program: Command, serve: (opts: ServeOptions) => Promise<void>): void {
  program
    .command('start')
    .description('index the bank estate (services/) and run the portal: the quick start')
    .option('--port <port>', 'port (default 7007, or PORT)')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--no-dev-sign-in', 'do not offer the development sign-in (it is on by default, on loopback)')
    .option(
      '--traffic',
      'also run the card-api → feed chain as real services sending OpenTelemetry traces (npm run traffic)',
    )
    .action((opts: { port?: string; host?: string; devSignIn: boolean; traffic?: boolean }) => {
      const host = opts.host ?? process.env.HOST ?? '127.0.0.1';
      // The quick start offers the development sign-in only where nobody else can reach it.
      const loopback = ['127.0.0.1', 'localhost', '::1'].includes(host);
      if (opts.devSignIn && !loopback)
        process.stdout.write(`development sign-in is off: ${host} is not a loopback address\n`);
      return serve({ ...opts, ingest: true, devSignIn: opts.devSignIn && loopback });
    });
}

/** Who the CLI acts as in the audit log. */
const cliActor = () => `cli:${process.env.USER ?? 'unknown'}`;

/** `portal token create | list | revoke`: API tokens for machines. */
function registerTokens(program: Command, open: () => Promise<CatalogService>): void {
  const token = program.command('token').description('API tokens for machines (CI/CD, deploy hooks)');
  token
    .command('create')
    .description('issue a scoped, expiring token; it is printed once and only its hash is stored')
    .argument('<name>', 'what it is for, e.g. ci-deployer')
    .requiredOption('--scope <scopes>', `what it may do, comma-separated: ${TOKEN_SCOPES.join(', ')}`)
    .option('--expires <when>', 'lifetime (90d, 12h, 30m) or an ISO date', '90d')
    .option('--json', 'machine-readable output')
    .action((name: string, opts: { json?: boolean; scope: string; expires: string }) =>
      createToken(open, name, opts),
    );
  token
    .command('list')
    .description('tokens issued by the portal: scopes, expiry, revoked (never the secret)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const rows = await (await open()).store.tokens();
      if (opts.json) return printJson(rows);
      const now = Date.now();
      const state = (t: (typeof rows)[number]) =>
        t.revokedAt
          ? `revoked ${t.revokedAt}`
          : t.expiresAt && Date.parse(t.expiresAt) <= now
            ? 'expired'
            : 'active';
      process.stdout.write(
        `${formatTable(
          ['name', 'id', 'scopes', 'expires', 'state', 'created by'],
          rows.map((t) => [t.name, t.id, t.scopes.join(' '), t.expiresAt ?? 'never', state(t), t.createdBy]),
        )}\n`,
      );
    });
  token
    .command('revoke')
    .description('revoke a token by id or name: running portals refuse it within PORTAL_AUTH_CACHE_MS (2 s)')
    .argument('<id-or-name>')
    .option('--json', 'machine-readable output')
    .action(async (idOrName: string, opts: { json?: boolean }) => {
      const catalog = await open();
      const revoked = await catalog.store.revokeToken(idOrName);
      if (revoked.length === 0)
        throw new Error(`No active token with id or name "${idOrName}" (see portal token list)`);
      for (const t of revoked)
        await catalog.store.audit(
          cliActor(),
          'token.revoke',
          `token:${t.name}`,
          { id: t.id },
          { client: 'cli' },
        );
      if (opts.json) printJson(revoked);
      else process.stdout.write(`revoked ${revoked.map((t) => `${t.name} (${t.id})`).join(', ')}\n`);
    });
}

/** `portal token create`: a scoped, expiring secret, printed once; only its hash is stored (and audited). */
async function createToken(
  open: () => Promise<CatalogService>,
  name: string,
  opts: { json?: boolean; scope: string; expires: string },
): Promise<void> {
  const { randomBytes, randomUUID } = await import('node:crypto');
  const { hashToken } = await import('../server/auth.ts');
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name))
    throw new UsageError(`token name must be lowercase letters, digits and '-', got "${name}"`);
  const scopes = parseScopes(opts.scope);
  const expiresAt = parseExpiry(opts.expires);
  const catalog = await open();
  const secret = `ptl_${randomBytes(24).toString('base64url')}`;
  const actor = cliActor();
  const id = randomUUID();
  await catalog.store.addToken({
    id,
    name,
    hash: hashToken(secret),
    createdBy: actor,
    scopes,
    expiresAt,
  });
  await catalog.store.audit(
    actor,
    'token.create',
    `token:${name}`,
    {
      id,
      scopes,
      expiresAt: expiresAt.toISOString(),
    },
    { client: 'cli' },
  );
  if (opts.json)
    process.stdout.write(
      `${JSON.stringify({ id, name, scopes, expiresAt: expiresAt.toISOString(), token: secret })}\n`,
    );
  else
    process.stdout.write(
      `token ${name} (${scopes.join(', ')}; expires ${expiresAt.toISOString()})\nshown once; send it as "Authorization: Bearer <token>":\n${secret}\n`,
    );
}

/** `portal sessions revoke <user>`: end every session of a person. */
function registerSessions(program: Command, open: () => Promise<CatalogService>): void {
  program
    .command('sessions')
    .description('people signed in to the portal')
    .command('revoke')
    .description(
      'end every session of a person (a leaver, a stolen laptop); running portals refuse them within PORTAL_AUTH_CACHE_MS',
    )
    .argument('<user>', 'the catalogue User, e.g. jane.doe')
    .option('--json', 'machine-readable output')
    .action(async (user: string, opts: { json?: boolean }) => {
      const catalog = await open();
      const name = user
        .trim()
        .toLowerCase()
        .replace(/^user:(default\/)?/, '');
      if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(name)) throw new UsageError(`"${user}" is not a user name`);
      const ref = `user:default/${name}`;
      const revoked = await catalog.store.revokeSessions({ userRef: ref });
      await catalog.store.audit(cliActor(), 'session.revoke', ref, { revoked }, { client: 'cli' });
      if (opts.json) printJson({ user: ref, revoked });
      else process.stdout.write(`revoked ${revoked} session(s) of ${ref}\n`);
    });
}

/** `portal audit verify | list`: the hash-chained audit log. */
function registerAudit(program: Command, open: () => Promise<CatalogService>): void {
  const audit = program.command('audit').description('the audit log: every write attempt, hash-chained');
  audit
    .command('verify')
    .description('check the hash chain; exit 1 and the first broken row when the log was tampered with')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const verdict = await (await open()).store.verifyAudit();
      if (opts.json) printJson(verdict);
      else if (verdict.ok)
        process.stdout.write(
          `audit log intact: ${verdict.checked} chained rows${verdict.unchained ? ` (${verdict.unchained} older rows from before the chain)` : ''}\n`,
        );
      else
        process.stdout.write(
          `audit log TAMPERED at row ${verdict.broken.id} (${verdict.broken.at} ${verdict.broken.actor} ${verdict.broken.action} ${verdict.broken.target}): ${verdict.reason}; ${verdict.checked} rows before it are intact\n`,
        );
      process.exitCode = verdict.ok ? 0 : 1;
    });
  audit
    .command('list')
    .description('the newest audit rows')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'machine-readable output')
    .action(async (opts: { limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
        throw new UsageError(`--limit must be 1–10000, got "${opts.limit}"`);
      const rows = await (await open()).store.auditLog(limit);
      if (opts.json) return printJson(rows);
      process.stdout.write(
        `${formatTable(
          ['id', 'at', 'outcome', 'actor', 'action', 'target', 'client'],
          rows.map((r) => [r.id, r.at, r.outcome, r.actor, r.action, r.target, r.client ?? '']),
        )}\n`,
      );
    });
}

/** `portal db migrate | status`: the database's migrations. */
function registerDb(program: Command): void {
  const db = program.command('db').description('the database: migrations');
  db.command('migrate')
    .description('apply pending migrations (also done automatically at start)')
    .action(async () => {
      const { migrateDeploy } = await import('@bank/catalog/migrate');
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
      const { migrateStatus } = await import('@bank/catalog/migrate');
      const { databaseUrl } = await import('../server/runtime.ts');
      const r = await migrateStatus(databaseUrl(program.opts<{ db?: string }>().db));
      process.stdout.write(
        r.ok
          ? 'migrations and schema are in sync\n'
          : `${[...r.pending.map((p) => `pending: ${p}`), ...r.problems].join('\n')}\n`,
      );
      process.exitCode = r.ok ? 0 : 1;
    });
}

/** `--scope catalog:write,deploys:write`: each must be one of TOKEN_SCOPES. */
export function parseScopes(raw: string): TokenScope[] {
  const scopes = [...new Set(raw.split(/[,\s+]+/).filter((s) => s !== ''))];
  const bad = scopes.filter((s) => !(TOKEN_SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || bad.length > 0)
    throw new UsageError(
      `--scope ${bad.length ? `has unknown ${bad.map((s) => `"${s}"`).join(', ')}` : 'is empty'}; use ${TOKEN_SCOPES.join(', ')}`,
    );
  return scopes as TokenScope[];
}

/** `--expires 90d` (also h, m) or an ISO date in the future; a token never lives more than 2 years. */
export function parseExpiry(raw: string, now = Date.now()): Date {
  const m = /^(\d{1,5})([dhm])$/.exec(raw.trim());
  const at = m
    ? new Date(now + Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm'])
    : new Date(raw);
  if (Number.isNaN(at.getTime()))
    throw new UsageError(`--expires must be like 90d, 12h, 30m or an ISO date, got "${raw}"`);
  if (at.getTime() <= now) throw new UsageError(`--expires ${raw} is in the past`);
  if (at.getTime() > now + 2 * 365 * 86_400_000)
    throw new UsageError(`--expires ${raw} is more than 2 years away`);
  return at;
}

/**
 * The traffic demo: the card-api → feed chain (plus one undeclared call) as real services on services/lib/rpc
 * in a child process, their OpenTelemetry exporters pointed at this portal.
 */
async function startTrafficDemo(portalUrl: string, token: string) {
  const { spawn } = await import('node:child_process');
  const path = await import('node:path');
  const { REPO_ROOT } = await import('../server/runtime.ts');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(REPO_ROOT, 'services/lib/rpc/example/chain.ts'), '--rate', '10'],
    {
      cwd: REPO_ROOT,
      // stdin is a pipe the demo watches: it ends when this process does, however it ends.
      stdio: ['pipe', 'inherit', 'inherit'],
      env: {
        ...process.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: portalUrl,
        OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${token}`,
      },
    },
  );
  process.stdout.write(
    `traffic demo: spans arrive within seconds. Look at ${portalUrl}/graph (dashed: seen only), ` +
      `${portalUrl}/paths?from=card-api&to=feed&via=observed, ${portalUrl}/entity/component/default/cards, ` +
      'and `npx portal drift` (cards → feed is called but declared nowhere).\n',
  );
  return child;
}
