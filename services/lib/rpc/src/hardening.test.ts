/**
 * Issue 11, shared library: a far deadline must not fire at once (Node's setTimeout overflows past
 * 24.8 days), and the `origin-service` header must not mint metric series or rate-limit buckets.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createClient } from './client/client.ts';
import { formatDeadline, MAX_TIMER_MS, RequestContext, safeTimeout } from './context.ts';
import { RpcMetrics } from './metrics.ts';
import { delay, rpcServer } from './testing.ts';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const DAY = 24 * 3600_000;

test('safeTimeout: a delay past 24.8 days does not fire at once (setTimeout would after 1 ms); short ones fire', async () => {
  let far = 0;
  const t = safeTimeout(() => far++, MAX_TIMER_MS + 5 * DAY);
  let near = 0;
  safeTimeout(() => near++, 5);
  await delay(50);
  assert.equal(near, 1);
  assert.equal(far, 0);
  clearTimeout(t);
});

test('a deadline 30 days ahead neither expires the context nor times out the request on the server', async () => {
  const ctx = new RequestContext({ service: 't', deadline: Date.now() + 30 * DAY });
  const signal = ctx.signal;
  await delay(30);
  assert.equal(signal.aborted, false, 'the context is not cancelled');
  ctx.cancel();

  const s = await rpcServer((r) => r.get('/slow', () => delay(50).then(() => ({ ok: true }))));
  cleanup.push(() => s.stop(100));
  const now = Date.now();
  const res = await fetch(`${s.url}/slow`, {
    headers: { 'l5d-ctx-deadline': formatDeadline(now, now + 30 * DAY) },
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.deepEqual(await res.json(), { ok: true });

  // Our client with a total timeout past the limit: the attempt is not cut after 1 ms either.
  const c = createClient('slow', {
    discovery: { slow: s.url },
    metrics: new RpcMetrics(),
    timeoutMs: 40 * DAY,
  });
  cleanup.push(() => c.close());
  assert.deepEqual(await c.get('/slow'), { ok: true });
});

test('callers outside the configured set share the label "unknown": bounded metric series, one rate-limit bucket', async () => {
  const s = await rpcServer((r) => r.get('/balance', () => ({ pence: 1 })), {
    name: 'accounts',
    knownCallers: ['cards'],
    rateLimit: { ratePerSec: 0.001, burst: 5 },
  });
  cleanup.push(() => s.stop(100));
  const statuses: number[] = [];
  // An attacker makes up a new caller name for every request.
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${s.url}/balance`, { headers: { 'origin-service': `made-up-${i}` } });
    statuses.push(res.status);
    await res.text();
  }
  assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
  assert.ok(
    statuses.slice(5).every((x) => x === 429),
    `a new name is not a new bucket: ${statuses}`,
  );
  // A known caller keeps its own name and its own bucket.
  assert.equal((await fetch(`${s.url}/balance`, { headers: { 'origin-service': 'cards' } })).status, 200);

  const metrics = await s.metricsRegistry.registry.metrics();
  assert.doesNotMatch(metrics, /made-up/, 'no series per made-up name');
  assert.match(metrics, /caller="unknown"/);
  assert.match(metrics, /caller="cards"/);
  const callers = new Set([...metrics.matchAll(/caller="([^"]*)"/g)].map((m) => m[1]));
  assert.deepEqual([...callers].sort(), ['cards', 'unknown']);
});

test('the known set comes from RPC_KNOWN_CALLERS and rate-limit overrides when not given', async () => {
  process.env.RPC_KNOWN_CALLERS = 'cards, feed';
  try {
    const s = await rpcServer((r) => r.get('/x', () => 'x'), {
      name: 'ledger',
      rateLimit: { ratePerSec: 100, callers: { vip: { ratePerSec: 1000 } } },
    });
    cleanup.push(() => s.stop(100));
    for (const caller of ['cards', 'feed', 'vip', 'stranger'])
      await (await fetch(`${s.url}/x`, { headers: { 'origin-service': caller } })).text();
    const metrics = await s.metricsRegistry.registry.metrics();
    const callers = new Set([...metrics.matchAll(/caller="([^"]*)"/g)].map((m) => m[1]));
    assert.deepEqual([...callers].sort(), ['cards', 'feed', 'unknown', 'vip']);
  } finally {
    delete process.env.RPC_KNOWN_CALLERS;
  }
});
