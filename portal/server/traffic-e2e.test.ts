/**
 * The end-to-end test of observed traffic: real services built on services/lib/rpc (card-api →
 * card-processing → cards → transactions, and cards → feed, which no descriptor declares) send their spans
 * through the real OpenTelemetry JS SDK (BatchSpanProcessor + the OTLP/HTTP protobuf exporter, configured
 * from OTEL_EXPORTER_OTLP_* as any service would be) to a real portal serving the bank's estate (services/,
 * a real SQLite store). Nothing here writes a span by hand.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';
import {
  type Client,
  createClient,
  envExporter,
  listen,
  Router,
  RpcError,
  type RpcServer,
  resetEnvExporter,
} from '@bank/rpc';
import { REPO_ROOT } from './runtime.ts';
import { type RunningServer, startServer } from './server.ts';

const TOKEN = 'e2e-traffic-token';
const GOOD = 15;
const BAD = 5;

interface Edge {
  from: string;
  to: string;
  requests: number;
  errors: number;
  health: Record<'1m' | '1h', { requests: number; errorRate: number; p50Ms: number; p99Ms: number }>;
}

describe('end to end: rpc services → OpenTelemetry SDK → portal: observed edges, observed paths, drift', () => {
  let portal: RunningServer;
  let catalog: CatalogService;
  const services: RpcServer[] = [];
  const clients: Client[] = [];

  before(async () => {
    process.env.PORTAL_API_TOKENS = TOKEN;
    const dir = mkdtempSync(path.join(tmpdir(), 'traffic-e2e-'));
    catalog = new CatalogService(await CatalogStore.open(`file:${path.join(dir, 'p.db')}`), [
      path.join(REPO_ROOT, 'services'),
    ]);
    await catalog.ingest();
    portal = await startServer({ catalog, port: 0, ui: false });

    // What a deployed service gets from its environment.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = portal.url;
    process.env.OTEL_EXPORTER_OTLP_HEADERS = `Authorization=Bearer ${TOKEN}`;
    delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
    resetEnvExporter();

    const discovery: Record<string, string> = {};
    const client = (name: string) => {
      const c = createClient(name, { discovery: { [name]: discovery[name] }, maxRetries: 0 });
      clients.push(c);
      return c;
    };
    const serve = async (name: string, router: Router) => {
      const s = await listen(router.serve(), { name, host: '127.0.0.1', port: 0 });
      services.push(s);
      discovery[name] = s.url;
      return s;
    };
    await serve(
      'service.transactions',
      new Router().get('/transactions/:card', (req) => {
        if (req.params.card.startsWith('bad'))
          throw new RpcError('internal_service.ledger_down', 'the ledger is down');
        return { card: req.params.card, transactions: [] };
      }),
    );
    await serve(
      'service.feed',
      new Router().get('/feed/:card', () => ({ items: [] })),
    );
    // Each caller's client is made once its callee listens (discovery is a fixed map here, RPC_DISCOVERY-style).
    const transactions = client('service.transactions');
    const feed = client('service.feed');
    await serve(
      'service.cards',
      new Router().get('/cards/:id', async (req) => {
        // The undeclared call: cards reads the feed, and no descriptor says so.
        await feed.get(`/feed/${req.params.id}`);
        return { id: req.params.id, recent: await transactions.get(`/transactions/${req.params.id}`) };
      }),
    );
    const cards = client('service.cards');
    await serve(
      'service.card-processing',
      new Router().get('/process/:id', (req) => cards.get(`/cards/${req.params.id}`)),
    );
    const cardProcessing = client('service.card-processing');
    const cardApi = await serve(
      'service.card-api',
      new Router().get('/v1/cards/:id', (req) => cardProcessing.get(`/process/${req.params.id}`)),
    );

    const statuses: number[] = [];
    for (let i = 0; i < GOOD + BAD; i++) {
      // Failures interleaved: five in a row would trip failure accrual and open the circuit (as it should).
      const id = i % 4 === 0 ? `bad-${i}` : `card-${i}`;
      const r = await fetch(`${cardApi.url}/v1/cards/${id}`);
      statuses.push(r.status);
      await r.arrayBuffer();
    }
    assert.equal(statuses.filter((s) => s === 200).length, GOOD);
    assert.equal(statuses.filter((s) => s >= 500).length, BAD);
    await envExporter()?.flush();
  });

  after(async () => {
    for (const s of services) await s.stop(100);
    for (const c of clients) await c.close();
    await envExporter()?.shutdown();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
    resetEnvExporter();
    await portal.close();
    await catalog.store.close();
  });

  const edges = async (): Promise<Edge[]> =>
    ((await (await fetch(`${portal.url}/api/traffic/edges`)).json()) as { edges: Edge[] }).edges;
  const edge = (all: Edge[], from: string, to: string) =>
    all.find((e) => e.from === `component:default/${from}` && e.to === `component:default/${to}`);

  it('shows each observed edge with its requests, error rate and latency, sent as OTLP protobuf by the SDK', async () => {
    const all = await edges();
    const status = (await (await fetch(`${portal.url}/api/traffic/status`)).json()) as {
      received: { protobuf: number; json: number };
      unknownServices: string[];
    };
    assert.ok(status.received.protobuf > 0, 'the SDK exporter sent protobuf');
    assert.equal(status.received.json, 0);
    assert.deepEqual(status.unknownServices, [], 'every service.name resolved through bank.io/service-id');
    const expected: Array<[string, string, number, number]> = [
      ['card-api', 'card-processing', GOOD + BAD, BAD],
      ['card-processing', 'cards', GOOD + BAD, BAD],
      ['cards', 'transactions', GOOD + BAD, BAD],
      ['cards', 'feed', GOOD + BAD, 0],
    ];
    for (const [from, to, requests, errors] of expected) {
      const e = edge(all, from, to);
      assert.ok(e, `${from} → ${to} observed; got ${all.map((x) => `${x.from}→${x.to}`).join(', ')}`);
      assert.equal(e.requests, requests, `${from} → ${to} requests`);
      assert.equal(e.errors, errors, `${from} → ${to} errors`);
      assert.equal(e.health['1m'].errorRate, errors / requests);
      assert.ok(e.health['1h'].p50Ms > 0 && e.health['1h'].p99Ms >= e.health['1h'].p50Ms);
    }
    assert.equal(all.length, expected.length, 'no other edges');
    // A caller's latency includes its callees': card-api waits for the whole chain.
    const outer = edge(all, 'card-api', 'card-processing');
    const inner = edge(all, 'cards', 'transactions');
    assert.ok(outer && inner && outer.health['1h'].p50Ms >= inner.health['1h'].p50Ms);
  });

  it('traces card-api → transactions over observed edges only', async () => {
    const res = (await (
      await fetch(`${portal.url}/api/graph/paths?from=card-api&to=transactions&via=observed`)
    ).json()) as { paths: Array<{ hops: Array<{ name: string }>; edges: Array<{ sources: string[] }> }> };
    assert.deepEqual(
      res.paths[0].hops.map((h) => h.name),
      ['card-api', 'card-processing', 'cards', 'transactions'],
    );
    assert.ok(res.paths[0].edges.every((e) => e.sources.includes('observed')));
    assert.ok(
      res.paths[0].edges.every((e) => e.sources.includes('declared')),
      'this chain is declared too',
    );
  });

  it('reports the undeclared call as observed-only drift, owned by the caller’s squad', async () => {
    const res = (await (await fetch(`${portal.url}/api/graph/drift?status=observed-only`)).json()) as {
      findings: Array<{
        from: string;
        to: string;
        status: string;
        owner: string;
        since: string;
        requests: number;
      }>;
      summary: Record<string, number>;
    };
    assert.deepEqual(
      res.findings.map((f) => [f.from, f.to, f.status, f.owner, f.requests]),
      [
        [
          'component:default/cards',
          'component:default/feed',
          'observed-only',
          'group:default/card-issuing',
          GOOD + BAD,
        ],
      ],
    );
    assert.ok(Date.parse(res.findings[0].since) <= Date.now());
    assert.equal(res.summary.both, 3);
    const team = (await (
      await fetch(`${portal.url}/api/graph/drift?team=card-issuing&status=observed-only`)
    ).json()) as {
      findings: unknown[];
    };
    assert.equal(team.findings.length, 1);
  });
});
