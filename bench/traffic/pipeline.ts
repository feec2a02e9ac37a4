/**
 * Where a trace batch's time goes inside the portal, without HTTP: OTLP protobuf decode, pairing and
 * aggregation (DDSketch per window), the journal append (SQLite), and the graph merge. 5,000 services,
 * batches of 2,000 spans (1,000 calls). Prints JSON (ms per stage and spans/s of the whole).
 *
 *   npx tsx bench/traffic/pipeline.ts [--batches 60]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CatalogStore } from '@bank/catalog';
import { buildGraphIndex } from '@bank/graph';
import { decodeOtlpProtobuf, ExportTraceServiceRequest, TrafficService } from '@bank/plugin-traffic';

const { values } = parseArgs({ options: { batches: { type: 'string', default: '60' } } });
const BATCHES = Number(values.batches);
const url = `file:${path.join(mkdtempSync(path.join(tmpdir(), 'bench-pipeline-')), 'p.db')}`;
await (await CatalogStore.open(url)).close();
const traffic = await TrafficService.open({
  storeUrl: url,
  expireEveryMs: 0,
  limits: { maxUnknownServices: 20_000 },
});
const index = buildGraphIndex([]);

function body(seed: number): Uint8Array {
  const by = new Map<string, object[]>();
  const add = (s: string, x: object) => {
    const l = by.get(s);
    if (l) l.push(x);
    else by.set(s, [x]);
  };
  for (let i = 0; i < 1000; i++) {
    const c = (seed * 7919 + i * 31) % 5000;
    const d = (c + 1 + (i % 3)) % 5000;
    const trace = randomBytes(16);
    const client = randomBytes(8);
    add(`svc-${c}`, {
      traceId: trace,
      spanId: client,
      parentSpanId: randomBytes(8),
      kind: 3,
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000012000000',
      attributes: [{ key: 'peer.service', value: { stringValue: `svc-${d}` } }],
    });
    add(`svc-${d}`, {
      traceId: trace,
      spanId: randomBytes(8),
      parentSpanId: client,
      kind: 2,
      startTimeUnixNano: '1700000000001000000',
      endTimeUnixNano: '1700000000011000000',
    });
  }
  const msg = ExportTraceServiceRequest.fromObject({
    resourceSpans: [...by].map(([s, spans]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: s } }] },
      scopeSpans: [{ spans }],
    })),
  });
  return ExportTraceServiceRequest.encode(msg).finish();
}

const bodies = Array.from({ length: 20 }, (_, i) => body(i));
const ms = { decode: 0, pairAndAggregate: 0, journalAppend: 0, graphMerge: 0 };
const started = performance.now();
for (let r = 0; r < BATCHES; r++) {
  let t = performance.now();
  const batch = decodeOtlpProtobuf(bodies[r % bodies.length]);
  ms.decode += performance.now() - t;
  t = performance.now();
  const touched = traffic.state.ingest(batch.spans, Date.now()).touched;
  ms.pairAndAggregate += performance.now() - t;
  t = performance.now();
  await traffic.accept({ spans: [], rejected: 0, reasons: [] }); // appends what ingest journalled
  ms.journalAppend += performance.now() - t;
  t = performance.now();
  traffic.mergeIntoGraph(index, touched);
  ms.graphMerge += performance.now() - t;
}
const total = performance.now() - started;
const t0 = performance.now();
await traffic.close(); // the checkpoint: every aggregate row written
const checkpointMs = performance.now() - t0;
const round = (n: number) => Math.round(n);
process.stdout.write(
  `${JSON.stringify(
    {
      command: `npx tsx bench/traffic/pipeline.ts --batches ${BATCHES}`,
      machine: { cpus: cpus().length, loadavg: loadavg().map((l) => Math.round(l * 100) / 100) },
      spans: BATCHES * 2000,
      msPerStage: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, round(v)])),
      spansPerSec: round((BATCHES * 2000) / (total / 1000)),
      finalCheckpointMs: round(checkpointMs),
      edges: traffic.state.edges.size,
      rssMiB: round(process.memoryUsage().rss / 2 ** 20),
    },
    null,
    2,
  )}\n`,
);
