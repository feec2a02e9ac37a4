import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { testDatabases } from '@bank/catalog/testing';
import { DDSketch } from '@datadog/sketches-js';
import fc from 'fast-check';
import { decodeJaegerJson } from './jaeger.ts';
import { decodeOtlpJson, decodeOtlpProtobuf, ExportTraceServiceRequest } from './otlp.ts';
import { TrafficService } from './service.ts';
import { encodeSketch } from './sketch.ts';
import { KIND, type Span } from './spans.ts';
import { bucketCutoff, DEFAULT_LIMITS, newSketch, TrafficState } from './traffic.ts';

const hex = (n: number) => randomBytes(n).toString('hex');

/** A client span in `caller` and its server span in `callee`, as one traced call. */
function call(
  caller: string,
  callee: string,
  o: { ms?: number; error?: boolean; trace?: string; peer?: string } = {},
): [Span, Span] {
  const traceId = o.trace ?? hex(16);
  const clientId = hex(8);
  const start = 1_700_000_000_000;
  const client: Span = {
    traceId,
    spanId: clientId,
    parentSpanId: hex(8),
    service: caller,
    kind: KIND.client,
    startMs: start,
    endMs: start + (o.ms ?? 10),
    error: false,
    peer: o.peer ?? callee,
    db: false,
  };
  const server: Span = {
    traceId,
    spanId: hex(8),
    parentSpanId: clientId,
    service: callee,
    kind: KIND.server,
    startMs: start + 1,
    endMs: start + (o.ms ?? 10) - 1,
    error: o.error ?? false,
    peer: undefined,
    db: false,
  };
  return [client, server];
}

function otlpJson(spans: Array<Span & { attrs?: Record<string, string> }>): string {
  const byService = new Map<string, typeof spans>();
  for (const s of spans) byService.set(s.service, [...(byService.get(s.service) ?? []), s]);
  return JSON.stringify({
    resourceSpans: [...byService].map(([service, list]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [
        {
          scope: { name: 'test' },
          spans: list.map((s) => ({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId,
            name: 'GET /x',
            kind: s.kind,
            startTimeUnixNano: String(BigInt(Math.round(s.startMs)) * 1_000_000n),
            endTimeUnixNano: String(BigInt(Math.round(s.endMs)) * 1_000_000n),
            attributes: [
              ...(s.peer && s.kind === KIND.client
                ? [{ key: 'peer.service', value: { stringValue: s.peer } }]
                : []),
              ...Object.entries(s.attrs ?? {}).map(([key, v]) => ({ key, value: { stringValue: v } })),
            ],
            status: { code: s.error ? 2 : 0 },
          })),
        },
      ],
    })),
  });
}

describe('servicegraph pairing', () => {
  it('pairs a client and its server span into one request on caller → callee, whichever comes first', () => {
    const state = new TrafficState();
    const [c1, s1] = call('card-api', 'card-processing', { ms: 40 });
    const [c2, s2] = call('card-api', 'card-processing', { ms: 80, error: true });
    state.ingest([s1], 1000);
    assert.equal(state.edges.size, 0, 'a lone server span waits');
    state.ingest([c1, c2], 1500);
    state.ingest([s2], 2000);
    const [edge] = state.edges.values();
    assert.equal(edge.caller, 'card-api');
    assert.equal(edge.callee, 'card-processing');
    assert.equal(edge.type, 'rpc');
    assert.equal(edge.requests, 2);
    assert.equal(edge.errors, 1);
    assert.equal(edge.virtual, false);
    assert.equal(state.waiting, 0);
  });

  it('turns a client span nobody answered into a request to a virtual callee after the TTL', () => {
    const state = new TrafficState({ ...DEFAULT_LIMITS, pairTtlMs: 100 });
    const [c] = call('card-api', 'mastercard', { peer: 'mastercard-network' });
    state.ingest([c], 1000);
    assert.equal(state.edges.size, 0);
    state.expire(1050);
    assert.equal(state.edges.size, 0, 'not before its time');
    state.expire(1101);
    const [edge] = state.edges.values();
    assert.equal(edge.callee, 'mastercard-network');
    assert.equal(edge.virtual, true);
    assert.equal(edge.type, 'external');
    assert.equal(state.counters.virtual, 1);
  });

  it('counts a server span whose parent never came as unpaired, and a root span as nothing', () => {
    const state = new TrafficState({ ...DEFAULT_LIMITS, pairTtlMs: 100 });
    const [, s] = call('x', 'cards');
    const root = { ...s, spanId: hex(8), parentSpanId: '' };
    state.ingest([s, root], 1000);
    assert.equal(state.waiting, 1, 'the root span does not wait');
    state.expire(2000);
    assert.equal(state.counters.unpaired, 1);
    assert.equal(state.edges.size, 0);
  });

  it('keeps the waiting store bounded: the oldest is settled first and counted', () => {
    const state = new TrafficState({ ...DEFAULT_LIMITS, maxWaiting: 50 });
    for (let i = 0; i < 500; i++) state.ingest([call('card-api', `svc-${i % 5}`)[0]], 1000 + i);
    assert.ok(state.waiting <= 50);
    assert.equal(state.counters.evicted, 450);
  });

  it('a call inside one service is no edge', () => {
    const state = new TrafficState();
    state.ingest(call('cards', 'cards'), 1000);
    assert.equal(state.edges.size, 0);
  });

  it('buckets by receive time, so a sender with a skewed clock still lands now; latency from its own clock', () => {
    const state = new TrafficState();
    const [c, s] = call('card-api', 'cards', { ms: 25 });
    const skewed = [
      { ...c, startMs: c.startMs + 86_400_000 * 365, endMs: c.endMs + 86_400_000 * 365 },
      { ...s, startMs: s.startMs - 3_600_000, endMs: s.endMs - 3_600_000 },
    ];
    const now = Date.UTC(2026, 11, 4, 12, 30, 15);
    state.ingest(skewed, now);
    const [edge] = state.edges.values();
    assert.equal(edge.buckets['1m'][0].startMs, Date.UTC(2026, 11, 4, 12, 30));
    const p50 = edge.buckets['1m'][0].latency.getValueAtQuantile(0.5);
    assert.ok(Math.abs(p50 - 25) < 0.5, `p50 ${p50} ≈ 25 ms`);
  });

  it('caps distinct unknown service names and reports what it refused', () => {
    const known = new Set(['card-api']);
    const state = new TrafficState({ ...DEFAULT_LIMITS, maxUnknownServices: 10 }, (n) => known.has(n));
    let refused = 0;
    for (let i = 0; i < 1000; i++)
      refused += state.ingest(call('card-api', `rogue-${i}`), 1000).refusedUnknown;
    assert.equal(state.unknown.size, 10);
    assert.ok(refused >= 990 * 2 - 1, `refused ${refused}`);
    assert.ok(state.edges.size <= 10);
    // A known caller calling a tracked unknown name is still taken.
    const again = state.ingest(call('card-api', 'rogue-0'), 1000);
    assert.equal(again.refusedUnknown, 0);
  });
});

describe('decoding', () => {
  it('reads OTLP JSON and protobuf alike, and refuses bad spans one by one with where and why', () => {
    const [c, s] = call('card-api', 'cards');
    const bad = [
      { ...c, spanId: 'abc' },
      { ...c, traceId: '00000000000000000000000000000000' },
      { ...s, parentSpanId: 'xyz' },
      { ...s, endMs: s.startMs - 5 },
    ];
    const json = decodeOtlpJson(otlpJson([c, s, ...bad]));
    assert.equal(json.spans.length, 2);
    assert.equal(json.rejected, 4);
    assert.match(json.reasons[0].why, /spanId must be 8 bytes/);
    assert.match(json.reasons.map((r) => r.why).join('\n'), /all zeros/);
    assert.match(json.reasons.map((r) => r.why).join('\n'), /before startTimeUnixNano/);
    assert.match(json.reasons[0].where, /^resourceSpans\[\d\]\.scopeSpans\[0\]\.spans\[\d\]$/);

    const msg = ExportTraceServiceRequest.fromObject({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'card-api' } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: Buffer.from(c.traceId, 'hex'),
                  spanId: Buffer.from(c.spanId, 'hex'),
                  parentSpanId: Buffer.from(c.parentSpanId, 'hex'),
                  kind: 3,
                  name: 'x',
                  startTimeUnixNano: '1700000000000000000',
                  endTimeUnixNano: '1700000000012000000',
                  attributes: [{ key: 'peer.service', value: { stringValue: 'cards' } }],
                  status: { code: 2 },
                },
                { traceId: Buffer.alloc(8, 1), spanId: Buffer.alloc(8, 2), kind: 2 },
              ],
            },
          ],
        },
      ],
    });
    const pb = decodeOtlpProtobuf(ExportTraceServiceRequest.encode(msg).finish());
    assert.equal(pb.spans.length, 1);
    assert.deepEqual(
      { ...pb.spans[0] },
      {
        traceId: c.traceId,
        spanId: c.spanId,
        parentSpanId: c.parentSpanId,
        service: 'card-api',
        kind: 3,
        startMs: 1_700_000_000_000,
        endMs: 1_700_000_000_012,
        error: true,
        peer: 'cards',
        db: false,
      },
    );
    assert.equal(pb.rejected, 1);
    assert.match(pb.reasons[0].why, /traceId must be 16 bytes \(32 hex characters\), got 16 hex characters/);
  });

  it("counts a resource's spans under its bank.io/service-id (what scaffolded Deployments set), else service.name", () => {
    const [c] = call('card-api', 'cards');
    const resource = (attrs: Record<string, string>) => ({
      attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } })),
    });
    const span = {
      traceId: c.traceId,
      spanId: c.spanId,
      kind: 3,
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000012000000',
    };
    const body = {
      resourceSpans: [
        {
          resource: resource({ 'service.name': 'card-api', 'bank.io/service-id': 'service.card-api' }),
          scopeSpans: [{ spans: [span] }],
        },
        { resource: resource({ 'service.name': 'cards' }), scopeSpans: [{ spans: [span] }] },
      ],
    };
    const json = decodeOtlpJson(JSON.stringify(body));
    assert.deepEqual(
      json.spans.map((s) => s.service),
      ['service.card-api', 'cards'],
    );
    const pbBody = structuredClone(body) as unknown as {
      resourceSpans: { scopeSpans: { spans: object[] }[] }[];
    };
    for (const rs of pbBody.resourceSpans)
      rs.scopeSpans[0].spans = [
        { ...span, traceId: Buffer.from(c.traceId, 'hex'), spanId: Buffer.from(c.spanId, 'hex') },
      ];
    const pb = decodeOtlpProtobuf(
      ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(pbBody)).finish(),
    );
    assert.deepEqual(
      pb.spans.map((s) => s.service),
      ['service.card-api', 'cards'],
    );
  });

  it('refuses a body that is no OTLP at all, and wrong JSON types, with a reason', () => {
    assert.throws(() => decodeOtlpProtobuf(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1])), /not an OTLP/);
    assert.throws(() => decodeOtlpJson('{"resourceSpans": '), /not valid JSON/);
    assert.throws(() => decodeOtlpJson('[1,2]'), /must be a JSON object/);
    assert.throws(() => decodeOtlpJson('{"resourceSpans": 5}'), /must be an array/);
    const wrong = decodeOtlpJson(
      JSON.stringify({
        resourceSpans: [
          { scopeSpans: [{ spans: [{ traceId: 42, spanId: null, kind: 'sideways' }, 'x'] }] },
          { resource: { attributes: 'no' } },
        ],
      }),
    );
    assert.equal(wrong.spans.length, 0);
    assert.equal(wrong.rejected, 3);
  });

  it('reads a Jaeger JSON export (microseconds, CHILD_OF, span.kind tags)', () => {
    const batch = decodeJaegerJson(
      JSON.stringify({
        data: [
          {
            traceID: '5b8efff798038103',
            spans: [
              {
                traceID: '5b8efff798038103',
                spanID: 'eee19b7ec3c1b173',
                startTime: 1544712660000000,
                duration: 1000000,
                tags: [
                  { key: 'span.kind', type: 'string', value: 'client' },
                  { key: 'peer.service', type: 'string', value: 'ledger' },
                ],
                processID: 'p1',
              },
              {
                traceID: '5b8efff798038103',
                spanID: 'eee19b7ec3c1b174',
                references: [
                  { refType: 'CHILD_OF', traceID: '5b8efff798038103', spanID: 'eee19b7ec3c1b173' },
                ],
                startTime: 1544712660100000,
                duration: 500000,
                tags: [
                  { key: 'span.kind', type: 'string', value: 'server' },
                  { key: 'http.status_code', type: 'int64', value: 503 },
                ],
                processID: 'p2',
              },
            ],
            processes: { p1: { serviceName: 'balance' }, p2: { serviceName: 'ledger' } },
          },
        ],
      }),
    );
    assert.equal(batch.rejected, 0);
    const state = new TrafficState();
    state.ingest(batch.spans, 1000);
    const [edge] = state.edges.values();
    assert.deepEqual([edge.caller, edge.callee, edge.requests, edge.errors], ['balance', 'ledger', 1, 1]);
    assert.ok(Math.abs(edge.buckets['1h'][0].latency.getValueAtQuantile(0.5) - 1000) < 10);
  });
});

for (const db of testDatabases())
  describe(`TrafficService store on ${db.name}`, { skip: db.skip }, () => {
    it('a restart or a crash loses nothing accepted: every edge figure and sketch comes back (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              caller: fc.constantFrom('card-api', 'cards', 'feed'),
              callee: fc.constantFrom('transactions', 'ledger', 'cards'),
              ms: fc.integer({ min: 0, max: 5000 }),
              error: fc.boolean(),
              at: fc.integer({ min: 0, max: 3 * 3_600_000 }),
              serverFirst: fc.boolean(),
            }),
            { maxLength: 40 },
          ),
          fc.integer({ min: 1, max: 4 }),
          async (calls, restarts) => {
            const url = await db.create();
            await (await CatalogStore.open(url)).close(); // the migrations
            const base = Date.UTC(2026, 11, 4, 9);
            let clock = base;
            const open = () => TrafficService.open({ storeUrl: url, now: () => clock, expireEveryMs: 0 });
            let traffic = await open();
            const expected = new TrafficState();
            // The portal's clock moves forward; the senders' clocks may be anything (see the skew test).
            calls.sort((a, b) => a.at - b.at);
            const per = Math.ceil(calls.length / restarts) || 1;
            for (let i = 0; i < calls.length; i++) {
              const k = calls[i];
              clock = base + k.at;
              const [c, s] = call(k.caller, k.callee, { ms: k.ms, error: k.error });
              const spans = k.serverFirst ? [s, c] : [c, s];
              expected.ingest(spans, clock);
              await traffic.accept({ spans, rejected: 0, reasons: [] });
              if ((i + 1) % per === 0) {
                await traffic.close();
                traffic = await open();
              }
            }
            const got = [...traffic.state.edges.values()];
            const want = [...expected.edges.values()];
            assert.equal(got.length, want.length);
            for (const w of want) {
              const g = got.find((e) => e.caller === w.caller && e.callee === w.callee && e.type === w.type);
              assert.ok(g, `edge ${w.caller} → ${w.callee} lost`);
              assert.deepEqual([g.requests, g.errors, g.firstSeenMs], [w.requests, w.errors, w.firstSeenMs]);
              for (const win of ['1m', '1h', '1d'] as const) {
                // Buckets past the retention of their window are of no use; memory drops them lazily.
                const cutoff = bucketCutoff(win, clock, DEFAULT_LIMITS.keep[win]);
                g.buckets[win] = g.buckets[win].filter((b) => b.startMs >= cutoff);
                w.buckets[win] = w.buckets[win].filter((b) => b.startMs >= cutoff);
                const stored: number[][] = g.buckets[win].map((b) => [
                  b.startMs,
                  b.requests,
                  b.errors,
                  b.latency.count,
                ]);
                const kept: number[][] = w.buckets[win].map((b) => [
                  b.startMs,
                  b.requests,
                  b.errors,
                  b.latency.count,
                ]);
                assert.deepEqual(stored, kept, `${win} buckets of ${w.caller} → ${w.callee}`);
                for (let b = 0; b < g.buckets[win].length; b++) {
                  const q = (x: typeof g) => x.buckets[win][b].latency.getValueAtQuantile(0.99);
                  if (g.buckets[win][b].latency.count > 0)
                    assert.ok(Math.abs(q(g) - q(w)) <= q(w) * 0.02 + 1e-9);
                }
              }
            }
            await traffic.close();
          },
        ),
        { numRuns: db.name === 'sqlite' ? 25 : 6 },
      );
    });
  });

describe('stored latency sketches', () => {
  it('are stored without their empty bins and read back by DDSketch.fromProto to the same counts and quantiles', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 3_600_000, noNaN: true })), {
          maxLength: 300,
        }),
        (latencies) => {
          const sketch = newSketch();
          for (const ms of latencies) sketch.accept(ms);
          const bytes = encodeSketch(sketch);
          const full = sketch.toProto();
          assert.ok(bytes.length <= full.length);
          const back = DDSketch.fromProto(bytes);
          const before = DDSketch.fromProto(full);
          assert.equal(back.count, latencies.length);
          for (const q of [0, 0.5, 0.95, 0.99, 1])
            assert.equal(back.getValueAtQuantile(q), before.getValueAtQuantile(q), `quantile ${q}`);
          // Still mergeable with a sketch that never went through the store.
          const merged = newSketch();
          merged.merge(back);
          merged.merge(sketch);
          assert.equal(merged.count, 2 * latencies.length);
        },
      ),
    );
    // One latency: tens of bytes, not the ~1 KB of a padded store.
    const one = newSketch();
    one.accept(12);
    assert.ok(encodeSketch(one).length < 64, `${encodeSketch(one).length} bytes`);
    assert.ok(one.toProto().length > 500);
  });
});
