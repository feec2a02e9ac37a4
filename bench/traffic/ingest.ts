/**
 * The OTLP receiver under load: the real `portal serve` (its own process, a SQLite store holding the estate)
 * takes OTLP/HTTP trace batches from 5,000 distinct services, as protobuf and as JSON. Reports spans/s
 * (accepted, paired, stored before each answer), the portal's peak RSS (VmHWM from /proc), and how soon a new
 * edge is visible in GET /api/traffic/edges after its spans were posted.
 *
 *   npx tsx bench/traffic/ingest.ts [--spans 1000000] [--json-spans 300000] [--batch 2000] [--concurrency 4]
 *     [--cpu-prof <dir>]   (the portal writes a V8 CPU profile there when it stops)
 *
 * Bodies are encoded before the clock starts (the sender's cost is not the portal's). Prints JSON.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ExportTraceServiceRequest } from '@bank/plugin-traffic';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(REPO, 'portal', 'bin', 'portal.mjs');
const { values } = parseArgs({
  options: {
    spans: { type: 'string', default: '1000000' },
    'json-spans': { type: 'string', default: '300000' },
    batch: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
    services: { type: 'string', default: '5000' },
    'cpu-prof': { type: 'string' },
  },
});
const SPANS = Number(values.spans);
const JSON_SPANS = Number(values['json-spans']);
const BATCH = Number(values.batch);
const CONCURRENCY = Number(values.concurrency);
const SERVICES = Number(values.services);
const TOKEN = 'bench-traffic-token';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pair {
  caller: string;
  callee: string;
  traceId: Buffer;
  clientId: Buffer;
}

/** One batch: BATCH / 2 calls, each a CLIENT span in the caller and the SERVER span in the callee. */
function batchPairs(seed: number): Pair[] {
  const pairs: Pair[] = [];
  for (let i = 0; i < BATCH / 2; i++) {
    const c = (seed * 7919 + i * 31) % SERVICES;
    // Each service calls three neighbours: 15,000 edges over 5,000 services.
    const d = (c + 1 + (i % 3)) % SERVICES;
    pairs.push({
      caller: `svc-${c}`,
      callee: `svc-${d}`,
      traceId: randomBytes(16),
      clientId: randomBytes(8),
    });
  }
  return pairs;
}

function spansOf(pairs: Pair[], hex: boolean) {
  const id = (b: Buffer) => (hex ? b.toString('hex') : b);
  const now = BigInt(Date.now()) * 1_000_000n;
  const byService = new Map<string, object[]>();
  const add = (s: string, span: object) => {
    const list = byService.get(s);
    if (list) list.push(span);
    else byService.set(s, [span]);
  };
  for (const p of pairs) {
    add(p.caller, {
      traceId: id(p.traceId),
      spanId: id(p.clientId),
      parentSpanId: id(randomBytes(8)),
      name: 'GET /x',
      kind: 3,
      startTimeUnixNano: String(now),
      endTimeUnixNano: String(now + 12_000_000n),
      attributes: [{ key: 'peer.service', value: { stringValue: p.callee } }],
      status: {},
    });
    add(p.callee, {
      traceId: id(p.traceId),
      spanId: id(randomBytes(8)),
      parentSpanId: id(p.clientId),
      name: 'GET /x',
      kind: 2,
      startTimeUnixNano: String(now + 1_000_000n),
      endTimeUnixNano: String(now + 11_000_000n),
      attributes: [{ key: 'http.response.status_code', value: { intValue: 200 } }],
      status: {},
    });
  }
  return {
    resourceSpans: [...byService].map(([service, spans]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ scope: { name: 'bench' }, spans }],
    })),
  };
}

const protobufBody = (pairs: Pair[]) =>
  Buffer.from(
    ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(spansOf(pairs, false))).finish(),
  );
const jsonBody = (pairs: Pair[]) => Buffer.from(JSON.stringify(spansOf(pairs, true)));

function rssOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMiB: Math.round(kb('VmRSS') / 1024), peakMiB: Math.round(kb('VmHWM') / 1024) };
}

async function send(url: string, bodies: Buffer[], total: number, type: string): Promise<number> {
  let next = 0;
  const requests = Math.ceil(total / BATCH);
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= requests) return;
      const res = await fetch(`${url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': type, authorization: `Bearer ${TOKEN}` },
        body: new Uint8Array(bodies[i % bodies.length]),
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`POST /v1/traces answered ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return (requests * BATCH) / ((performance.now() - started) / 1000);
}

async function main() {
  const work = mkdtempSync(path.join(tmpdir(), 'bench-traffic-'));
  const db = `file:${path.join(work, 'portal.db')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORTAL_API_TOKENS: TOKEN,
    TRAFFIC_MAX_UNKNOWN_SERVICES: String(SERVICES * 2),
  };
  delete env.NODE_TEST_CONTEXT;
  execFileSync(process.execPath, [BIN, '--db', db, 'ingest', path.join(REPO, 'services'), '--json'], {
    cwd: REPO,
    env,
    stdio: 'ignore',
  });
  const port = 7400 + Math.floor(Math.random() * 500);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : []),
      BIN,
      '--db',
      db,
      'serve',
      '--port',
      String(port),
      '--no-watch',
    ],
    { cwd: REPO, env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (i > 300) throw new Error('portal serve did not start');
      if (
        await fetch(`${url}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await sleep(100);
    }
    const pid = child.pid as number;
    const before = rssOf(pid);

    const pbBodies = Array.from({ length: 40 }, (_, i) => protobufBody(batchPairs(i)));
    const pbRate = await send(url, pbBodies, SPANS, 'application/x-protobuf');
    const afterPb = rssOf(pid);
    const jsonBodies = Array.from({ length: 10 }, (_, i) => jsonBody(batchPairs(1000 + i)));
    const jsonRate = await send(url, jsonBodies, JSON_SPANS, 'application/json');
    const afterJson = rssOf(pid);

    // A new edge: post its two spans, then ask the API until it is there.
    const visible: number[] = [];
    for (let i = 0; i < 20; i++) {
      const pair = [
        { caller: `fresh-${i}`, callee: `svc-${i}`, traceId: randomBytes(16), clientId: randomBytes(8) },
      ];
      const t0 = performance.now();
      await fetch(`${url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${TOKEN}` },
        body: new Uint8Array(protobufBody(pair)),
      }).then((r) => r.arrayBuffer());
      for (;;) {
        const edges = (await (
          await fetch(`${url}/api/traffic/edges?entity=component:unknown/fresh-${i}`)
        ).json()) as {
          edges?: unknown[];
        };
        if (edges.edges && edges.edges.length > 0) break;
        await sleep(5);
      }
      visible.push(performance.now() - t0);
    }
    visible.sort((a, b) => a - b);
    const status = (await (await fetch(`${url}/api/traffic/status`)).json()) as {
      counters: Record<string, number>;
    };
    process.stdout.write(
      `${JSON.stringify(
        {
          command: `npx tsx bench/traffic/ingest.ts --spans ${SPANS} --json-spans ${JSON_SPANS} --batch ${BATCH} --concurrency ${CONCURRENCY} --services ${SERVICES}`,
          machine: { cpus: cpus().length, loadavg: loadavg().map((l) => Math.round(l * 100) / 100) },
          otlpProtobufSpansPerSec: Math.round(pbRate),
          otlpJsonSpansPerSec: Math.round(jsonRate),
          distinctServices: SERVICES,
          portalRssMiB: {
            atStart: before.rssMiB,
            afterProtobuf: afterPb.rssMiB,
            afterJson: afterJson.rssMiB,
            peak: afterJson.peakMiB,
          },
          edgeVisibleMs: {
            median: Math.round(visible[visible.length >> 1] * 10) / 10,
            max: Math.round(visible[visible.length - 1] * 10) / 10,
          },
          counters: status.counters,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    // The profile (and the last checkpoint) are written on the way out.
    if (values['cpu-prof']) await exited;
  }
}

await main();
