import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { RpcMetrics } from '../metrics.ts';
import { rpcServer } from '../testing.ts';
import { type Node, PeakEwma, pickP2C } from './balancer.ts';
import { createClient } from './client.ts';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function backends() {
  const hits = { fast: 0, slow: 0 };
  const fast = await rpcServer((r) =>
    r.get('/x', () => {
      hits.fast++;
      return { ok: true };
    }),
  );
  const slow = await rpcServer((r) =>
    r.get('/x', async () => {
      hits.slow++;
      await new Promise((res) => setTimeout(res, 150));
      return { ok: true };
    }),
  );
  cleanup.push(
    () => fast.stop(100),
    () => slow.stop(100),
  );
  return { hits, urls: [fast.url, slow.url] };
}

for (const kind of ['p2c', 'ewma'] as const) {
  test(`${kind} sends less traffic to a slow endpoint`, async () => {
    const { hits, urls } = await backends();
    const c = createClient('svc', {
      caller: 'test',
      discovery: { svc: urls },
      balancer: kind,
      metrics: new RpcMetrics(),
    });
    cleanup.push(() => c.close());
    // 8 concurrent workers, 160 calls: the slow endpoint accumulates in-flight requests (or a high
    // EWMA cost). A random choice would split the calls evenly.
    let sent = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (sent < 160) {
          sent++;
          await c.get('/x');
        }
      }),
    );
    assert.ok(hits.slow * 2 < hits.fast, `slow ${hits.slow} vs fast ${hits.fast}`);
  });
}

test('P2C picks two distinct nodes, prefers Open over Busy, then the lower load', () => {
  const node = (load: number, status: 'open' | 'busy' = 'open'): Node & { name: string } => ({
    name: `${status}${load}`,
    status,
    load: () => load,
  });
  const a = node(5);
  const b = node(1);
  // random 0 → a = 0, b = 1.
  assert.equal(
    pickP2C([a, b], undefined, () => 0),
    b,
  );
  assert.equal(pickP2C([node(1, 'busy'), node(9)], undefined, () => 0)?.name, 'open9');
  assert.equal(
    pickP2C([a], undefined, () => 0),
    a,
  );
  assert.equal(
    pickP2C([], undefined, () => 0),
    undefined,
  );
  assert.equal(
    pickP2C([a, b], [b], () => 0),
    a,
    'excluded nodes are skipped while others remain',
  );
});

test('peak EWMA jumps to a peak and decays; unknown hosts with work pending are penalised', () => {
  let t = 0;
  const e = new PeakEwma(10_000, () => t);
  assert.ok(e.load(1) >= PeakEwma.PENALTY);
  e.observe(100);
  assert.equal(e.load(0), 100);
  t += 10_000;
  e.observe(10);
  assert.ok(e.load(0) < 50 && e.load(0) > 10, 'decayed towards the new RTT');
  e.observe(500);
  assert.equal(e.load(1), 1000, 'peak × (pending + 1)');
});
