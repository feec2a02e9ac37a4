/**
 * @bank/rpc overhead and resilience benchmark. Prints JSON.
 *   npx tsx bench/rpc/overhead.ts [--quick]
 *
 * 1. Echo (1 KB JSON POST) throughput and latency: a bare Node http server vs a @bank/rpc server, each in
 *    its own child process, driven by the same undici load generator in this process (same machine,
 *    same run, alternating bare/library rounds; best round of each is kept).
 *    Throughput: 32 connections, closed loop. Latency: 1 connection, sequential (queueing excluded).
 * 2. Full stack: @bank/rpc client → @bank/rpc server vs raw undici → bare server (informational).
 * 3. Failure: three @bank/rpc backends, one failing 100 % (500 internal_service); a @bank/rpc client
 *    sends requests; we count client-visible successes and the attempts the backends received.
 * All load goes to 127.0.0.1, bounded by count and time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { createClient, listen, Router, RpcError, RpcMetrics } from '../../services/lib/rpc/src/index.ts';

const quick = process.argv.includes('--quick');
const ROUNDS = 1;
const THROUGHPUT_MS = quick ? 2000 : 5000;
const WARMUP_MS = quick ? 500 : 1000;
const LATENCY_REQUESTS = quick ? 1500 : 6000;
const CONNECTIONS = 32;
const SLICE_MS = 500;
const FAILURE_REQUESTS = quick ? 5000 : 20000;

// A ~1 KB JSON document.
const doc = {
  id: 'card-0001',
  holder: 'Ada Lovelace, Countess',
  items: Array.from({ length: 14 }, (_, i) => ({
    merchant: `Merchant number ${i}`,
    amountMinor: 1000 + i,
    currency: 'GBP',
  })),
};
const PAYLOAD = JSON.stringify(doc);

// ---------------------------------------------------------------------------------------------- servers

/** CPU time this server process has used, in microseconds (to compare CPU per request, which noise hardly moves). */
const cpuJson = () => {
  const u = process.cpuUsage();
  return JSON.stringify({ cpuMicros: u.user + u.system });
};

async function serveBare(): Promise<number> {
  const als = process.env.BARE_ALS
    ? new (await import('node:async_hooks')).AsyncLocalStorage<object>()
    : undefined;
  const server = http.createServer((req, res) => {
    if (als) return als.run({}, () => bareHandle(req, res));
    bareHandle(req, res);
  });
  const bareHandle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url === '/cpu') return void res.end(cpuJson());
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const out = JSON.stringify(body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  };
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function serveLib(): Promise<number> {
  const router = new Router().post('/echo', (req) => req.body).get('/cpu', () => JSON.parse(cpuJson()));
  const server = await listen(router.serve(), { name: 'echo', port: 0 });
  return server.port;
}

/** Three backends; backend 0 fails every request. GET /hits on a fourth port reports attempts. */
async function serveBackends(): Promise<number[]> {
  const hits = [0, 0, 0];
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) {
    const router = new Router().get('/card/:id', (req) => {
      hits[i]++;
      if (i === 0) throw new RpcError('internal_service.broken', 'This endpoint is broken');
      return { id: req.params.id };
    });
    ports.push((await listen(router.serve(), { name: `backend-${i}`, metrics: new RpcMetrics() })).port);
  }
  const stats = http.createServer((_req, res) => res.end(JSON.stringify(hits)));
  await new Promise<void>((r) => stats.listen(0, '127.0.0.1', r));
  ports.push((stats.address() as AddressInfo).port);
  return ports;
}

function spawnServer(kind: 'bare' | 'lib' | 'backends'): Promise<{ child: ChildProcess; ports: number[] }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', kind],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} server exited ${code}`)));
    child.stdout?.once('data', (d: Buffer) => resolve({ child, ports: JSON.parse(d.toString()) }));
  });
}

async function stopServer(child: ChildProcess) {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

// ------------------------------------------------------------------------------------------ load tools

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** Closed-loop load: `connections` workers for `ms`, each sending as soon as the last answer arrived. */
async function load(send: () => Promise<void>, connections: number, ms: number, maxRequests = Infinity) {
  const lat: number[] = [];
  let errors = 0;
  let count = 0;
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end && count < maxRequests) {
        count++;
        const t = performance.now();
        try {
          await send();
          lat.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = performance.now() - start;
  const sorted = Float64Array.from(lat).sort();
  return {
    count: lat.length,
    rps: Math.round((lat.length / elapsed) * 1000),
    p50: round3(percentile(sorted, 50)),
    p99: round3(percentile(sorted, 99)),
    errors,
  };
}

function rawSender(port: number, connections: number) {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  const send = async () => {
    const res = await pool.request({
      path: '/echo',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: PAYLOAD,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200 || text.length !== PAYLOAD.length)
      throw new Error(`bad response ${res.statusCode}`);
  };
  return { send, close: () => pool.close() };
}

function libSender(port: number, connections: number) {
  const client = createClient('echo', {
    caller: 'bench',
    discovery: { echo: `http://127.0.0.1:${port}` },
    pool: { connections },
    metrics: new RpcMetrics(),
  });
  const send = async () => {
    const body = await client.post<typeof doc>('/echo', doc);
    if (body.id !== doc.id) throw new Error('bad body');
  };
  return { send, close: () => client.close() };
}

type Sender = { send: () => Promise<void>; close: () => Promise<void> };

/**
 * Interleaves short slices against two targets so that the noise of a shared machine hits both alike:
 * throughput = requests completed over all slices; latency = pooled sequential samples.
 */
async function compare(
  makeA: (c: number) => Sender,
  makeB: (c: number) => Sender,
  cpu?: { a: () => Promise<number>; b: () => Promise<number> },
) {
  const a = makeA(CONNECTIONS);
  const b = makeB(CONNECTIONS);
  await load(a.send, CONNECTIONS, WARMUP_MS);
  await load(b.send, CONNECTIONS, WARMUP_MS);
  const tot = { a: 0, b: 0 };
  const done = { a: 0, b: 0 };
  const cpu0 = cpu ? { a: await cpu.a(), b: await cpu.b() } : undefined;
  const ratios: number[] = [];
  const slices = Math.max(2, Math.round(THROUGHPUT_MS / SLICE_MS)) * ROUNDS;
  for (let i = 0; i < slices; i++) {
    const first = i % 2 === 0;
    const ra = first ? await load(a.send, CONNECTIONS, SLICE_MS) : undefined;
    const rb = await load(b.send, CONNECTIONS, SLICE_MS);
    const ra2 = ra ?? (await load(a.send, CONNECTIONS, SLICE_MS));
    tot.a += ra2.rps;
    tot.b += rb.rps;
    done.a += ra2.count;
    done.b += rb.count;
    ratios.push(rb.rps / ra2.rps);
  }
  const cpuPerRequest =
    cpu && cpu0
      ? {
          bareMicros: round3((await cpu.a()) - cpu0.a) / done.a,
          libraryMicros: round3((await cpu.b()) - cpu0.b) / done.b,
        }
      : undefined;
  await a.close();
  await b.close();
  const a1 = makeA(1);
  const b1 = makeB(1);
  const la: number[] = [];
  const lb: number[] = [];
  await load(a1.send, 1, WARMUP_MS / 2, 300);
  await load(b1.send, 1, WARMUP_MS / 2, 300);
  // Small alternating chunks: a burst of scheduler noise on this shared machine lands on both sides.
  const chunk = 50;
  for (let n = 0; n < LATENCY_REQUESTS; n += chunk) {
    la.push(...(await timed(a1.send, chunk)));
    lb.push(...(await timed(b1.send, chunk)));
  }
  await a1.close();
  await b1.close();
  const sa = Float64Array.from(la).sort();
  const sb = Float64Array.from(lb).sort();
  ratios.sort((x, y) => x - y);
  return {
    bare: {
      rps: Math.round(tot.a / slices),
      p50Ms: round3(percentile(sa, 50)),
      p99Ms: round3(percentile(sa, 99)),
    },
    library: {
      rps: Math.round(tot.b / slices),
      p50Ms: round3(percentile(sb, 50)),
      p99Ms: round3(percentile(sb, 99)),
    },
    throughputRatio: round3(tot.b / tot.a),
    medianSliceRatio: round3(ratios[Math.floor(ratios.length / 2)]),
    addedP50Ms: round3(percentile(sb, 50) - percentile(sa, 50)),
    addedP99Ms: round3(percentile(sb, 99) - percentile(sa, 99)),
    ...(cpuPerRequest
      ? {
          serverCpuMicrosPerRequest: {
            bare: Math.round(cpuPerRequest.bareMicros),
            library: Math.round(cpuPerRequest.libraryMicros),
            ratio: round3(cpuPerRequest.bareMicros / cpuPerRequest.libraryMicros),
          },
        }
      : {}),
  };
}

/** CPU time used so far by the server on `port` (its /cpu route). */
async function cpuOf(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/cpu`);
  return ((await res.json()) as { cpuMicros: number }).cpuMicros;
}

async function timed(send: () => Promise<void>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await send();
    out.push(performance.now() - t);
  }
  return out;
}

async function failureScenario() {
  const { child, ports } = await spawnServer('backends');
  try {
    const client = createClient('cards', {
      caller: 'bench',
      discovery: { cards: ports.slice(0, 3).map((p) => `http://127.0.0.1:${p}`) },
      metrics: new RpcMetrics(),
    });
    let ok = 0;
    let failed = 0;
    const started = performance.now();
    let i = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (i < FAILURE_REQUESTS && performance.now() - started < 60_000) {
          const id = i++;
          try {
            await client.get(`/card/${id}`);
            ok++;
          } catch {
            failed++;
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const hits = (await (await fetch(`http://127.0.0.1:${ports[3]}/hits`)).json()) as number[];
    await client.close();
    const requests = ok + failed;
    const attempts = hits.reduce((a, b) => a + b, 0);
    return {
      requests,
      seconds: round3(seconds),
      successRate: round3((ok / requests) * 100) / 100,
      successPercent: round3((ok / requests) * 100),
      backendAttempts: attempts,
      attemptsPerBackend: hits,
      extraLoadPercent: round3(((attempts - requests) / requests) * 100),
    };
  } finally {
    await stopServer(child);
  }
}

async function main() {
  const bareServer = await spawnServer('bare');
  const libServer = await spawnServer('lib');
  let server: Awaited<ReturnType<typeof compare>>;
  let fullStack: Awaited<ReturnType<typeof compare>>;
  let clientOnly: Awaited<ReturnType<typeof compare>>;
  try {
    server = await compare(
      (c) => rawSender(bareServer.ports[0], c),
      (c) => rawSender(libServer.ports[0], c),
      { a: () => cpuOf(bareServer.ports[0]), b: () => cpuOf(libServer.ports[0]) },
    );
    clientOnly = await compare(
      (c) => rawSender(bareServer.ports[0], c),
      (c) => libSender(bareServer.ports[0], c),
    );
    fullStack = await compare(
      (c) => rawSender(bareServer.ports[0], c),
      (c) => libSender(libServer.ports[0], c),
    );
  } finally {
    await stopServer(bareServer.child);
    await stopServer(libServer.child);
  }
  const failure = await failureScenario();
  const { throughputRatio, addedP99Ms } = server;
  const result = {
    benchmark: '@bank/rpc overhead',
    command: 'npx tsx bench/rpc/overhead.ts',
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    loadAverage: (await import('node:os')).loadavg().map(round3),
    payloadBytes: PAYLOAD.length,
    config: {
      connections: CONNECTIONS,
      sliceMs: SLICE_MS,
      throughputMs: THROUGHPUT_MS * ROUNDS,
      latencyRequests: LATENCY_REQUESTS,
    },
    server: { note: 'same undici load generator; bare Node http server vs @bank/rpc server', ...server },
    client: { note: 'informational: @bank/rpc client vs raw undici, both to the bare server', ...clientOnly },
    fullStack: { note: 'informational: @bank/rpc client + server vs raw undici + bare server', ...fullStack },
    oneOfThreeFailing: failure,
    targets: {
      throughputRatio: { target: '>= 0.70', value: throughputRatio, pass: throughputRatio >= 0.7 },
      addedP99Ms: { target: '<= 1', value: addedP99Ms, pass: addedP99Ms <= 1 },
      successPercent: {
        target: '>= 99.9',
        value: failure.successPercent,
        pass: failure.successPercent >= 99.9,
      },
      extraLoadPercent: {
        target: '<= 25',
        value: failure.extraLoadPercent,
        pass: failure.extraLoadPercent <= 25,
      },
    },
  };
  console.log(JSON.stringify(result, null, 2));
}

const mode = process.argv[process.argv.indexOf('--serve') + 1];
if (process.argv.includes('--serve')) {
  const ports =
    mode === 'bare' ? [await serveBare()] : mode === 'lib' ? [await serveLib()] : await serveBackends();
  process.stdout.write(`${JSON.stringify(ports)}\n`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(0));
} else {
  await main();
}
