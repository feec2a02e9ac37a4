/**
 * Identity over real HTTP on 127.0.0.1 with a real SQLite store: the development sign-in as an explicit
 * mode, server-side sessions (forged, expired, revoked), the permission policy route by route, scoped and
 * expiring tokens, and the audit log of every write attempt.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { openDriver } from '@bank/catalog/sql';
import { component, ORG, writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { permissions } from '@bank/plugin-kit';
import { hashToken, parseEnvTokens } from './auth.ts';
import { DevSignInRefusedError, type RunningServer, startServer } from './server.ts';

const ADMIN_TOKEN = 'admin-token-1';
const TRACES_TOKEN = 'traces-only-token';
const DEPLOYS_TOKEN = 'deploys-only-token';

/** People beside ORG's jane.doe (ledger squad): a collective lead, a squad member elsewhere, an admin. */
const PEOPLE = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: payments-collective
spec:
  type: collective
  parent: bank
  children: [cards]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: cards
spec:
  type: squad
  parent: payments-collective
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: platform
spec:
  type: squad
  parent: bank
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: cora.lead
spec:
  memberOf: [core-banking]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: carl.cards
spec:
  memberOf: [cards]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: ada.admin
spec:
  memberOf: [platform]
`;

/**
 * Every write route of the mounted API and the permission it must check. A new non-GET route fails the
 * table test until it is listed here (or, for a read or sign-in that happens to be a POST, in OPEN_POSTS).
 */
const WRITE_ROUTES: Record<string, string> = {
  'DELETE /api/catalog/entities/by-uid/:uid': 'catalog.entity.delete',
  'POST /api/catalog/refresh': 'catalog.entity.refresh',
  'POST /api/catalog/locations': 'catalog.location.create',
  'DELETE /api/catalog/locations/:id': 'catalog.location.delete',
  'POST /api/scaffolder/tasks': 'scaffolder.task.create',
  'POST /api/scaffolder/v2/tasks': 'scaffolder.task.create',
  'POST /api/scaffolder/v2/dry-run': 'scaffolder.task.create',
  'POST /api/scaffolder/v2/tasks/:taskId/cancel': 'scaffolder.task.cancel',
  'POST /api/scaffolder/v2/tasks/:taskId/retry': 'scaffolder.task.create',
  'POST /api/deploys': 'deploys.write',
  'POST /api/auth/sessions/revoke': 'session.manage',
  'POST /v1/traces': 'traces.write',
  'POST /api/traffic/jaeger': 'traces.write',
};

/** Non-GET routes that write nothing, or authenticate otherwise, each with why it needs no permission. */
const OPEN_POSTS: Record<string, string> = {
  'POST /api/auth/sign-in': 'the development sign-in itself (404 unless the mode is on)',
  'POST /api/auth/sign-out': 'ends the caller’s own session',
  'POST /api/catalog/entities/by-refs': 'a read with a long list of refs',
  'POST /api/catalog/entity-facets': 'a read',
  'POST /api/catalog/entities/by-query': 'a read (Backstage queryEntities with a body)',
  'POST /api/catalog/validate-entity': 'checks a descriptor, stores nothing',
  'POST /api/scaffolder/dry-run': 'renders a preview, writes nothing',
  'POST /api/deploys/github':
    'GitHub webhook: authenticated by its X-Hub-Signature-256 HMAC (PORTAL_GITHUB_WEBHOOK_SECRET), audited',
};

describe('identity: dev sign-in, sessions, permissions, tokens and audit over real HTTP', () => {
  let server: RunningServer;
  let catalog: CatalogService;
  let dbUrl: string;
  const saved = { tokens: process.env.PORTAL_API_TOKENS, admins: process.env.PORTAL_ADMIN_GROUPS };
  const dir = writeTree({
    'org/catalog-info.yaml': ORG,
    'people/catalog-info.yaml': PEOPLE,
    'ledger/catalog-info.yaml': component('ledger'),
    'account/catalog-info.yaml': component('account', { owner: 'accounts' }),
    'card-api/catalog-info.yaml': component('card-api', { owner: 'cards' }),
  });

  const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const signIn = async (user: string) => {
    const res = await post('/api/auth/sign-in', { user });
    assert.equal(res.status, 200, `sign in as ${user}`);
    return (res.headers.get('set-cookie') ?? '').split(';')[0];
  };
  const me = async (cookie: string) =>
    (await (await fetch(`${server.url}/api/auth/me`, { headers: { cookie } })).json()) as {
      signedIn: boolean;
      actor: { id: string } | null;
      devSignIn: boolean;
    };
  const message = async (res: Response) =>
    ((await res.json()) as { error: { message: string } }).error.message;

  before(async () => {
    process.env.PORTAL_API_TOKENS = `${ADMIN_TOKEN}, ${TRACES_TOKEN}@traces:write, ${DEPLOYS_TOKEN}@deploys:write`;
    process.env.PORTAL_ADMIN_GROUPS = 'platform';
    // These tests edit and revoke rows in the store behind the server's back: no lookup cache here (its
    // own test below).
    process.env.PORTAL_AUTH_CACHE_MS = '0';
    dbUrl = `file:${path.join(mkdtempSync(path.join(tmpdir(), 'ident-')), 'p.db')}`;
    catalog = new CatalogService(await CatalogStore.open(dbUrl), [dir]);
    await catalog.ingest();
    // Many sign-ins in one minute from one address: above the default sign-in rate limit.
    server = await startServer({
      catalog,
      port: 0,
      ui: false,
      devSignIn: true,
      limits: { signInPerMinute: 1000 },
    });
  });
  after(async () => {
    await server.close();
    await catalog.store.close();
    delete process.env.PORTAL_AUTH_CACHE_MS;
    for (const [k, v] of [
      ['PORTAL_API_TOKENS', saved.tokens],
      ['PORTAL_ADMIN_GROUPS', saved.admins],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('development sign-in is off unless asked for: sign-in answers 404 and /me says so', async () => {
    const plain = await startServer({ catalog, port: 0, ui: false });
    try {
      const res = await fetch(`${plain.url}/api/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"user":"jane.doe"}',
      });
      assert.equal(res.status, 404);
      assert.match(await message(res), /development sign-in is off.*--dev-sign-in/);
      assert.equal(res.headers.get('set-cookie'), null, 'no session was started');
      const who = (await (await fetch(`${plain.url}/api/auth/me`)).json()) as { devSignIn: boolean };
      assert.equal(who.devSignIn, false);
    } finally {
      await plain.close();
    }
    assert.equal((await me('')).devSignIn, true, 'the dev server says the mode is on');
  });

  it('development sign-in is refused beyond loopback', async () => {
    await assert.rejects(
      startServer({ catalog, host: '0.0.0.0', port: 0, ui: false, devSignIn: true }),
      (err: Error) => err instanceof DevSignInRefusedError && /only runs on loopback/.test(err.message),
    );
  });

  it('refuses a forged session cookie', async () => {
    const cookie = await signIn('jane.doe');
    const forged = `${cookie.slice(0, -4)}AAAA`;
    assert.equal((await me(forged)).signedIn, false);
    const write = await post(
      '/api/catalog/refresh',
      { entityRef: 'component:default/ledger' },
      { cookie: forged },
    );
    assert.equal(write.status, 401);
    assert.match(await message(write), /Permission "catalog.entity.refresh" needs an authenticated caller/);
    // An old-style signed cookie (the session was once a HMAC of the user name) is just another forgery.
    const oldStyle = `portal_session=${Buffer.from('{"u":"user:default/ada.admin","e":9e15}').toString('base64url')}.x`;
    assert.equal((await me(oldStyle)).signedIn, false);
  });

  it('refuses an expired session', async () => {
    const cookie = await signIn('jane.doe');
    assert.equal((await me(cookie)).signedIn, true);
    // The clock passing, done to the stored row: the session's expiry is in the past.
    const raw = openDriver(dbUrl);
    // Prisma keeps SQLite DateTimes as ISO text with an explicit offset.
    await raw.exec('UPDATE "Session" SET "expiresAt" = ? WHERE "id" = ?', [
      new Date(Date.now() - 1000).toISOString().replace('Z', '+00:00'),
      hashToken(cookie.slice(cookie.indexOf('=') + 1)),
    ]);
    await raw.close();
    assert.equal((await me(cookie)).signedIn, false);
    const write = await post('/api/catalog/refresh', { entityRef: 'component:default/ledger' }, { cookie });
    assert.equal(write.status, 401);
  });

  it('sign-out revokes the session on the server: the old cookie no longer works', async () => {
    const cookie = await signIn('jane.doe');
    const out = await post('/api/auth/sign-out', {}, { cookie });
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie') ?? '', /portal_session=;/);
    assert.equal((await me(cookie)).signedIn, false, 'a copy of the cookie kept elsewhere is dead too');
    const write = await post('/api/catalog/refresh', { entityRef: 'component:default/ledger' }, { cookie });
    assert.equal(write.status, 401);
  });

  it('a session revoked elsewhere (another replica, an admin) is refused once the lookup cache lapses', async () => {
    process.env.PORTAL_AUTH_CACHE_MS = '300';
    const cached = await startServer({ catalog, port: 0, ui: false, devSignIn: true });
    process.env.PORTAL_AUTH_CACHE_MS = '0';
    try {
      const signIn = await fetch(`${cached.url}/api/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"user":"jane.doe"}',
      });
      const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
      const who = async () =>
        (
          (await (await fetch(`${cached.url}/api/auth/me`, { headers: { cookie } })).json()) as {
            signedIn: boolean;
          }
        ).signedIn;
      assert.equal(await who(), true);
      await catalog.store.revokeSessions({ userRef: 'user:default/jane.doe' });
      await new Promise((r) => setTimeout(r, 350));
      assert.equal(await who(), false);
    } finally {
      await cached.close();
    }
  });

  it('an admin revokes every session of a person (POST /api/auth/sessions/revoke, session.manage)', async () => {
    const carl = await signIn('carl.cards');
    const carlOnAnotherDevice = await signIn('carl.cards');
    const jane = await signIn('jane.doe');
    const refused = await post('/api/auth/sessions/revoke', { user: 'carl.cards' }, { cookie: jane });
    assert.equal(refused.status, 403);
    assert.match(await message(refused), /Permission "session.manage" denied/);
    const admin = await signIn('ada.admin');
    const res = await post('/api/auth/sessions/revoke', { user: 'carl.cards' }, { cookie: admin });
    assert.equal(res.status, 200);
    assert.ok(((await res.json()) as { revoked: number }).revoked >= 2);
    assert.equal((await me(carl)).signedIn, false);
    assert.equal((await me(carlOnAnotherDevice)).signedIn, false);
    assert.equal((await me(jane)).signedIn, true, 'nobody else is signed out');
  });

  it('stores only a hash of the session secret', async () => {
    const cookie = await signIn('jane.doe');
    const secret = cookie.slice(cookie.indexOf('=') + 1);
    const raw = openDriver(dbUrl);
    const rows = await raw.query<{ id: string; userRef: string }>('SELECT "id", "userRef" FROM "Session"');
    await raw.close();
    assert.ok(rows.some((r) => r.id === hashToken(secret)));
    assert.ok(!rows.some((r) => r.id === secret));
  });

  it('every write route of the mounted API checks its permission (route table)', async () => {
    const routes = [
      ...new Set(
        server.api.routes
          .filter((r) => !['GET', 'HEAD', 'OPTIONS', 'ALL'].includes(r.method))
          .map((r) => `${r.method} ${r.path}`),
      ),
    ];
    const undeclared = routes.filter((r) => !(r in WRITE_ROUTES) && !(r in OPEN_POSTS));
    assert.deepEqual(undeclared, [], 'write routes with no permission declared in WRITE_ROUTES');
    const carl = await signIn('carl.cards');
    for (const route of routes.filter((r) => r in WRITE_ROUTES)) {
      const [method, pattern] = route.split(' ');
      const url = `${server.url}${pattern.replace(/:\w+/g, 'x')}`;
      const init = { method, headers: { 'content-type': 'application/json' }, body: '{}' };
      const anon = await fetch(url, init);
      assert.equal(anon.status, 401, `${route} without credentials`);
      assert.match(await message(anon), new RegExp(`Permission "${WRITE_ROUTES[route]}"`), route);
      // A token scoped for something else: traces:write for every route but the trace receivers.
      const other = WRITE_ROUTES[route] === 'traces.write' ? DEPLOYS_TOKEN : TRACES_TOKEN;
      const scoped = await fetch(url, {
        ...init,
        headers: { ...init.headers, authorization: `Bearer ${other}` },
      });
      assert.equal(scoped.status, 403, `${route} with a token of another scope`);
      assert.match(await message(scoped), /lacks the scope/);
      // A signed-in person from an unrelated squad: refused (403), or for an owner-conditional permission,
      // refused once the resource is known (404/400 here: the route names no real resource).
      const person = await fetch(url, { ...init, headers: { ...init.headers, cookie: carl } });
      assert.ok([400, 403, 404].includes(person.status), `${route} as carl.cards: ${person.status}`);
    }
  });

  it('scaffolding needs membership of the owning team or its collective (policy, on the real catalogue)', () => {
    const auth = server.context.auth;
    const may = (user: string, owner: string) =>
      auth.decide({ kind: 'user', id: `user:default/${user}` }, permissions.scaffolderTaskCreate, { owner })
        .allowed;
    assert.equal(may('jane.doe', 'ledger'), true, 'member of the squad');
    assert.equal(may('jane.doe', 'accounts'), false, 'another squad of the same collective');
    assert.equal(may('cora.lead', 'accounts'), true, 'member of the collective above the squad');
    assert.equal(may('cora.lead', 'cards'), false, 'another collective');
    assert.equal(may('carl.cards', 'ledger'), false);
    assert.equal(may('ada.admin', 'ledger'), true, 'admin group');
    const denied = auth.decide(
      { kind: 'user', id: 'user:default/carl.cards' },
      permissions.scaffolderTaskCreate,
      {
        owner: 'ledger',
      },
    );
    assert.ok(
      !denied.allowed &&
        /member of the owning team or its collective.*group:default\/ledger/.test(denied.reason),
    );
  });

  it('refresh: owners may, others get 403 naming the permission; an unknown ref is refused before it is recorded', async () => {
    const jane = await signIn('jane.doe');
    const own = await post(
      '/api/catalog/refresh',
      { entityRef: 'component:default/ledger' },
      { cookie: jane },
    );
    assert.equal(own.status, 200);
    const other = await post(
      '/api/catalog/refresh',
      { entityRef: 'component:default/card-api' },
      { cookie: jane },
    );
    assert.equal(other.status, 403);
    assert.match(
      await message(other),
      /Permission "catalog.entity.refresh" denied.*owner: group:default\/cards/,
    );
    const admin = await signIn('ada.admin');
    const adminRefresh = await post(
      '/api/catalog/refresh',
      { entityRef: 'component:default/card-api' },
      { cookie: admin },
    );
    assert.equal(adminRefresh.status, 200, 'admins may refresh anything');
    const hostile = await post(
      '/api/catalog/refresh',
      { entityRef: 'component:default/<script>x' },
      { cookie: jane },
    );
    assert.equal(hostile.status, 404);
    const junk = await post('/api/catalog/refresh', { entityRef: '<script>x</script>' }, { cookie: jane });
    assert.equal(junk.status, 400);
    const log = await catalog.store.auditLog(200);
    assert.ok(
      !log.some((r) => JSON.stringify(r).includes('<script>')),
      'the unchecked ref never reached the log',
    );
  });

  it('location registration and token administration are for admins only', async () => {
    const jane = await signIn('jane.doe');
    const target = path.join(dir, 'ledger', 'catalog-info.yaml');
    const res = await post('/api/catalog/locations', { type: 'file', target }, { cookie: jane });
    assert.equal(res.status, 403);
    assert.match(await message(res), /Permission "catalog.location.create" denied.*admin group/);
    const admin = await signIn('ada.admin');
    assert.equal(
      (await post('/api/catalog/locations', { type: 'file', target }, { cookie: admin })).status,
      201,
    );
  });

  it('tokens: scopes decide, and a token past expiry or revoked is refused', async () => {
    const add = (name: string, secret: string, scopes: string[], expiresAt: Date | null) =>
      catalog.store.addToken({
        id: name,
        name,
        hash: hashToken(secret),
        createdBy: 'test',
        scopes,
        expiresAt,
      });
    await add('ci-catalog', 'ptl_live', ['catalog:write'], new Date(Date.now() + 3600_000));
    await add('ci-expired', 'ptl_expired', ['catalog:write'], new Date(Date.now() - 1000));
    const refresh = (token: string) =>
      post(
        '/api/catalog/refresh',
        { entityRef: 'component:default/ledger' },
        { authorization: `Bearer ${token}` },
      );
    assert.equal((await refresh('ptl_live')).status, 200);
    const expired = await refresh('ptl_expired');
    assert.equal(expired.status, 401);
    assert.match(await message(expired), /unknown, expired or revoked/);
    await catalog.store.revokeToken('ci-catalog');
    assert.equal((await refresh('ptl_live')).status, 401, 'revoked: refused from the next request on');
  });

  it('PORTAL_API_TOKENS: bare entries have every scope, `@scope+scope` entries only those; bad scopes stop the start', () => {
    const [bare, scoped] = parseEnvTokens('a, b@deploys:write+traces:write');
    assert.deepEqual(bare.scopes, ['admin']);
    assert.deepEqual(scoped.scopes, ['deploys:write', 'traces:write']);
    assert.throws(
      () => parseEnvTokens('ok, s3cret@deploy:write'),
      (err: Error) => {
        assert.match(err.message, /entry 2: unknown scope\(s\) "deploy:write"/);
        assert.ok(!err.message.includes('s3cret'), 'the secret is never echoed');
        return true;
      },
    );
  });

  it('audits every write attempt, allowed or denied, with who, client address and user agent', async () => {
    const carl = await signIn('carl.cards');
    await post(
      '/api/catalog/refresh',
      { entityRef: 'component:default/ledger' },
      { cookie: carl, 'user-agent': 'attacker-agent/1.0' },
    );
    await post('/api/catalog/locations', { type: 'file', target: '/etc/passwd' }, { 'user-agent': 'anon/2' });
    const log = await catalog.store.auditLog(50);
    const denied = log.find((r) => r.userAgent === 'attacker-agent/1.0');
    assert.deepEqual(denied && [denied.actor, denied.action, denied.target, denied.outcome, denied.client], [
      'user:default/carl.cards',
      'catalog.entity.refresh',
      'component:default/ledger',
      'denied',
      '127.0.0.1',
    ]);
    const anon = log.find((r) => r.userAgent === 'anon/2');
    assert.deepEqual(anon && [anon.actor, anon.action, anon.outcome], [
      'anonymous',
      'catalog.location.create',
      'denied',
    ]);
    const signIns = log.filter((r) => r.action === 'auth.sign-in' && r.target === 'user:default/carl.cards');
    assert.ok(signIns.length > 0 && signIns.every((r) => r.outcome === 'allowed'));
    assert.deepEqual(await catalog.store.verifyAudit(), {
      ok: true,
      checked: (await catalog.store.auditLog(10_000)).length,
      unchained: 0,
    });
  });

  it('GET /api/audit is for admins (audit.read): 401 anonymous, 403 for others, pages for admins', async () => {
    assert.equal((await fetch(`${server.url}/api/audit`)).status, 401);
    const jane = await signIn('jane.doe');
    const no = await fetch(`${server.url}/api/audit`, { headers: { cookie: jane } });
    assert.equal(no.status, 403);
    assert.match(await message(no), /Permission "audit.read" denied/);
    const page = (await (
      await fetch(`${server.url}/api/audit?limit=2`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).json()) as { items: { id: number }[]; next: string };
    assert.equal(page.items.length, 2);
    assert.ok(page.items[0].id > page.items[1].id, 'newest first');
    const next = (await (
      await fetch(`${server.url}/api/audit${page.next}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
    ).json()) as { items: { id: number }[] };
    assert.ok(next.items[0].id < page.items[1].id);
    const bad = await fetch(`${server.url}/api/audit?limit=0`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(bad.status, 400);
    const verify = (await (
      await fetch(`${server.url}/api/audit/verify`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).json()) as { ok: boolean };
    assert.equal(verify.ok, true);
  });

  it('marks the session cookie Secure when PORTAL_BASE_URL is https', async () => {
    process.env.PORTAL_BASE_URL = 'https://portal.bank.example';
    const tls = await startServer({ catalog, port: 0, ui: false, devSignIn: true });
    delete process.env.PORTAL_BASE_URL;
    try {
      const res = await fetch(`${tls.url}/api/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"user":"jane.doe"}',
      });
      assert.match(res.headers.get('set-cookie') ?? '', /;\s*Secure/i);
    } finally {
      await tls.close();
    }
    assert.doesNotMatch(
      (await post('/api/auth/sign-in', { user: 'jane.doe' })).headers.get('set-cookie') ?? '',
      /Secure/i,
    );
  });
});
