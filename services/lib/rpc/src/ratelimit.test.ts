import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createClient } from './client/client.ts';
import type { RpcError } from './errors.ts';
import { RpcMetrics } from './metrics.ts';
import { manualClock, rpcServer } from './testing.ts';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

test('per-caller token bucket: 429 with Retry-After over the limit, other callers unaffected', async () => {
  const clock = manualClock();
  const s = await rpcServer((r) => r.get('/balance', () => ({ pence: 100 })), {
    name: 'accounts',
    knownCallers: ['noisy'],
    rateLimit: { ratePerSec: 2, burst: 5, callers: { vip: { ratePerSec: 100 } }, now: clock.now },
  });
  cleanup.push(() => s.stop(100));
  const get = (caller: string) => fetch(`${s.url}/balance`, { headers: { 'origin-service': caller } });
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < 8; i++) {
    const res = await get('noisy');
    statuses.push(res.status);
    if (res.status === 429) {
      retryAfter = res.headers.get('retry-after');
      const body = (await res.json()) as { code: string };
      assert.equal(body.code, 'rate_limited');
    } else await res.text();
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
  assert.equal(retryAfter, '1', 'one token every 500 ms → retry after 1 s');
  for (let i = 0; i < 8; i++) assert.equal((await get('vip')).status, 200);
  assert.equal((await fetch(`${s.url}/ping`)).status, 200, 'probes are never limited');
  clock.advance(1000);
  assert.deepEqual(
    [(await get('noisy')).status, (await get('noisy')).status, (await get('noisy')).status],
    [200, 200, 429],
  );

  // Our client sees a retryable rate_limited error, honours Retry-After and gives up when it cannot wait.
  const c = createClient('accounts', {
    caller: 'noisy',
    discovery: { accounts: s.url },
    metrics: new RpcMetrics(),
    timeoutMs: 500,
  });
  cleanup.push(() => c.close());
  await assert.rejects(c.get('/balance'), (e: RpcError) => e.code === 'rate_limited' && e.status === 429);
  const metrics = await s.metricsRegistry.registry.metrics();
  assert.match(metrics, /rpc_server_rate_limited_total\{callee="accounts",caller="noisy"\} [4-9]/);
});
