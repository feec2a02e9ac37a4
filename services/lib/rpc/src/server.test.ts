import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createClient } from './client/client.ts';
import { formatDeadline } from './context.ts';
import { RpcError } from './errors.ts';
import { RpcMetrics } from './metrics.ts';
import { delay, rpcServer } from './testing.ts';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const client = (name: string, url: string, extra: Parameters<typeof createClient>[1] = {}) => {
  const c = createClient(name, {
    caller: 'test',
    discovery: { [name]: url },
    metrics: new RpcMetrics(),
    ...extra,
  });
  cleanup.push(() => c.close());
  return c;
};

test('/ping, /ready and /metrics (Prometheus, RED per route)', async () => {
  const s = await rpcServer((r) => r.get('/cards/:id', () => ({ ok: true })), {
    name: 'cards',
    knownCallers: ['test'],
  });
  cleanup.push(() => s.stop(100));
  const ping = await fetch(`${s.url}/ping`);
  assert.equal(ping.status, 200);
  assert.equal(await ping.text(), 'pong');
  assert.equal((await fetch(`${s.url}/ready`)).status, 200);
  s.ready = false;
  const notReady = await fetch(`${s.url}/ready`);
  assert.equal(notReady.status, 503);
  await notReady.text();
  s.ready = true;
  const c = client('cards', s.url);
  await c.get('/cards/1');
  await c.get('/cards/2');
  await assert.rejects(c.get('/nope'));
  const res = await fetch(`${s.url}/metrics`);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const text = await res.text();
  assert.match(
    text,
    /rpc_server_requests_total\{callee="cards",caller="test",endpoint="\/cards\/:id",code="ok"\} 2/,
  );
  assert.match(
    text,
    /rpc_server_failures_total\{callee="cards",caller="test",endpoint="unmatched",code="not_found"\} 1/,
  );
  assert.match(
    text,
    /rpc_server_request_latency_seconds_bucket\{le="0.005",callee="cards",endpoint="\/cards\/:id"\} \d/,
  );
  assert.match(text, /rpc_server_pending\{callee="cards"\} 0/);
});

test('graceful shutdown drains in-flight requests, loses none, then refuses new ones', async () => {
  const s = await rpcServer(
    (r) =>
      r.get('/slow/:i', async (req) => {
        await delay(300);
        return { i: Number(req.params.i) };
      }),
    { name: 'slow' },
  );
  const c = client('slow', s.url, { maxRetries: 0 });
  const calls = Array.from({ length: 20 }, (_, i) => c.get<{ i: number }>(`/slow/${i}`));
  while (s.inFlight < 20) await delay(5);
  const stopping = s.stop(5_000);
  assert.equal(s.ready, false, 'not ready once stopping');
  const results = await Promise.allSettled(calls);
  await stopping;
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value.i : `lost: ${String(r.reason)}`)),
    Array.from({ length: 20 }, (_, i) => i),
  );
  await assert.rejects(fetch(`${s.url}/ping`), 'no longer accepting');
});

test('graceful shutdown forces connections closed after the grace period', async () => {
  const s = await rpcServer((r) => r.get('/hang', () => delay(10_000).then(() => 'late')));
  const c = client('hang', s.url, { maxRetries: 0 });
  const call = c.get('/hang');
  while (s.inFlight < 1) await delay(5);
  const t = Date.now();
  await s.stop(100);
  assert.ok(Date.now() - t < 2000);
  await assert.rejects(call);
});

test('a passed deadline stops work on the server', async () => {
  let steps = 0;
  let sawAbort = false;
  let expiredHandled = 0;
  const s = await rpcServer((r) => {
    r.get('/work', async (req) => {
      for (let i = 0; i < 50; i++) {
        if (req.context.signal.aborted) {
          sawAbort = true;
          throw req.context.signal.reason;
        }
        steps++;
        await delay(20);
      }
      return 'done';
    });
    r.get('/expired', () => {
      expiredHandled++;
      return 'ran';
    });
  });
  cleanup.push(() => s.stop(100));
  const c = client('work', s.url, { maxRetries: 0 });
  const t = Date.now();
  await assert.rejects(c.get('/work', { timeoutMs: 150 }), (e: RpcError) => e.is('timeout'));
  assert.ok(Date.now() - t < 900, 'the caller got its answer at the deadline, not after the work');
  for (let i = 0; i < 100 && !sawAbort; i++) await delay(10);
  assert.ok(sawAbort, 'the handler saw its context cancelled at the deadline');
  assert.ok(steps < 25, `work stopped (${steps} of 50 steps)`);

  // A request whose deadline has already passed is rejected without running the handler.
  const past = Date.now() - 1000;
  const res = await fetch(`${s.url}/expired`, {
    headers: { 'l5d-ctx-deadline': formatDeadline(past - 10, past) },
  });
  assert.equal(res.status, 504);
  assert.equal(((await res.json()) as { message: string }).message, 'Request has expired');
  assert.equal(expiredHandled, 0);
});

test('typed errors cross hops; an error already marshalled twice is not retried again', async () => {
  const hits = { transactions: 0, cards: 0 };
  const transactions = await rpcServer(
    (r) =>
      r.get('/tx/:card', () => {
        hits.transactions++;
        throw new RpcError('internal_service.ledger_down', 'Ledger unavailable', { params: { shard: '3' } });
      }),
    { name: 'transactions' },
  );
  const txClient = client('transactions', transactions.url, {
    caller: 'cards',
    backoff: { minMs: 1, maxMs: 2 },
  });
  const cards = await rpcServer(
    (r) =>
      r.get('/cards/:id', async (req) => {
        hits.cards++;
        return txClient.get(`/tx/${req.params.id}`);
      }),
    { name: 'cards' },
  );
  cleanup.push(
    () => transactions.stop(100),
    () => cards.stop(100),
  );
  const edge = client('cards', cards.url, { caller: 'card-api', backoff: { minMs: 1, maxMs: 2 } });
  await assert.rejects(edge.get('/cards/9'), (e: RpcError) => {
    assert.equal(e.code, 'internal_service.ledger_down');
    assert.equal(e.status, 500);
    assert.deepEqual(e.params, { shard: '3' });
    assert.equal(e.marshalCount, 2);
    return true;
  });
  assert.equal(hits.transactions, 4, 'cards retried the first-hop error (1 + 3 retries)');
  assert.equal(hits.cards, 1, 'card-api did not retry on top of those retries');
});
