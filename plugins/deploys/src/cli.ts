import { readFile } from 'node:fs/promises';
import {
  didYouMean,
  EXIT,
  formatTable,
  InputError,
  NotFoundError,
  PortalError,
  shortRef,
  UsageError,
} from '@bank/plugin-kit';
import type { Command } from 'commander';
import type { Deploy } from './lib/model.ts';
import type { ChangeTimeline, DeploysService, VersionSkew } from './lib/service.ts';

/** Where commands write and how they report their exit code (the process by default; a buffer in tests). */
export interface DeploysCliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  setExitCode(code: number): void;
  env: Record<string, string | undefined>;
}

const processIo: DeploysCliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  setExitCode: (code) => {
    process.exitCode = code;
  },
  env: process.env,
};

const ago = (iso: string, now: number): string => {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 90) return `${s}s ago`;
  if (s < 120 * 60) return `${Math.round(s / 60)}m ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
};

const by = (d: Deploy) => d.actor ?? d.recordedBy;

export function renderDeploys(deploys: Deploy[], demo: boolean, now = Date.now()): string {
  if (deploys.length === 0) return 'no deploys recorded\n';
  const rows = deploys.map((d) => [
    `${d.startedAt.slice(0, 16).replace('T', ' ')} (${ago(d.startedAt, now)})`,
    shortRef(d.service),
    d.environment,
    d.version,
    d.status,
    by(d),
    d.id,
  ]);
  return `${formatTable(['started (UTC)', 'service', 'env', 'version', 'status', 'by', 'id'], rows)}\n${demo ? 'demo history (generated): real deploy events replace it\n' : ''}`;
}

export function renderChanges(t: ChangeTimeline, now = Date.now()): string {
  const what =
    t.scope.kind === 'path'
      ? `path ${shortRef(t.scope.from)} → ${shortRef(t.scope.to)}`
      : `${t.scope.kind} ${shortRef(t.scope.ref)}`;
  const changed = t.services.filter((s) => s.changed);
  const lines = [
    `${what}: ${changed.length} of ${t.services.length} services changed since ${t.since.slice(0, 16).replace('T', ' ')} UTC`,
  ];
  for (const s of t.services) {
    const envs = t.environments
      .map((env) => {
        const d = s.last[env];
        return d
          ? `${env} ${d.version} ${d.status} ${ago(d.startedAt, now)} by ${by(d)}`
          : `${env} not deployed yet`;
      })
      .join(' | ');
    lines.push(`  ${s.changed ? '●' : ' '} ${s.name.padEnd(24)} ${envs}`);
  }
  lines.push('');
  lines.push(t.deploys.length ? renderDeploys(t.deploys, t.demo, now).trimEnd() : 'no deploys in the window');
  return `${lines.join('\n')}\n`;
}

export function renderSkew(s: VersionSkew, now = Date.now()): string {
  const [first, last] = s.environments;
  const head = `${last} older than ${s.olderThanDays} days or more than one release behind ${first}`;
  if (s.services.length === 0) return `${head}: none\n`;
  const rows = s.services.map((x) => [
    shortRef(x.service),
    x.staging ?? '—',
    x.prod ?? '—',
    x.prodSince ? `${x.prodSince.slice(0, 10)} (${ago(x.prodSince, now)})` : '—',
    String(x.releasesBehind),
    [x.stale ? `older than ${s.olderThanDays}d` : '', x.behind ? `${x.releasesBehind} releases behind` : '']
      .filter(Boolean)
      .join(', '),
  ]);
  return `${head}: ${s.services.length} service${s.services.length === 1 ? '' : 's'}\n${formatTable(['service', first, last, `${last} since`, 'behind', 'why'], rows)}\n`;
}

/**
 * `portal deploys` (list, filtered), `portal deploys record` (one event, for a CI script) and `portal changes`
 * (the change timeline of a path, team, collective or blast radius). `--json` prints what the HTTP API does.
 */
export function registerDeploysCommands(
  program: Command,
  load: () => Promise<DeploysService>,
  io: DeploysCliIo = processIo,
): void {
  const cli: DeploysCli = { load, io, run: runner(io) };
  const deploys = registerDeploysList(program, cli);
  registerRecord(deploys, cli);
  registerSkew(deploys, cli);
  registerChanges(program, cli);
}

/** What every command gets: the service, where to write, and `run` (exit code and errors as the CLI reports them). */
interface DeploysCli {
  load: () => Promise<DeploysService>;
  io: DeploysCliIo;
  run: <A extends unknown[]>(action: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;
}

/** Wraps an action: exit 0 when it returns; on error, the message (and a "did you mean") and the exit code. */
function runner(io: DeploysCliIo): DeploysCli['run'] {
  return (action) =>
    async (...args) => {
      try {
        await action(...args);
        io.setExitCode(EXIT.ok);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        io.stderr(`portal: ${message}\n`);
        if (err instanceof NotFoundError) {
          const s = (err.details?.suggestions as string[] | undefined) ?? [];
          const hint = didYouMean(message, s);
          if (hint) io.stderr(`${hint}\n`);
          io.setExitCode(EXIT.error);
        } else if (err instanceof InputError || err instanceof UsageError) io.setExitCode(EXIT.usage);
        else if (err instanceof PortalError) io.setExitCode(EXIT.error);
        else io.setExitCode(EXIT.error);
      }
    };
}

/** `portal deploys`: the list, filtered; the parent of `record` and `skew`. */
function registerDeploysList(program: Command, { load, io, run }: DeploysCli): Command {
  return program
    .command('deploys')
    .description('deploys per service and environment, newest first (and `deploys record` for CI)')
    .option('--service <name>', 'one service (short name or ref)')
    .option('--team <name>', 'services of a squad or collective')
    .option('--env <name>', 'one environment')
    .option('--since <when>', '30m, 2h, 7d, 1w or an ISO 8601 time')
    .option('--limit <n>', 'at most this many, 1–10000', '100')
    .option('--json', 'the same JSON as GET /api/deploys')
    .action(
      run(
        async (opts: {
          service?: string;
          team?: string;
          env?: string;
          since?: string;
          limit: string;
          json?: boolean;
        }) => {
          const svc = await load();
          const result = await svc.list({
            service: opts.service,
            team: opts.team,
            env: opts.env,
            since: opts.since,
            limit: opts.limit,
          });
          io.stdout(
            opts.json ? `${JSON.stringify(result, null, 2)}\n` : renderDeploys(result.deploys, result.demo),
          );
        },
      ),
    );
}

/** `portal deploys record`: one deploy event from --file and/or options, stored as POST /api/deploys would. */
function registerRecord(deploys: Command, { load, io, run }: DeploysCli): void {
  deploys
    .command('record')
    .description('record one deploy event (what CI sends to POST /api/deploys), from options or --file')
    .option('--file <path>', 'a JSON deploy event ("-" for stdin); options below override its fields')
    .option('--id <id>', 'the deploy id (e.g. the CI run id): sending it again changes nothing')
    .option('--service <name>')
    .option('--environment <name>')
    .option('--version <version>')
    .option('--image <image>', 'image with digest, e.g. registry/card-api@sha256:…')
    .option('--commit <sha>')
    .option('--actor <who>', 'who deployed')
    .option('--status <status>', 'started | succeeded | failed | rolled_back')
    .option('--started-at <iso>', 'ISO 8601 (default: now)')
    .option('--finished-at <iso>', 'ISO 8601 (default: now unless status is started)')
    .option('--label <k=v...>', 'extra fields, kept as labels')
    .option('--json', 'print the stored deploy as JSON')
    .action(
      run(async (_opts: unknown, cmd: Command) => {
        // `--service` and `--json` are also options of `deploys` itself, which takes them first.
        const opts = cmd.optsWithGlobals<Record<string, string | string[] | boolean | undefined>>();
        const event = await eventFrom(opts);
        const svc = await load();
        const result = await svc.record(event, `cli:${io.env.USER ?? 'unknown'}`, 'cli');
        if (opts.json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
        else {
          const d = result.deploy;
          const what = {
            created: 'recorded',
            updated: 'moved on to',
            replayed: 'already recorded:',
            late: 'already further along:',
          }[result.outcome];
          io.stdout(
            `${what} ${d.id}: ${shortRef(d.service)} ${d.version} to ${d.environment}, ${d.status}\n`,
          );
          if (result.droppedDemo)
            io.stdout(
              `dropped ${result.droppedDemo} demo deploys: real deploys replace the generated history\n`,
            );
        }
      }),
    );
}

/** The options the event's fields come from (option name → field). */
const EVENT_FIELDS = [
  'id',
  'service',
  'environment',
  'version',
  'image',
  'commit',
  'actor',
  'status',
  'startedAt',
  'finishedAt',
] as const;

/** The deploy event of `record`: the --file's JSON object, options over its fields, times defaulting to now. */
async function eventFrom(
  opts: Record<string, string | string[] | boolean | undefined>,
): Promise<Record<string, unknown>> {
  let event: Record<string, unknown> = {};
  if (typeof opts.file === 'string') {
    const text = opts.file === '-' ? await readStdin() : await readFile(opts.file, 'utf8');
    try {
      event = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new InputError(`${opts.file}: not valid JSON: ${(err as Error).message}`);
    }
    if (typeof event !== 'object' || event === null || Array.isArray(event))
      throw new InputError(`${opts.file}: a deploy event is a JSON object`);
  }
  for (const field of EVENT_FIELDS) if (typeof opts[field] === 'string') event[field] = opts[field];
  const now = new Date().toISOString();
  event.startedAt ??= now;
  if (event.status !== 'started') event.finishedAt ??= now;
  for (const kv of (opts.label as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`--label ${kv}: expected key=value`);
    event[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return event;
}

/** `portal deploys skew`: prod versions too old or too far behind staging. */
function registerSkew(deploys: Command, { load, io, run }: DeploysCli): void {
  deploys
    .command('skew')
    .description('services whose prod version is older than N days or more than one release behind staging')
    .option('--days <n>', 'how old a prod version may be, in days', '30')
    .option('--json', 'the same JSON as GET /api/deploys/skew')
    .action(
      run(async (_opts: unknown, cmd: Command) => {
        // `--json` is also an option of `deploys` itself, which takes it first.
        const opts = cmd.optsWithGlobals<{ days: string; json?: boolean }>();
        if (!/^\d+(\.\d+)?$/.test(opts.days.trim()))
          throw new UsageError(`--days ${opts.days}: a positive number of days`);
        const svc = await load();
        const skew = await svc.skew(Number(opts.days));
        io.stdout(opts.json ? `${JSON.stringify(skew, null, 2)}\n` : renderSkew(skew));
      }),
    );
}

/** `portal changes`: the change timeline of a path, a team, a collective, a blast radius or a service. */
function registerChanges(program: Command, { load, io, run }: DeploysCli): void {
  program
    .command('changes')
    .description('what changed (deploys) on a call path, a team, a collective or a blast radius')
    .option('--path <from_to...>', 'two services: the call path from the first to the second')
    .option('--team <name>', 'a squad')
    .option('--collective <name>', 'a collective')
    .option('--impact <ref>', 'the blast radius of a service (it and everything that calls it)')
    .option('--service <name>', 'one service')
    .option('--since <when>', '30m, 2h, 7d, 1w or an ISO 8601 time', '24h')
    .option('--json', 'the same JSON as GET /api/deploys/changes')
    .action(
      run(
        async (opts: {
          path?: string[];
          team?: string;
          collective?: string;
          impact?: string;
          service?: string;
          since: string;
          json?: boolean;
        }) => {
          if (opts.path && opts.path.length !== 2)
            throw new UsageError(`--path takes two services, from and to (got ${opts.path.length})`);
          const svc = await load();
          const t = await svc.changes({
            from: opts.path?.[0],
            to: opts.path?.[1],
            team: opts.team,
            collective: opts.collective,
            impact: opts.impact,
            service: opts.service,
            since: opts.since,
          });
          io.stdout(opts.json ? `${JSON.stringify(t, null, 2)}\n` : renderChanges(t));
        },
      ),
    );
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
