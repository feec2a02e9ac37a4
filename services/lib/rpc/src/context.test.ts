import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createClient } from './client/client.ts';
import { currentContext, parseDeadline, parseTraceparent, withContext } from './context.ts';
import { RpcMetrics } from './metrics.ts';
import { delay, rpcServer } from './testing.ts';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

interface Seen {
  traceparent: string;
  requestId: string;
  caller: string | undefined;
  traceId: string;
  spanId: string;
  deadline: number | undefined;
}

/** Three services a → b → c, each calling the next with a plain client call (no context passed by hand). */
async function chain(cWork: (signal: AbortSignal) => Promise<unknown>) {
  const seen: Record<string, Seen> = {};
  const record = (name: string, h: Record<string, string | string[] | undefined>) => {
    const ctx = currentContext();
    assert.ok(ctx);
    seen[name] = {
      traceparent: String(h.traceparent),
      requestId: ctx.requestId,
      caller: ctx.caller,
      traceId: ctx.traceId,
      spanId: ctx.spanId,
      deadline: ctx.deadline,
    };
  };
  const metrics = new RpcMetrics();
  const c = await rpcServer(
    (r) =>
      r.get('/work', async (req) => {
        record('c', req.headers);
        return cWork(req.context.signal);
      }),
    { name: 'c', metrics, knownCallers: ['b'] },
  );
  const toC = createClient('c', { discovery: { c: c.url }, metrics, maxRetries: 0 });
  const b = await rpcServer(
    (r) =>
      r.get('/work', async (req) => {
        record('b', req.headers);
        return toC.get('/work');
      }),
    { name: 'b', metrics, knownCallers: ['a'] },
  );
  const toB = createClient('b', { discovery: { b: b.url }, metrics, maxRetries: 0 });
  const a = await rpcServer(
    (r) =>
      r.get('/work', async (req) => {
        record('a', req.headers);
        return toB.get('/work');
      }),
    { name: 'a', metrics },
  );
  cleanup.push(
    () => toC.close(),
    () => toB.close(),
    () => a.stop(100),
    () => b.stop(100),
    () => c.stop(100),
  );
  return { seen, a };
}

test('traceparent (trace id) and request id arrive unchanged three hops down; each hop parents the next', async () => {
  const { seen, a } = await chain(async () => 'ok');
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const res = await fetch(`${a.url}/work`, {
    headers: {
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      'x-request-id': 'req-123',
      'l5d-ctx-deadline': `${Date.now()}000000 ${Date.now() + 3000}000000`,
    },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-request-id'), 'req-123');
  for (const hop of ['a', 'b', 'c']) {
    assert.equal(seen[hop].traceId, traceId, `${hop} has the edge's trace id`);
    assert.equal(parseTraceparent(seen[hop].traceparent)?.traceId, traceId);
    assert.equal(seen[hop].requestId, 'req-123', `${hop} has the edge's request id`);
  }
  assert.equal(parseTraceparent(seen.a.traceparent)?.parentId, '00f067aa0ba902b7');
  assert.notEqual(
    parseTraceparent(seen.b.traceparent)?.parentId,
    seen.a.spanId,
    'a client span sits between',
  );
  assert.deepEqual([seen.a.caller, seen.b.caller, seen.c.caller], [undefined, 'a', 'b']);
  const deadlines = [seen.a.deadline, seen.b.deadline, seen.c.deadline] as number[];
  assert.ok(
    deadlines.every((d) => d !== undefined && d <= deadlines[0]),
    'the deadline flows down, never later',
  );
});

test('a cancelled caller cancels the grandchild call', async () => {
  let grandchildCancelledAt = 0;
  let grandchildFinished = false;
  const { a } = await chain(async (signal) => {
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        grandchildFinished = true;
        resolve();
      }, 3000);
      signal.addEventListener('abort', () => {
        grandchildCancelledAt = Date.now();
        clearTimeout(t);
        resolve();
      });
    });
    return 'slow';
  });
  const edge = createClient('a', {
    caller: 'edge',
    discovery: { a: a.url },
    metrics: new RpcMetrics(),
    maxRetries: 0,
  });
  cleanup.push(() => edge.close());
  const controller = new AbortController();
  const call = edge.get('/work', { signal: controller.signal });
  await delay(200);
  const abortedAt = Date.now();
  controller.abort();
  await assert.rejects(call, /cancelled/);
  for (let i = 0; i < 50 && grandchildCancelledAt === 0; i++) await delay(10);
  assert.ok(grandchildCancelledAt > 0, 'the grandchild saw its context cancelled');
  assert.ok(grandchildCancelledAt - abortedAt < 300, `within ${grandchildCancelledAt - abortedAt} ms`);
  assert.equal(grandchildFinished, false);
});

test('withContext bounds calls started outside a request; deadline header folding keeps the strictest', () => {
  withContext({ service: 'job', deadline: 5000 }, () => {
    assert.equal(currentContext()?.service, 'job');
    assert.equal(currentContext()?.deadline, 5000);
  });
  assert.equal(parseDeadline(['1000000000 9000000000', '1000000000 7000000000']), 7000);
  assert.equal(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01'), undefined);
});
