import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { RpcError } from '../errors.ts';
import { RpcMetrics } from '../metrics.ts';
import { bareServer, delay, resettingServer, rpcServer, suicidalProcess } from '../testing.ts';
import { DecorrelatedJitter } from './backoff.ts';
import { RetryBudget } from './budget.ts';
import { createClient } from './client.ts';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function healthy() {
  const s = await rpcServer((r) => r.get('/card/:id', (req) => ({ id: req.params.id, from: 'healthy' })), {
    name: 'cards',
  });
  cleanup.push(() => s.stop(100));
  return s;
}

function client(urls: string[], extra: Parameters<typeof createClient>[1] = {}) {
  const c = createClient('cards', {
    caller: 'test',
    discovery: { cards: urls },
    metrics: new RpcMetrics(),
    accrual: false,
    backoff: { minMs: 1, maxMs: 5 },
    ...extra,
  });
  cleanup.push(() => c.close());
  return c;
}

describe('retries reach a healthy endpoint past a broken one', () => {
  test('a slow endpoint: the attempt timeout fires and the retry goes elsewhere', async () => {
    const slow = await bareServer((_req, res) => {
      setTimeout(() => res.end('{}'), 2000).unref();
    });
    cleanup.push(() => slow.close());
    const ok = await healthy();
    const c = client([slow.url, ok.url], { attemptTimeoutMs: 100 });
    for (let i = 0; i < 10; i++) {
      const started = Date.now();
      const body = await c.get<{ from: string }>(`/card/${i}`);
      assert.equal(body.from, 'healthy');
      assert.ok(Date.now() - started < 1000, 'never waited for the slow endpoint');
    }
    assert.ok(slow.hits > 0, 'the slow endpoint was tried');
  });

  test('an endpoint answering 503 (no Terror header) is retried on another', async () => {
    const unavailable = await bareServer((_req, res) => {
      res.writeHead(503).end('upstream unavailable');
    });
    cleanup.push(() => unavailable.close());
    const ok = await healthy();
    const c = client([unavailable.url, ok.url]);
    for (let i = 0; i < 20; i++) assert.equal((await c.get<{ from: string }>(`/card/${i}`)).from, 'healthy');
    assert.ok(unavailable.hits > 0);
  });

  test('an endpoint resetting connections is retried on another', async () => {
    const resetting = await resettingServer();
    cleanup.push(() => resetting.close());
    const ok = await healthy();
    const c = client([resetting.url, ok.url]);
    for (let i = 0; i < 20; i++) assert.equal((await c.get<{ from: string }>(`/card/${i}`)).from, 'healthy');
    assert.ok(resetting.hits > 0);
  });

  test('an endpoint killed mid-request (SIGKILL) is retried on another', async () => {
    const doomed = await suicidalProcess();
    const ok = await healthy();
    // Random 0 makes P2C compare nodes 0 and 1 and (equal load) take node 1: the doomed process first.
    const c = client([ok.url, doomed.url], { random: () => 0 });
    const body = await c.get<{ from: string }>('/card/1');
    assert.equal(body.from, 'healthy');
    const [code, signal] = (await doomed.exited) as [number | null, string | null];
    assert.equal(signal, 'SIGKILL', `the process was killed (exit ${code})`);
  });

  test('without retries the same failures reach the caller', async () => {
    const unavailable = await bareServer((_req, res) => {
      res.writeHead(503).end();
    });
    cleanup.push(() => unavailable.close());
    const c = client([unavailable.url], { maxRetries: 0 });
    await assert.rejects(c.get('/card/1'), (e: RpcError) => e.code === 'internal_service.unavailable');
  });
});

describe('retry classification', () => {
  test('a non-retryable error is not retried', async () => {
    let hits = 0;
    const s = await rpcServer((r) =>
      r.get('/x', () => {
        hits++;
        throw new RpcError('bad_request.nope', 'no');
      }),
    );
    cleanup.push(() => s.stop(100));
    await assert.rejects(client([s.url]).get('/x'), (e: RpcError) => e.code === 'bad_request.nope');
    assert.equal(hits, 1);
  });

  test('an error that already crossed two hops (marshal_count 2) is not retried', async () => {
    let hits = 0;
    const s = await rpcServer((r) =>
      r.get('/x', () => {
        hits++;
        throw new RpcError('internal_service.downstream', 'from far away', { marshalCount: 1 });
      }),
    );
    cleanup.push(() => s.stop(100));
    await assert.rejects(client([s.url]).get('/x'), (e: RpcError) => e.marshalCount === 2);
    assert.equal(hits, 1);
  });
});

describe('retry budget', () => {
  test('under a 100 % failure storm, attempts stay within 20 % of requests plus the 10/s floor', async () => {
    const failing = await bareServer((_req, res) => {
      res.writeHead(503).end();
    });
    cleanup.push(() => failing.close());
    const metrics = new RpcMetrics();
    const c = client([failing.url], { metrics, maxRetries: 10 });
    const requests = 400;
    const results = await Promise.allSettled(Array.from({ length: requests }, (_, i) => c.get(`/card/${i}`)));
    assert.ok(results.every((r) => r.status === 'rejected'));
    const attempts = failing.hits;
    // reserve = 10/s × 10 s = 100 retries, plus 20 % of 400 = 80.
    assert.ok(attempts <= requests + 180, `attempts ${attempts} within budget`);
    assert.ok(attempts > requests, 'some retries were allowed');
    const text = await metrics.registry.metrics();
    assert.match(text, /rpc_client_retries_budget_exhausted_total\{caller="test",callee="cards"\} [1-9]/);
  });

  test('budget arithmetic: 20 % of deposits plus the reserve, expiring after the ttl', () => {
    let t = 0;
    const b = new RetryBudget({ now: () => t, minRetriesPerSec: 0 });
    assert.equal(b.tryWithdraw(), false);
    for (let i = 0; i < 100; i++) b.deposit();
    let ok = 0;
    while (b.tryWithdraw()) ok++;
    assert.equal(ok, 20);
    t += 11_000;
    for (let i = 0; i < 10; i++) b.deposit();
    assert.equal(b.balance, 2, 'old deposits and withdrawals expired');
    const floor = new RetryBudget({ now: () => t });
    assert.equal(floor.balance, 100, '10/s × 10 s reserve');
    assert.equal(new RetryBudget({ minRetriesPerSec: 0, percentCanRetry: 0 }).tryWithdraw(), false);
  });
});

describe('decorrelated jitter', () => {
  test('starts at min, stays within [min, max], grows up to 3× the last', () => {
    const j = new DecorrelatedJitter({ minMs: 10, maxMs: 1000, random: () => 0.999 });
    const seq = Array.from({ length: 8 }, () => j.next());
    assert.equal(seq[0], 10);
    for (let i = 1; i < seq.length; i++) {
      assert.ok(seq[i] >= 10 && seq[i] <= 1000);
      assert.ok(seq[i] <= 10 + Math.abs(3 * seq[i - 1] - 10));
    }
    assert.equal(seq[7], 1000);
  });

  test('retries wait the backoff (a retry arrives no sooner than min)', async () => {
    const times: number[] = [];
    const s = await bareServer((_req, res) => {
      times.push(Date.now());
      res.writeHead(503).end();
    });
    cleanup.push(() => s.close());
    const c = client([s.url], { backoff: { minMs: 60, maxMs: 60 }, maxRetries: 1 });
    await assert.rejects(c.get('/x'));
    assert.equal(times.length, 2);
    assert.ok(times[1] - times[0] >= 55, `waited ${times[1] - times[0]} ms`);
    await delay(1);
  });
});
