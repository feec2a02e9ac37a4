/**
 * The graph router alone on @hono/node-server, for bench/graph/http.ts --target router: the generator's
 * estate (seed 42) in memory, served on 127.0.0.1. Prints `listening on <url>` when ready.
 *
 *   node --import tsx bench/graph/http-server.ts [--services 350] [--no-cache]
 *
 * --no-cache turns off the router's per-version answer cache, so every request runs the query.
 */
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { buildGraphIndex } from '@bank/graph';
import { createGraphRouter } from '@bank/plugin-graph';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { generateEstate } from '../estate/generate.ts';
import { estateEntities } from './estate-entities.ts';

const { values } = parseArgs({
  options: { services: { type: 'string', default: '350' }, 'no-cache': { type: 'boolean' } },
});
const index = buildGraphIndex(
  estateEntities(generateEstate({ services: Number(values.services), seed: 42 })),
);
const portal = new Hono();
portal.route(
  '/api/graph',
  createGraphRouter({ getIndex: () => index, cacheAnswers: values['no-cache'] !== true }),
);
const server = serve({ fetch: portal.fetch, hostname: '127.0.0.1', port: 0 });
server.once('listening', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
