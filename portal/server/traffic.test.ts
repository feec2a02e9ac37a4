import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CatalogStore } from '@bank/catalog';
import { component, ORG, writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { ExportTraceServiceRequest, ExportTraceServiceResponse } from '@bank/plugin-traffic';
import { type RunningServer, startServer } from './server.ts';

const TOKEN = 'traffic-token-1';
const LIMIT = 64 * 1024;

interface Call {
  caller: string;
  callee: string;
  ms?: number;
  error?: boolean;
}

/** OTLP protobuf for traced calls: per call a CLIENT span in the caller and a SERVER span in the callee. */
function protobufCalls(calls: Call[]): Uint8Array {
  const byService = new Map<string, object[]>();
  const add = (service: string, span: object) =>
    byService.set(service, [...(byService.get(service) ?? []), span]);
  const now = BigInt(Date.now()) * 1_000_000n;
  for (const c of calls) {
    const traceId = randomBytes(16);
    const clientId = randomBytes(8);
    const ms = BigInt(c.ms ?? 10) * 1_000_000n;
    add(c.caller, {
      traceId,
      spanId: clientId,
      parentSpanId: randomBytes(8),
      name: 'GET /x',
      kind: 3,
      startTimeUnixNano: String(now),
      endTimeUnixNano: String(now + ms),
      attributes: [{ key: 'peer.service', value: { stringValue: c.callee } }],
      status: { code: c.error ? 2 : 0 },
    });
    add(c.callee, {
      traceId,
      spanId: randomBytes(8),
      parentSpanId: clientId,
      name: 'GET /x',
      kind: 2,
      startTimeUnixNano: String(now + 1000n),
      endTimeUnixNano: String(now + ms - 1000n),
      attributes: [{ key: 'http.response.status_code', value: { intValue: c.error ? 500 : 200 } }],
      status: { code: 0 },
    });
  }
  const msg = ExportTraceServiceRequest.fromObject({
    resourceSpans: [...byService].map(([service, spans]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ scope: { name: 'test' }, spans }],
    })),
  });
  return ExportTraceServiceRequest.encode(msg).finish();
}

describe('OTLP/HTTP receiver and observed edges, over real HTTP with a real SQLite store', () => {
  let server: RunningServer;
  let catalog: CatalogService;
  let dbUrl: string;
  const dir = writeTree({
    'org/catalog-info.yaml': ORG,
    'card-api/catalog-info.yaml': component('card-api', {
      owner: 'accounts',
      dependsOn: ['component:cards'],
    }),
    'cards/catalog-info.yaml': component('cards', { dependsOn: ['component:transactions'] }),
    'transactions/catalog-info.yaml': component('transactions'),
    'feed/catalog-info.yaml': component('feed'),
  });

  const start = async () => {
    catalog = new CatalogService(await CatalogStore.open(dbUrl), [dir]);
    await catalog.ingest();
    server = await startServer({ catalog, port: 0, ui: false });
  };
  const stop = async () => {
    await server.close();
    await catalog.store.close();
  };

  before(async () => {
    process.env.PORTAL_API_TOKENS = TOKEN;
    process.env.TRAFFIC_MAX_BODY_BYTES = String(LIMIT);
    process.env.TRAFFIC_MAX_UNKNOWN_SERVICES = '20';
    dbUrl = `file:${path.join(mkdtempSync(path.join(tmpdir(), 'traffic-srv-')), 'p.db')}`;
    await start();
  });
  after(async () => {
    await stop();
    delete process.env.TRAFFIC_MAX_BODY_BYTES;
    delete process.env.TRAFFIC_MAX_UNKNOWN_SERVICES;
  });

  const post = (body: Uint8Array | string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers: {
        'content-type': typeof body === 'string' ? 'application/json' : 'application/x-protobuf',
        authorization: `Bearer ${TOKEN}`,
        ...headers,
      },
      body: typeof body === 'string' ? body : Buffer.from(body),
    });
  const edges = async (entity?: string) =>
    (
      (await (await fetch(`${server.url}/api/traffic/edges${entity ? `?entity=${entity}` : ''}`)).json()) as {
        edges: Array<{
          from: string;
          to: string;
          requests: number;
          errors: number;
          unknown: boolean;
          health: Record<string, { requests: number; errorRate: number; p50Ms: number; p99Ms: number }>;
        }>;
      }
    ).edges;

  it('takes OTLP protobuf, answers an empty ExportTraceServiceResponse, and shows the edges with health', async () => {
    const calls: Call[] = [
      ...Array.from({ length: 98 }, () => ({ caller: 'card-api', callee: 'cards', ms: 20 })),
      { caller: 'card-api', callee: 'cards', ms: 200, error: true },
      { caller: 'card-api', callee: 'cards', ms: 200, error: true },
      ...Array.from({ length: 4 }, () => ({ caller: 'cards', callee: 'feed', ms: 5 })),
    ];
    const res = await post(protobufCalls(calls));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-protobuf');
    const answer = ExportTraceServiceResponse.decode(new Uint8Array(await res.arrayBuffer()));
    assert.equal(answer.partialSuccess, null);
    const all = await edges();
    const cardApi = all.find(
      (e) => e.from === 'component:default/card-api' && e.to === 'component:default/cards',
    );
    assert.ok(cardApi);
    assert.equal(cardApi.requests, 100);
    assert.equal(cardApi.errors, 2);
    assert.equal(cardApi.health['1m'].errorRate, 0.02);
    assert.ok(Math.abs(cardApi.health['1h'].p50Ms - 20) < 1, `p50 ${cardApi.health['1h'].p50Ms}`);
    assert.ok(Math.abs(cardApi.health['1h'].p99Ms - 200) < 5, `p99 ${cardApi.health['1h'].p99Ms}`);
    // Observed edges are in the graph: cards → feed is declared nowhere, yet a path goes over it.
    const paths = (await (
      await fetch(`${server.url}/api/graph/paths?from=card-api&to=feed&via=observed`)
    ).json()) as { paths: Array<{ hops: Array<{ name: string }> }> };
    assert.deepEqual(
      paths.paths[0].hops.map((h) => h.name),
      ['card-api', 'cards', 'feed'],
    );
    const declared = (await (
      await fetch(`${server.url}/api/graph/paths?from=card-api&to=feed&via=declared`)
    ).json()) as { paths: unknown[] };
    assert.equal(declared.paths.length, 0);
  });

  it('drift: the undeclared call is observed-only, owned by the caller’s squad, since its first sight', async () => {
    const res = await fetch(`${server.url}/api/graph/drift`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      findings: Array<{ from: string; to: string; status: string; owner: string; since: string }>;
      summary: Record<string, number>;
    };
    const undeclared = body.findings.filter((f) => f.status === 'observed-only');
    assert.deepEqual(
      undeclared.map((f) => [f.from, f.to, f.owner]),
      [['component:default/cards', 'component:default/feed', 'group:default/ledger']],
    );
    assert.ok(Date.parse(undeclared[0].since) <= Date.now());
    const notSeen = body.findings.filter((f) => f.status === 'declared-only').map((f) => `${f.from}→${f.to}`);
    assert.deepEqual(notSeen, ['component:default/cards→component:default/transactions']);
    assert.equal(body.summary.both, 1);
    const team = (await (await fetch(`${server.url}/api/graph/drift?team=accounts`)).json()) as {
      findings: unknown[];
    };
    assert.equal(team.findings.length, 0, 'the accounts squad owns only card-api, whose call is declared');
    const feed = (await (await fetch(`${server.url}/api/graph/drift?entity=feed`)).json()) as {
      findings: Array<{ from: string; to: string }>;
      summary: Record<string, number>;
    };
    assert.deepEqual(
      feed.findings.map((f) => `${f.from}→${f.to}`),
      ['component:default/cards→component:default/feed'],
      'one entity’s drift: only the edges it calls or is called by',
    );
    assert.equal(feed.summary['observed-only'], 1);
    assert.equal(feed.summary['declared-only'], 0);
    const unknown = await fetch(`${server.url}/api/graph/drift?entity=no-such-service`);
    assert.equal(unknown.status, 404);
  });

  it('takes OTLP JSON, gzip too, and answers partial success naming each refused span', async () => {
    const traceId = randomBytes(16).toString('hex');
    const json = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'transactions' } }] },
          scopeSpans: [
            {
              spans: [
                { traceId, spanId: 'abcd', kind: 3, startTimeUnixNano: '1', endTimeUnixNano: '2' },
                {
                  traceId,
                  spanId: randomBytes(8).toString('hex'),
                  kind: 3,
                  startTimeUnixNano: '1700000000000000000',
                  endTimeUnixNano: '1700000000001000000',
                  attributes: [{ key: 'peer.service', value: { stringValue: 'ledger-db' } }],
                },
              ],
            },
          ],
        },
      ],
    });
    // The gzip bytes go as bytes (a string body would be re-encoded as UTF-8).
    const res2 = await fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        authorization: `Bearer ${TOKEN}`,
      },
      body: gzipSync(json),
    });
    assert.equal(res2.status, 200);
    const body = (await res2.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
    assert.equal(body.partialSuccess.rejectedSpans, '1');
    assert.match(body.partialSuccess.errorMessage, /spans\[0\]: spanId must be 8 bytes/);
  });

  it('refuses without a token (401), bad protobuf and JSON (400), an unknown type (400)', async () => {
    const noToken = await fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"resourceSpans":[]}',
    });
    assert.equal(noToken.status, 401);
    assert.match(((await noToken.json()) as { error: { message: string } }).error.message, /Bearer/);
    const badPb = await post(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    assert.equal(badPb.status, 400);
    assert.match(((await badPb.json()) as { error: { message: string } }).error.message, /not an OTLP/);
    const badJson = await post('{"resourceSpans": [');
    assert.equal(badJson.status, 400);
    const text = await post('hello', { 'content-type': 'text/plain' });
    assert.equal(text.status, 400);
  });

  it('refuses a body over the limit with 413: by its length, as it streams, and a gzip bomb by what it inflates to', async () => {
    const big = await post(new Uint8Array(LIMIT + 1));
    assert.equal(big.status, 413);
    // A chunked body (no Content-Length) is counted as it arrives; the server answers before it ends.
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${server.url}/v1/traces`);
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${TOKEN}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      let sent = 0;
      const write = () => {
        // Keep sending far past the limit until the answer comes: it must come before 16× the limit.
        if (sent > LIMIT * 16) return req.end();
        sent += 8192;
        req.write(Buffer.alloc(8192), () => setImmediate(write));
      };
      write();
    });
    assert.equal(status, 413);
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    assert.ok(bomb.length < LIMIT, 'the bomb itself is small');
    const res = await post(bomb, { 'content-encoding': 'gzip' });
    assert.equal(res.status, 413);
    assert.match(
      ((await res.json()) as { error: { message: string } }).error.message,
      /inflates to more than/,
    );
  });

  it('bounds a flood of distinct unknown service names, reports it, and keeps what it had', async () => {
    const before = (await edges()).find((e) => e.from === 'component:default/card-api')?.requests;
    const calls = Array.from({ length: 200 }, (_, i) => ({ caller: 'card-api', callee: `rogue-${i}` }));
    const res = await post(protobufCalls(calls));
    assert.equal(res.status, 200);
    const answer = ExportTraceServiceResponse.decode(new Uint8Array(await res.arrayBuffer()));
    assert.ok(Number(answer.partialSuccess?.rejectedSpans) >= 180 * 2);
    assert.match(String(answer.partialSuccess?.errorMessage), /not in the catalogue/);
    const status = (await (await fetch(`${server.url}/api/traffic/status`)).json()) as {
      unknownServices: string[];
    };
    assert.equal(status.unknownServices.length, 20);
    const rogue = (await edges()).filter((e) => e.unknown);
    assert.ok(rogue.length > 0 && rogue.length <= 20);
    assert.ok(rogue.every((e) => e.to.startsWith('component:unknown/rogue-')));
    assert.equal((await edges()).find((e) => e.from === 'component:default/card-api')?.requests, before);
  });

  it('a restart loses nothing accepted: the edges and the graph come back from the store', async () => {
    const beforeRestart = await edges();
    await stop();
    await start();
    const afterRestart = await edges();
    const key = (e: { from: string; to: string; requests: number; errors: number }) =>
      `${e.from}→${e.to}:${e.requests}/${e.errors}`;
    // Everything there before, plus the client span that still waited for a partner: a clean stop settles it
    // (to a virtual callee named by its peer.service) rather than dropping it.
    assert.deepEqual(
      afterRestart.map(key).sort(),
      [...beforeRestart.map(key), 'component:default/transactions→component:unknown/ledger-db:1/0'].sort(),
    );
    const paths = (await (
      await fetch(`${server.url}/api/graph/paths?from=card-api&to=feed&via=observed`)
    ).json()) as { paths: unknown[] };
    assert.equal(paths.paths.length, 1);
  });
});
