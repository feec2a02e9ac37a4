/**
 * What a permission check adds to a read. Prints JSON.
 *
 *   npx tsx bench/identity/permissions.ts [--n 20000]
 *
 * On the bank's estate (services/, ingested into a fresh SQLite file), with the portal's own PortalAuth and
 * BankPolicy, for a signed-in engineer (a session row in the store) asking for scaffolder.task.create on a
 * service their squad owns (the conditional path: owner lookup, membership, the collective):
 *   - decision: the policy alone (`decide`), per call;
 *   - authorize: the whole check as a route pays it (session lookup, through the lookup cache, and the
 *     decision), timed inside the handler;
 *   - read: an in-process Hono read (the entity by ref) without and with `authorize` in front of it,
 *     interleaved, so the difference is what the check adds: the session lookup in the store plus the
 *     decision. Target (issue 11): ≤ 0.2 ms added at p99.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CatalogStore } from '@bank/catalog';
import { CatalogService, GraphService } from '@bank/plugin-catalog';
import { createApp, permissions } from '@bank/plugin-kit';
import { PortalAuth } from '../../portal/server/auth.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '20000' } } });
const N = Number(values.n);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const summary = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    p50: r(percentile(s, 50)),
    p90: r(percentile(s, 90)),
    p99: r(percentile(s, 99)),
    max: r(s[s.length - 1]),
  };
};

const dir = mkdtempSync(path.join(tmpdir(), 'bench-perm-'));
const store = await CatalogStore.open(`file:${path.join(dir, 'portal.db')}`);
const catalog = new CatalogService(store, [path.resolve(import.meta.dirname, '..', '..', 'services')]);
await catalog.ingest();
const graph = new GraphService(catalog);
const auth = new PortalAuth(store, catalog, () => graph.current, { devSignIn: true, oidc: null });

// An engineer and a service their squad owns, from the estate itself.
const view = catalog.loaded;
const service = view
  .all()
  .find((e) => e.kind === 'Component' && e.relations?.some((r) => r.type === 'ownedBy'));
const owner = service?.relations?.find((r) => r.type === 'ownedBy')?.targetRef ?? '';
const engineer = view
  .all()
  .find((e) => e.kind === 'User' && e.relations?.some((r) => r.type === 'memberOf' && r.targetRef === owner));
if (!service || !engineer)
  throw new Error('the estate has no service with an owning squad that has a member');
const serviceRef = `component:default/${service.metadata.name}`;
const userRef = `user:default/${engineer.metadata.name}`;
const actor = { kind: 'user' as const, id: userRef };

// A session for the engineer, as the sign-in makes one.
const signIn = createApp();
signIn.route('/api/auth', auth.router());
const res = await signIn.request('/api/auth/sign-in', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ user: engineer.metadata.name }),
});
const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];

const app = createApp();
app.get('/read', (c) => c.json(view.byRef.get(serviceRef) ?? null));
const inHandler: number[] = [];
app.get('/read-authorized', async (c) => {
  const t = performance.now();
  await auth.authorize(c, permissions.scaffolderTaskCreate, { ref: serviceRef });
  inHandler.push(performance.now() - t);
  return c.json(view.byRef.get(serviceRef) ?? null);
});

// Warm up both paths (JIT, Prisma's first queries).
for (let i = 0; i < 500; i++) {
  await app.request('/read', { headers: { cookie } });
  const r = await app.request('/read-authorized', { headers: { cookie } });
  if (r.status !== 200) throw new Error(`authorize refused the owner: ${r.status} ${await r.text()}`);
}

const decision: number[] = [];
for (let i = 0; i < N; i++) {
  const t = performance.now();
  auth.decide(actor, permissions.scaffolderTaskCreate, { ref: serviceRef });
  decision.push(performance.now() - t);
}

inHandler.length = 0;
const plain: number[] = [];
const checked: number[] = [];
for (let i = 0; i < N / 4; i++) {
  let t = performance.now();
  await (await app.request('/read', { headers: { cookie } })).arrayBuffer();
  plain.push(performance.now() - t);
  t = performance.now();
  await (await app.request('/read-authorized', { headers: { cookie } })).arrayBuffer();
  checked.push(performance.now() - t);
}

const p = summary(plain);
const c = summary(checked);
process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'identity/permissions',
      when: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        load1: Math.round(os.loadavg()[0] * 100) / 100,
        node: process.version,
      },
      estate: { entities: view.size, service: serviceRef, user: userRef, owner },
      decisionMs: summary(decision),
      authorizeMs: summary(inHandler),
      readMs: p,
      readWithAuthorizeMs: c,
      addedMs: {
        p50: Math.round((c.p50 - p.p50) * 1000) / 1000,
        p99: Math.round((c.p99 - p.p99) * 1000) / 1000,
      },
      targetAddedP99Ms: 0.2,
      runs: { decision: N, reads: N / 4 },
    },
    null,
    2,
  )}\n`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });
