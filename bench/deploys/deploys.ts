/**
 * Deploy events: accepted per second over HTTP, how soon an accepted event is visible, and the path change
 * timeline over many stored events. Prints JSON.
 *
 *   npx tsx bench/deploys/deploys.ts [--events 5000] [--concurrency 16] [--stored 1000000] [--runs 200]
 *                                    [--db sqlite|postgresql]
 *
 * PostgreSQL is a throwaway cluster from scripts/pg-harness.mjs (under $TMPDIR, port TEST_PG_PORT + 1,
 * else 54330), a fresh database per run.
 *
 * A real portal server (services/ ingested into a fresh SQLite file or PostgreSQL database, real auth with a bearer token) on
 * 127.0.0.1. The per-caller write limit (20/s by default, a guard against floods) is raised for the run:
 * the figure is what the portal can take from a fleet of CI runners, not from one token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';
import type { ResolvedDeployEvent } from '@bank/plugin-deploys';
import { startServer } from '../../portal/server/server.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '16' },
    stored: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '200' },
    db: { type: 'string', default: 'sqlite' },
  },
});
const EVENTS = Number(values.events);
const CONCURRENCY = Number(values.concurrency);
const STORED = Number(values.stored);
const RUNS = Number(values.runs);
const TOKEN = 'bench-deployer';

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const summary = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: +pct(s, 50).toFixed(2),
    p95: +pct(s, 95).toFixed(2),
    p99: +pct(s, 99).toFixed(2),
    max: +s[s.length - 1].toFixed(2),
  };
};

/**
 * A GET, once more on ECONNRESET: after the long seeding the client may reuse a keep-alive socket the
 * server has just closed (its 65 s keep-alive). Counted, so the report says if it happened.
 */
let resets = 0;
async function getAgain(url: string): Promise<void> {
  try {
    await (await fetch(url)).arrayBuffer();
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw err;
    resets++;
    await (await fetch(url)).arrayBuffer();
  }
}

async function main() {
  process.env.PORTAL_API_TOKENS = TOKEN;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-deploys-'));
  let url = `file:${path.join(dir, 'portal.db')}`;
  let stopPg: (() => Promise<void>) | undefined;
  if (values.db === 'postgresql') {
    // @ts-expect-error plain ESM helper without types
    const harness = await import('../../scripts/pg-harness.mjs');
    const pg = await harness.startPostgres({
      dir: path.join(os.tmpdir(), 'bench-deploys-pg'),
      port: process.env.TEST_PG_PORT ? Number(process.env.TEST_PG_PORT) + 1 : 54330,
    });
    if (pg.started) stopPg = pg.stop;
    url = await harness.createDatabase(pg.url, `bench_deploys_${Date.now().toString(36)}`);
  } else if (values.db !== 'sqlite') throw new Error(`--db: sqlite or postgresql, got ${values.db}`);
  const store = await CatalogStore.open(url);
  const catalog = new CatalogService(store, [path.resolve(import.meta.dirname, '..', '..', 'services')]);
  await catalog.ingest();
  const server = await startServer({
    catalog,
    port: 0,
    ui: false,
    limits: { writesPerSecond: 1_000_000, writeBurst: 1_000_000 },
  });
  const deploys = server.context.deploys;
  const services = [...catalog.loaded.refs].filter((r) => r.startsWith('component:')).sort();
  const post = async (body: unknown) => {
    const res = await fetch(`${server.url}/api/deploys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await res.arrayBuffer();
    return res.status;
  };
  const event = (i: number, now = Date.now()) => ({
    id: `bench-${i}`,
    service: services[i % services.length].replace('component:default/', ''),
    environment: i % 3 === 0 ? 'staging' : 'prod',
    version: `v1.${i % 40}.${i % 20}`,
    image: `registry.bank.internal/svc:v1.${i % 40}.${i % 20}`,
    commit: (i * 2654435761).toString(16).padStart(12, '0').slice(-12),
    actor: 'ci-bot',
    status: 'succeeded',
    startedAt: new Date(now - 120_000).toISOString(),
    finishedAt: new Date(now - 60_000).toISOString(),
  });

  // 1. Accepted per second: CONCURRENCY callers posting back to back.
  let next = 0;
  let refused = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < EVENTS; i = next++) if ((await post(event(i))) !== 201) refused++;
    }),
  );
  const acceptSeconds = (performance.now() - t0) / 1000;

  // 2. Visible after acceptance: entity card state and the change timeline, read over HTTP right after the 201.
  const visible: { state: number[]; changes: number[] } = { state: [], changes: [] };
  for (let r = 0; r < 50; r++) {
    const i = EVENTS + r;
    const ev = event(i);
    if ((await post(ev)) !== 201) throw new Error('visibility event refused');
    for (const [kind, url] of [
      ['state', `/api/deploys/state?service=${ev.service}`],
      ['changes', `/api/deploys/changes?service=${ev.service}&since=1h`],
    ] as const) {
      const start = performance.now();
      for (;;) {
        const body = (await (await fetch(`${server.url}${url}`)).json()) as {
          recent?: { id: string }[];
          deploys?: { id: string }[];
        };
        if ((body.recent ?? body.deploys ?? []).some((d) => d.id === ev.id)) break;
        if (performance.now() - start > 5000) throw new Error(`${ev.id} not visible in ${kind} after 5 s`);
      }
      visible[kind].push(performance.now() - start);
    }
  }

  // 3. The path change timeline with STORED events in the store (30 days, every service, both environments).
  const now = Date.now();
  const t1 = performance.now();
  const batch: ResolvedDeployEvent[] = [];
  let seeded = 0;
  for (let i = 0; i < STORED; i++) {
    const startedAtMs = now - Math.floor((((i * 7919) % 1_000_003) / 1_000_003) * 30 * 86_400_000);
    batch.push({
      id: `seed-${i}`,
      service: services[(i * 31) % services.length],
      environment: i % 2 === 0 ? 'prod' : 'staging',
      version: `v2.${i % 50}.${i % 30}`,
      image: null,
      commit: null,
      actor: 'seed',
      status: i % 37 === 0 ? 'failed' : 'succeeded',
      startedAtMs,
      finishedAtMs: startedAtMs + 300_000,
      labels: null,
    });
    if (batch.length === 50_000 || i === STORED - 1) {
      await deploys.deploys.insertMany(batch, { source: 'api', recordedBy: 'bench', receivedAtMs: now });
      seeded += batch.length;
      batch.length = 0;
    }
  }
  const seedSeconds = (performance.now() - t1) / 1000;
  const total = await deploys.deploys.count();
  const timeline: Record<
    string,
    ReturnType<typeof summary> & { services?: number; deploysInWindow?: number }
  > = {};
  for (const since of ['2h', '24h', '7d']) {
    const inProcess: number[] = [];
    const http: number[] = [];
    let shape = { services: 0, deploysInWindow: 0 };
    for (let r = 0; r < RUNS; r++) {
      let s = performance.now();
      const t = await deploys.changes({ from: 'card-api', to: 'feed', since });
      inProcess.push(performance.now() - s);
      shape = { services: t.services.length, deploysInWindow: t.deploys.length };
      s = performance.now();
      await getAgain(`${server.url}/api/deploys/changes?from=card-api&to=feed&since=${since}`);
      http.push(performance.now() - s);
    }
    timeline[`since ${since}, in process`] = { ...summary(inProcess), ...shape };
    timeline[`since ${since}, over HTTP`] = summary(http);
  }

  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'deploys',
        when: new Date().toISOString(),
        machine: { cpus: os.cpus().length, node: process.version },
        database: values.db === 'postgresql' ? 'postgresql 15 (local, fsync off)' : 'sqlite (file, WAL)',
        accepted: {
          events: EVENTS,
          concurrency: CONCURRENCY,
          refused,
          seconds: +acceptSeconds.toFixed(2),
          eventsPerSecond: Math.round(EVENTS / acceptSeconds),
        },
        visibleAfterAcceptMs: {
          entityCardState: summary(visible.state),
          changeTimeline: summary(visible.changes),
        },
        timeline: {
          connectionResetsRetried: resets,
          storedEvents: total,
          seeded,
          seedSeconds: +seedSeconds.toFixed(1),
          runs: RUNS,
          ms: timeline,
        },
      },
      null,
      2,
    )}\n`,
  );
  await server.close();
  await store.close();
  await stopPg?.();
  rmSync(dir, { recursive: true, force: true });
}

await main();
process.exit(0);
