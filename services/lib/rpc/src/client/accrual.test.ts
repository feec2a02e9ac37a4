import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { RpcError } from '../errors.ts';
import { RpcMetrics } from '../metrics.ts';
import { bareServer, manualClock } from '../testing.ts';
import { FailureAccrual } from './accrual.ts';
import { createClient } from './client.ts';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

test('the circuit opens after 5 consecutive failures and recovers after the probe', async () => {
  let failing = true;
  const backend = await bareServer((_req, res) => {
    if (failing) res.writeHead(503).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  cleanup.push(() => backend.close());
  const clock = manualClock();
  const metrics = new RpcMetrics();
  const c = createClient('ledger', {
    caller: 'test',
    discovery: { ledger: [backend.url] },
    metrics,
    maxRetries: 0,
    accrual: { now: clock.now, random: () => 0 },
  });
  cleanup.push(() => c.close());

  for (let i = 0; i < 4; i++)
    await assert.rejects(c.get('/x'), (e: RpcError) => e.code === 'internal_service.unavailable');
  assert.equal(c.endpoints()[0].state, 'alive', 'four failures are not enough');
  await assert.rejects(c.get('/x'));
  assert.equal(c.endpoints()[0].state, 'dead', 'the fifth failure trips it');
  assert.match(
    await metrics.registry.metrics(),
    /rpc_client_open_circuits\{caller="test",callee="ledger"\} 1/,
  );

  // While dead, calls fail fast without reaching the endpoint.
  const hits = backend.hits;
  await assert.rejects(c.get('/x'), (e: RpcError) => e.code === 'internal_service.circuit_open');
  assert.equal(backend.hits, hits, 'no request sent to a dead endpoint');

  // The first backoff is 5 s (random 0 → the lower bound). Before it: still dead.
  clock.advance(4_999);
  assert.equal(c.endpoints()[0].state, 'dead');
  clock.advance(1);
  assert.equal(c.endpoints()[0].state, 'probeOpen');

  // A failed probe: dead again, with the next (10 s) backoff.
  await assert.rejects(c.get('/x'), (e: RpcError) => e.code === 'internal_service.unavailable');
  assert.equal(c.endpoints()[0].state, 'dead');
  clock.advance(9_999);
  assert.equal(c.endpoints()[0].state, 'dead');
  clock.advance(1);

  // The endpoint healed: the probe succeeds and the endpoint is alive again.
  failing = false;
  assert.deepEqual(await c.get('/x'), { ok: true });
  assert.equal(c.endpoints()[0].state, 'alive');
  assert.match(
    await metrics.registry.metrics(),
    /rpc_client_open_circuits\{caller="test",callee="ledger"\} 0/,
  );
});

test('backoff is equal jitter from 5 s doubling to at most 300 s', () => {
  const lo = new FailureAccrual({ random: () => 0 });
  const hi = new FailureAccrual({ random: () => 0.999999 });
  assert.deepEqual(
    [1, 2, 3, 7, 8].map((n) => lo.backoffMs(n)),
    [5_000, 10_000, 20_000, 300_000, 300_000],
  );
  assert.ok(Math.abs(hi.backoffMs(1) - 10_000) < 1);
  assert.equal(hi.backoffMs(7), 300_000);
});

test('a probe interrupted by the caller may be sent again; success in between resets the count', () => {
  const clock = manualClock();
  const a = new FailureAccrual({ now: clock.now, random: () => 0 });
  for (let i = 0; i < 4; i++) a.onFailure();
  a.onSuccess();
  for (let i = 0; i < 4; i++) a.onFailure();
  assert.equal(a.state, 'alive', 'failures must be consecutive');
  a.onFailure();
  assert.equal(a.status, 'busy');
  clock.advance(5_000);
  a.onRequest();
  assert.equal(a.state, 'probeClosed');
  assert.equal(a.status, 'busy', 'only one probe at a time');
  a.onCancel();
  assert.equal(a.state, 'probeOpen');
});
