/**
 * What the request guard (portal/server/guard.ts: Host check, security headers, origin/JSON rules,
 * per-caller limits) adds to a read. Prints JSON.
 *
 *   node --import tsx bench/hardening/guard.ts [--n 20000]
 *
 * A real HTTP server on 127.0.0.1 whose handler runs the portal's guard on each real request and times it
 * with process.hrtime (the guard is synchronous, so that is all it costs the request), then answers a small
 * JSON read. Requests come from this process over keep-alive, one at a time, half of them GETs (the read
 * path: Host check and headers) and half JSON POSTs with an Origin (the write path: also the rate-limit
 * bucket and the Origin and content-type rules; limits raised so none is refused).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createRequestGuard } from '../../portal/server/guard.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '20000' } } });
const N = Number(values.n);

const read: number[] = [];
const write: number[] = [];
let port = 0;
const guard = createRequestGuard({
  baseUrl: new URL('https://portal.bank.example'),
  port: () => port,
  limits: { writesPerSecond: 1e9, writeBurst: 1e9 },
});
const server = http.createServer((req, res) => {
  const t0 = process.hrtime.bigint();
  const answered = guard(req, res);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (answered) throw new Error(`the guard refused ${req.method} ${req.url}`);
  (req.method === 'GET' ? read : write).push(ms);
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
port = (server.address() as AddressInfo).port;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const call = (method: string) =>
  new Promise<void>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: '/api/catalog/entities/by-name/component/default/card-api',
        agent,
        headers:
          method === 'GET'
            ? { host: `127.0.0.1:${port}` }
            : {
                host: 'portal.bank.example',
                origin: 'https://portal.bank.example',
                'content-type': 'application/json',
              },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve());
      },
    );
    req.on('error', reject);
    req.end(method === 'GET' ? undefined : '{}');
  });
for (let i = 0; i < 2000; i++) await call(i % 2 ? 'GET' : 'POST');
read.length = 0;
write.length = 0;
for (let i = 0; i < N; i++) await call(i % 2 ? 'GET' : 'POST');
server.close();
agent.destroy();

const summary = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { n: s.length, p50: r(at(50)), p90: r(at(90)), p99: r(at(99)), max: r(s[s.length - 1]) };
};
process.stdout.write(
  `${JSON.stringify(
    {
      command: `node --import tsx bench/hardening/guard.ts --n ${N}`,
      what: 'time inside the request guard per real HTTP request (synchronous, so what it adds to the request)',
      node: process.version,
      cores: os.cpus().length,
      loadAverage: os.loadavg(),
      guardMsOnRead: summary(read),
      guardMsOnWrite: summary(write),
    },
    null,
    2,
  )}\n`,
);
