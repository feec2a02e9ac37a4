import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { RpcMetrics } from '../metrics.ts';
import { delay, rpcServer } from '../testing.ts';
import { createClient } from './client.ts';
import { DnsResolver, parseDiscovery, resolverFor, StaticResolver } from './discovery.ts';

const cleanup: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

test('RPC_DISCOVERY maps a name to base URLs; a real call goes to them', async () => {
  const s = await rpcServer((r) => r.get('/who', () => ({ me: 'transactions' })));
  cleanup.push(() => s.stop(100));
  const before = process.env.RPC_DISCOVERY;
  process.env.RPC_DISCOVERY = JSON.stringify({
    transactions: `${s.url}/`,
    other: ['http://a:1', 'http://b:2'],
  });
  try {
    const c = createClient('transactions', { caller: 'test', metrics: new RpcMetrics() });
    cleanup.push(() => c.close());
    assert.deepEqual(await c.get('/who'), { me: 'transactions' });
    assert.deepEqual(resolverFor('other').endpoints(), ['http://a:1', 'http://b:2']);
  } finally {
    if (before === undefined) delete process.env.RPC_DISCOVERY;
    else process.env.RPC_DISCOVERY = before;
  }
  assert.throws(() => parseDiscovery('[1]'), /JSON object/);
  assert.throws(() => parseDiscovery('{"x": 3}'), /URL/);
});

test('without RPC_DISCOVERY the Kubernetes DNS name is service-<name>.<namespace>.svc.cluster.local', () => {
  const r = resolverFor('cards', { namespace: 'payments', lookup: async () => [] });
  cleanup.push(() => r.close());
  assert.ok(r instanceof DnsResolver);
  assert.equal(r.host, 'service-cards.payments.svc.cluster.local');
});

test('DNS is re-resolved periodically and the client follows the new endpoint set', async () => {
  // Kubernetes DNS cannot run here: the lookup is the one injected boundary. The servers are real.
  const a = await rpcServer((r) => r.get('/who', () => 'a'));
  const b = await rpcServer((r) => r.get('/who', () => 'b'));
  cleanup.push(
    () => a.stop(100),
    () => b.stop(100),
  );
  let answer = ['127.0.0.1'];

  const resolver = new DnsResolver('cards.default.svc.cluster.local', {
    port: a.port,
    refreshMs: 30,
    lookup: async () => answer,
  });
  const c = createClient('cards', { caller: 'test', resolver, metrics: new RpcMetrics() });
  cleanup.push(() => c.close());
  assert.equal(await c.get('/who'), 'a');
  assert.deepEqual(
    c.endpoints().map((e) => e.url),
    [`http://127.0.0.1:${a.port}`],
  );
  answer = ['127.0.0.1', 'localhost'];
  await delay(100);
  assert.equal(c.endpoints().length, 2, 're-resolution added the new address');
  answer = [];
  await delay(100);
  assert.equal(c.endpoints().length, 0, 'and removed the old ones');
  await assert.rejects(Promise.race([c.get('/who'), delay(500).then(() => 'hung')]), /No endpoints/);
});

test('the system resolver resolves a real name (localhost)', async () => {
  const r = new DnsResolver('localhost', { port: 8080 });
  cleanup.push(() => r.close());
  await r.ready();
  assert.ok(r.endpoints().some((u) => u === 'http://127.0.0.1:8080' || u === 'http://[::1]:8080'));
});

test('a static resolver publishes updates', () => {
  const r = new StaticResolver(['http://x:1']);
  let seen: readonly string[] = [];
  r.subscribe((e) => {
    seen = e;
  });
  r.update(['http://y:2/']);
  assert.deepEqual(seen, ['http://y:2']);
});
