import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createClient } from './client/client.ts';
import { RpcMetrics } from './metrics.ts';
import { bareServer, delay, rpcServer } from './testing.ts';
import { envExporter, resetEnvExporter } from './tracing.ts';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  kind: number;
  name: string;
  status: { code: number };
  attributes: Array<{ key: string; value: Record<string, string> }>;
}
interface Export {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue: string } }> };
    scopeSpans: Array<{ spans: OtlpSpan[] }>;
  }>;
}

test('CLIENT and SERVER spans go out through the OpenTelemetry SDK over OTLP/HTTP (JSON here) when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
  const batches: Export[] = [];
  const collector = await bareServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      assert.equal(req.url, '/v1/traces');
      batches.push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  cleanup.push(() => collector.close());
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.url;
  // The SDK's JSON exporter, so this test can read the batches; the default is protobuf (see the portal's
  // end-to-end test, where the portal decodes what the SDK's protobuf exporter sends).
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
  // What the template's Deployment sets: the resource carries the service id; service.name stays the
  // library's own (one process here serves two services).
  process.env.OTEL_RESOURCE_ATTRIBUTES = 'bank.io/service-id=service.cards,k8s.namespace.name=cards';
  process.env.OTEL_SERVICE_NAME = 'cards';
  resetEnvExporter();
  try {
    const metrics = new RpcMetrics();
    const ledger = await rpcServer((r) => r.get('/fail', () => Promise.reject(new Error('down'))), {
      name: 'service.ledger',
      metrics,
    });
    const toLedger = createClient('service.ledger', {
      discovery: { 'service.ledger': ledger.url },
      metrics,
      maxRetries: 0,
    });
    const cards = await rpcServer((r) => r.get('/cards/:id', () => toLedger.get('/fail')), {
      name: 'cards',
      metrics,
    });
    cleanup.push(
      () => toLedger.close(),
      () => cards.stop(100),
      () => ledger.stop(100),
    );
    const res = await fetch(`${cards.url}/cards/1`);
    assert.equal(res.status, 500);
    await envExporter()?.flush();
    await delay(10);
  } finally {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
    delete process.env.OTEL_RESOURCE_ATTRIBUTES;
    delete process.env.OTEL_SERVICE_NAME;
    resetEnvExporter();
  }
  const spans = batches.flatMap((b) =>
    b.resourceSpans.flatMap((rs) => {
      const svc = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
      return rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ svc, ...s })));
    }),
  );
  const server = (svc: string) => spans.find((s) => s.svc === svc && s.kind === 2);
  const cardsServer = server('cards');
  const ledgerServer = server('service.ledger');
  const client = spans.find((s) => s.svc === 'cards' && s.kind === 3);
  assert.ok(cardsServer && ledgerServer && client, JSON.stringify(spans));
  assert.equal(cardsServer.name, 'GET /cards/:id');
  assert.equal(client.parentSpanId, cardsServer.spanId, 'client span is a child of the server span');
  assert.equal(
    ledgerServer.parentSpanId,
    client.spanId,
    'the callee server span is a child of the client span',
  );
  assert.equal(new Set([cardsServer.traceId, client.traceId, ledgerServer.traceId]).size, 1);
  assert.equal(cardsServer.parentSpanId ?? '', '', 'the edge span is a root');
  assert.deepEqual(client.attributes.find((a) => a.key === 'peer.service')?.value, {
    stringValue: 'service.ledger',
  });
  assert.equal(ledgerServer.status.code, 2, 'the failed span has status ERROR');
  assert.equal(
    Number(ledgerServer.attributes.find((a) => a.key === 'http.response.status_code')?.value.intValue),
    500,
  );
  const resources = batches.flatMap((b) =>
    b.resourceSpans.map((rs) =>
      Object.fromEntries(rs.resource.attributes.map((a) => [a.key, a.value.stringValue])),
    ),
  );
  assert.ok(
    resources.some((r) => r['service.name'] === 'service.ledger'),
    'OTEL_SERVICE_NAME does not rename the library services',
  );
  for (const r of resources) {
    assert.equal(r['bank.io/service-id'], 'service.cards');
    assert.equal(r['k8s.namespace.name'], 'cards');
  }
  assert.match(ledgerServer.traceId, /^[0-9a-f]{32}$/);
  assert.match(ledgerServer.spanId, /^[0-9a-f]{16}$/);
});
