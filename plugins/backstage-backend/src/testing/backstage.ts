/**
 * A real Backstage backend in a child process for tests and benches: @backstage/backend-defaults with the
 * catalogue and this plugin's built dist/ (dev/backend.cjs), or with the catalogue only (`catalogOnly`:
 * dev/catalog-backend.cjs, the stock catalogue backend plus the Template kind), on 127.0.0.1, in-memory
 * SQLite, with one static access token (Backstage's externalAccess), fed from a Location listing the given
 * descriptor files and from `locations` as an app-config lists them (each with its own rules).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PACKAGE = join(import.meta.dirname, '..', '..');

export interface RunningBackstage {
  baseUrl: string;
  /** A static access token the backend accepts (subject `portal-graph-test`). */
  token: string;
  /** What the backend wrote so far (stdout and stderr), for failure messages. */
  output: () => string;
  stop: () => Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** Starts the backend and resolves once its catalogue answers (not once it has processed everything). */
export async function startBackstage(opts: {
  descriptors?: string[];
  /** `catalog.locations` entries beside the Location of `descriptors`, as an app-config writes them. */
  locations?: { type: 'file' | 'url'; target: string; rules?: { allow: string[] }[] }[];
  /** `backend.reading.allow`: hosts (`host:port`) url locations may be read from. */
  readingAllow?: string[];
  /** `catalog.rules` (default: the eight kinds of catalog-model). */
  rules?: { allow: string[] }[];
  /** The stock catalogue backend without the portal-graph plugin (no build of dist/ needed). */
  catalogOnly?: boolean;
  timeoutMs?: number;
}): Promise<RunningBackstage> {
  const dir = mkdtempSync(join(tmpdir(), 'backstage-'));
  const port = await freePort();
  const token = randomBytes(24).toString('base64url');
  const baseUrl = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(dir, 'locations.yaml'),
    JSON.stringify({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Location',
      metadata: { name: 'portal-graph-test' },
      spec: { targets: opts.descriptors ?? [] },
    }),
  );
  // JSON is YAML: Backstage's config loader reads it as it is.
  writeFileSync(
    join(dir, 'app-config.yaml'),
    JSON.stringify({
      app: { baseUrl },
      backend: {
        baseUrl,
        listen: { host: '127.0.0.1', port },
        database: { client: 'better-sqlite3', connection: ':memory:' },
        auth: { externalAccess: [{ type: 'static', options: { token, subject: 'portal-graph-test' } }] },
        ...(opts.readingAllow ? { reading: { allow: opts.readingAllow.map((host) => ({ host })) } } : {}),
      },
      catalog: {
        rules: opts.rules ?? [
          { allow: ['Component', 'API', 'Resource', 'System', 'Domain', 'Group', 'User', 'Location'] },
        ],
        locations: [{ type: 'file', target: join(dir, 'locations.yaml') }, ...(opts.locations ?? [])],
      },
    }),
  );
  let output = '';
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(PACKAGE, 'dev', opts.catalogOnly ? 'catalog-backend.cjs' : 'backend.cjs'),
      '--config',
      join(dir, 'app-config.yaml'),
    ],
    { cwd: PACKAGE, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  while (true) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`Backstage exited with ${child.exitCode} before answering:\n${output.slice(-4000)}`);
    }
    try {
      const res = await fetch(`${baseUrl}/api/catalog/entities?limit=1`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `Backstage did not answer within ${opts.timeoutMs ?? 60_000} ms:\n${output.slice(-4000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { baseUrl, token, output: () => output, stop };
}
