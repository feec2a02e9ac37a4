import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { RpcMetrics } from '../metrics.ts';
import { createClient } from './client.ts';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

test('connections are kept alive and bounded per endpoint', async () => {
  let connections = 0;
  let maxInFlight = 0;
  let inFlight = 0;
  const server = http.createServer((_req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { 'content-type': 'application/json' }).end('1');
    }, 5);
  });
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(async () => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const c = createClient('svc', {
    caller: 't',
    discovery: { svc: url },
    pool: { connections: 4 },
    metrics: new RpcMetrics(),
  });
  cleanup.push(() => c.close());
  for (let i = 0; i < 20; i++) await c.get('/');
  // undici may open a second socket while the first is finishing a response; never one per call.
  assert.ok(connections <= 2, `20 sequential calls reused keep-alive connections (opened ${connections})`);
  await Promise.all(Array.from({ length: 50 }, () => c.get('/')));
  assert.ok(connections <= 4, `at most 4 connections, saw ${connections}`);
  assert.ok(maxInFlight <= 4, 'requests beyond the bound wait for a connection');
});
