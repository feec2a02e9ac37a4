import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { componentSpec, ORG_SPECS, writeTestEstate } from '@bank/catalog/testing';

export const REPO = path.resolve(import.meta.dirname, '..', '..', '..', '..');
const BIN = path.join(REPO, 'portal', 'bin', 'portal.mjs');

/** Node's own fetch, kept before a DOM library replaces the globals: the tests talk to a real portal. */
export const nodeFetch: typeof fetch = globalThis.fetch.bind(globalThis);

export interface RunningPortal {
  url: string;
  token: string;
  close(): Promise<void>;
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...extra };
  delete env.NODE_TEST_CONTEXT;
  delete env.DATABASE_URL;
  return env;
}

/**
 * A real `portal serve` in its own process: `portal ingest <catalogue>` into a fresh SQLite file, then serve
 * on a free port of 127.0.0.1. A write token is accepted through PORTAL_API_TOKENS.
 */
export async function startPortal(catalogue: string): Promise<RunningPortal> {
  const dir = mkdtempSync(path.join(tmpdir(), 'backstage-portal-'));
  const db = `file:${path.join(dir, 'portal.db')}`;
  const token = randomBytes(16).toString('hex');
  const env = childEnv({ PORTAL_API_TOKENS: token, PORTAL_CATALOG_ROOT: catalogue });
  const ingest = spawnSync(process.execPath, [BIN, '--db', db, 'ingest', catalogue], {
    env,
    encoding: 'utf8',
  });
  if (ingest.status !== 0) throw new Error(`portal ingest failed (${ingest.status}): ${ingest.stderr}`);
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, '--db', db, 'serve', '--port', '0', '--no-watch'],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`portal serve exited ${code}: ${stderr}`)));
  });
  return {
    url,
    token,
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Records a deploy through the portal's public write API (POST /api/deploys, bearer token). */
export async function recordDeploy(
  portal: RunningPortal,
  event: { id: string; service: string; environment: string; version: string; minutesAgo: number },
): Promise<void> {
  const started = new Date(Date.now() - event.minutesAgo * 60_000);
  const res = await nodeFetch(`${portal.url}/api/deploys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${portal.token}` },
    body: JSON.stringify({
      id: event.id,
      service: event.service,
      environment: event.environment,
      version: event.version,
      status: 'succeeded',
      actor: 'ci-pipeline',
      startedAt: started.toISOString(),
      finishedAt: new Date(started.getTime() + 60_000).toISOString(),
    }),
  });
  if (res.status !== 201) throw new Error(`deploy not recorded: ${res.status} ${await res.text()}`);
}

/** Sends traced calls (OTLP/HTTP JSON: a CLIENT span in the caller, a SERVER span in the callee) to the portal. */
export async function sendCalls(portal: RunningPortal, calls: Array<{ caller: string; callee: string }>) {
  const byService = new Map<string, object[]>();
  const add = (service: string, span: object) =>
    byService.set(service, [...(byService.get(service) ?? []), span]);
  const now = BigInt(Date.now()) * 1_000_000n;
  for (const c of calls) {
    const traceId = randomBytes(16).toString('hex');
    const clientId = randomBytes(8).toString('hex');
    add(c.caller, {
      traceId,
      spanId: clientId,
      name: 'GET /x',
      kind: 3,
      startTimeUnixNano: String(now),
      endTimeUnixNano: String(now + 10_000_000n),
      attributes: [{ key: 'peer.service', value: { stringValue: c.callee } }],
    });
    add(c.callee, {
      traceId,
      spanId: randomBytes(8).toString('hex'),
      parentSpanId: clientId,
      name: 'GET /x',
      kind: 2,
      startTimeUnixNano: String(now + 1000n),
      endTimeUnixNano: String(now + 9_000_000n),
      attributes: [{ key: 'http.response.status_code', value: { intValue: 200 } }],
    });
  }
  const body = {
    resourceSpans: [...byService].map(([service, spans]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ scope: { name: 'test' }, spans }],
    })),
  };
  const res = await nodeFetch(`${portal.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${portal.token}` },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`traces not accepted: ${res.status} ${await res.text()}`);
}

/**
 * The small estate the plugin's tests read (all declared in catalog-info.yaml):
 *   mobile-app → card-api → cards → feed;  web → card-api;  reports → web
 * Traces add card-api → fraud, declared nowhere. Squads: accounts (card-api, mobile-app), ledger (the rest).
 */
export function writeEstate(): string {
  return writeTestEstate({
    entities: [
      ...ORG_SPECS,
      componentSpec('card-api', { owner: 'accounts', tier: '1', dependsOn: ['component:cards'] }),
      componentSpec('cards', { tier: '1', dependsOn: ['component:feed'] }),
      componentSpec('feed'),
      componentSpec('fraud'),
      componentSpec('mobile-app', { owner: 'accounts', tier: '1', dependsOn: ['component:card-api'] }),
      componentSpec('web', { tier: '1', dependsOn: ['component:card-api'] }),
      componentSpec('reports', { tier: '3', dependsOn: ['component:web'] }),
    ],
  });
}

/**
 * A real portal serving writeEstate(), with what only the running system knows: a traced call card-api →
 * fraud (drift), a card-api release 90 minutes ago and a web release 30 minutes ago (deploy changes).
 */
export async function startEstatePortal(): Promise<RunningPortal> {
  const catalogue = writeEstate();
  const portal = await startPortal(catalogue);
  const close = portal.close;
  try {
    await sendCalls(portal, [{ caller: 'card-api', callee: 'fraud' }]);
    const deploy = { environment: 'prod' };
    await recordDeploy(portal, {
      ...deploy,
      id: 'd-1',
      service: 'card-api',
      version: '4.2.0',
      minutesAgo: 90,
    });
    await recordDeploy(portal, { ...deploy, id: 'd-2', service: 'web', version: '9.0.1', minutesAgo: 30 });
  } catch (err) {
    await close();
    throw err;
  }
  return {
    ...portal,
    close: async () => {
      await close();
      rmSync(catalogue, { recursive: true, force: true });
    },
  };
}
