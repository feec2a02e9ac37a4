/**
 * Path queries over HTTP: the graph router on a real server on 127.0.0.1, loaded by autocannon with 50
 * concurrent clients. Prints JSON.
 *
 *   npx tsx bench/graph/http.ts [--services 350] [--connections 50] [--duration 10]
 */
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { buildGraphIndex } from '@bank/graph';
import { createGraphRouter } from '@bank/plugin-graph';
import { serve } from '@hono/node-server';
import autocannon from 'autocannon';
import { Hono } from 'hono';
import { generateEstate } from '../estate/generate.ts';
import { estateEntities } from './estate-entities.ts';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '350' },
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '10' },
  },
});
const index = buildGraphIndex(
  estateEntities(generateEstate({ services: Number(values.services), seed: 42 })),
);
const portal = new Hono();
portal.route('/api/graph', createGraphRouter({ getIndex: () => index }));
const server = serve({ fetch: portal.fetch, hostname: '127.0.0.1', port: 0 });
await new Promise<void>((resolve) => server.once('listening', () => resolve()));
const { port } = server.address() as AddressInfo;
const loadBefore = os.loadavg()[0];
const result = await autocannon({
  url: `http://127.0.0.1:${port}/api/graph/paths?from=card-api&to=feed`,
  connections: Number(values.connections),
  duration: Number(values.duration),
});
server.close();
process.stdout.write(
  `${JSON.stringify(
    {
      command: `npx tsx bench/graph/http.ts --services ${values.services} --connections ${values.connections} --duration ${values.duration}`,
      node: process.version,
      cores: os.cpus().length,
      loadAverage1m: { before: loadBefore, after: os.loadavg()[0] },
      services: Number(values.services),
      connections: result.connections,
      durationS: result.duration,
      requestsPerSecond: { mean: result.requests.average, p50: result.requests.p50 },
      latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
      requests: result.requests.total,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
    },
    null,
    2,
  )}\n`,
);
