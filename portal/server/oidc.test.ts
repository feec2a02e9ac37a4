/**
 * Sign-in through OpenID Connect against a real OpenID Provider (oidc-provider) on 127.0.0.1: the portal's
 * authorization-code + PKCE flow, its sign-in resolvers, and the refusals (replayed callback, a state or
 * nonce that is not this login's, a callback this browser never started, an unverified email, nobody
 * matching). The browser is played over plain HTTP with a cookie jar per host; the Chromium journey is in
 * portal/e2e/oidc.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { component, ORG, writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { type OidcConfig, resolveSignIn, safeReturnTo } from './oidc.ts';
import { type RunningServer, startServer } from './server.ts';
import { startTestIdp, type TestIdp } from './testing/oidc-idp.ts';

const USERS = `apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: ola.nordmann
spec:
  profile:
    email: Ola.Nordmann@bank.example
  memberOf: [ledger]
`;

/** A browser over fetch: cookies per host, redirects followed by hand so each hop can be inspected. */
class Jar {
  private cookies = new Map<string, Map<string, string>>();
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const host = new URL(url).host;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    this.cookies.set(host, jar);
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }
  get(host: string, name: string): string | undefined {
    return this.cookies.get(host)?.get(name);
  }
  set(host: string, name: string, value: string): void {
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    jar.set(name, value);
    this.cookies.set(host, jar);
  }
}

/** Follow redirects until one leaves for `stopAt` (the portal's callback) or a page is reached. */
async function follow(
  jar: Jar,
  start: Response,
  from: string,
  stopAt: string,
): Promise<{ url: string; res: Response }> {
  let res = start;
  let url = from;
  for (let i = 0; i < 20 && res.status >= 300 && res.status < 400; i++) {
    url = new URL(res.headers.get('location') ?? '', url).href;
    if (url.startsWith(stopAt)) return { url, res };
    res = await jar.fetch(url);
  }
  return { url, res };
}

describe('OpenID Connect sign-in against a real OpenID Provider', () => {
  let idp: TestIdp;
  let server: RunningServer;
  let catalog: CatalogService;
  let callback = '';
  const dir = writeTree({
    'org/catalog-info.yaml': ORG,
    'people/catalog-info.yaml': USERS,
    'ledger/catalog-info.yaml': component('ledger'),
  });
  const accounts = {
    ola: { email: 'ola.nordmann@bank.example', email_verified: true, preferred_username: 'ola.nordmann' },
    unverified: { email: 'ola.nordmann@bank.example', email_verified: false },
    stranger: { email: 'stranger@bank.example', email_verified: true },
  };
  const oidcConfig = (over: Partial<OidcConfig> = {}): OidcConfig => ({
    issuer: idp.issuer,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    resolver: 'emailMatchingUserEntityProfileEmail',
    userClaim: 'preferred_username',
    allowedDomains: [],
    scope: 'openid email profile',
    allowHttp: true,
    ...over,
  });

  /** Start at the portal, sign in at the IdP as `login`, stop at the redirect back to the portal. */
  async function throughIdp(
    jar: Jar,
    login: string,
    base = server.url,
    returnTo = '/catalogue',
    tamper?: (authorizationUrl: URL) => void,
  ) {
    const start = await jar.fetch(`${base}/api/auth/oidc/start?returnTo=${encodeURIComponent(returnTo)}`);
    assert.equal(start.status, 302);
    const auth = new URL(start.headers.get('location') ?? '');
    assert.equal(auth.origin, idp.issuer);
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(
      auth.searchParams.get('code_challenge') &&
        auth.searchParams.get('state') &&
        auth.searchParams.get('nonce'),
    );
    assert.equal(
      start.headers.getSetCookie().some((c) => /portal_oidc=.*HttpOnly/i.test(c)),
      true,
    );
    tamper?.(auth);
    let { url, res } = await follow(
      jar,
      await jar.fetch(auth.href),
      auth.href,
      `${base}/api/auth/oidc/callback`,
    );
    for (const prompt of ['login', 'consent']) {
      if (url.startsWith(`${base}/api/auth/oidc/callback`)) break;
      assert.equal(res.status, 200, `the IdP's ${prompt} page at ${url}`);
      const form = /action="([^"]+)"/.exec(await res.text())?.[1] ?? '';
      const submit = new URL(form.replace(/&amp;/g, '&'), url).href;
      const body = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any' } : { prompt });
      const posted = await jar.fetch(submit, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: body.toString(),
      });
      ({ url, res } = await follow(jar, posted, submit, `${base}/api/auth/oidc/callback`));
    }
    assert.ok(url.startsWith(`${base}/api/auth/oidc/callback?`), `back at the portal: ${url}`);
    return url;
  }

  const me = async (jar: Jar, base = server.url) =>
    (await (await jar.fetch(`${base}/api/auth/me`)).json()) as {
      signedIn: boolean;
      actor: { id: string } | null;
      signIn: { oidc: string | null; dev: string | null };
    };
  const message = async (res: Response) =>
    ((await res.json()) as { error: { message: string } }).error.message;

  before(async () => {
    idp = await startTestIdp({ redirectUris: () => [callback], accounts });
    catalog = new CatalogService(
      await CatalogStore.open(`file:${path.join(mkdtempSync(path.join(tmpdir(), 'oidc-')), 'p.db')}`),
      [dir],
    );
    await catalog.ingest();
    server = await startServer({ catalog, port: 0, ui: false, oidc: oidcConfig() });
    callback = `${server.url}/api/auth/oidc/callback`;
  });
  after(async () => {
    await server.close();
    await idp.close();
    await catalog.store.close();
  });

  it('signs a person in: code + PKCE at the IdP, their verified email matched to a catalogue User, a session', async () => {
    const jar = new Jar();
    assert.equal((await me(jar)).signIn.oidc, '/api/auth/oidc/start');
    const back = await throughIdp(jar, 'ola');
    const res = await jar.fetch(back);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/catalogue', 'back where the person started');
    const who = await me(jar);
    assert.deepEqual([who.signedIn, who.actor?.id], [true, 'user:default/ola.nordmann']);
    // The session is a portal session: it writes what ola's squad owns.
    const write = await jar.fetch(`${server.url}/api/catalog/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"entityRef":"component:default/ledger"}',
    });
    assert.equal(write.status, 200);
    const log = await catalog.store.auditLog(20);
    const signIn = log.find((r) => r.action === 'auth.sign-in' && r.target === 'user:default/ola.nordmann');
    assert.equal(signIn?.outcome, 'allowed');
    assert.match(signIn?.details ?? '', /"via":"oidc"/);
  });

  it('refuses a replayed callback, even with the same cookie', async () => {
    const jar = new Jar();
    const back = await throughIdp(jar, 'ola');
    const host = new URL(server.url).host;
    const loginCookie = jar.get(host, 'portal_oidc') ?? '';
    assert.equal((await jar.fetch(back)).status, 302);
    jar.set(host, 'portal_oidc', loginCookie);
    const replay = await jar.fetch(back);
    assert.equal(replay.status, 400);
    assert.match(await message(replay), /already completed; it cannot be replayed/);
  });

  it('refuses a callback whose state is not this login’s (login CSRF)', async () => {
    const jar = new Jar();
    const back = new URL(await throughIdp(jar, 'ola'));
    back.searchParams.set('state', 'not-the-state-we-sent');
    const res = await jar.fetch(back.href);
    assert.equal(res.status, 401);
    assert.match(await message(res), /state/i);
    assert.equal((await me(jar)).signedIn, false);
  });

  it('refuses an ID token whose nonce is not this login’s (a token minted for another request)', async () => {
    // The authorization request is altered on its way to the IdP: same PKCE challenge and state, another
    // nonce. PKCE and state then pass; only the nonce check stands between the token and a session.
    const jar = new Jar();
    const back = await throughIdp(jar, 'ola', server.url, '/', (auth) =>
      auth.searchParams.set('nonce', 'someone-elses-nonce'),
    );
    const res = await jar.fetch(back);
    assert.equal(res.status, 401);
    assert.match(await message(res), /nonce/i);
    assert.equal((await me(jar)).signedIn, false);
  });

  it('refuses another login’s authorization code (PKCE binds a code to the login that asked for it)', async () => {
    const jar = new Jar();
    const backA = new URL(await throughIdp(jar, 'ola'));
    // Login B starts in the same browser (its cookie replaces A's); A's code is presented with B's state.
    const startB = await jar.fetch(`${server.url}/api/auth/oidc/start`);
    backA.searchParams.set(
      'state',
      new URL(startB.headers.get('location') ?? '').searchParams.get('state') ?? '',
    );
    const res = await jar.fetch(backA.href);
    assert.equal(res.status, 401);
    assert.match(await message(res), /grant request is invalid/);
    assert.equal((await me(jar)).signedIn, false);
  });

  it('refuses a callback this browser never started', async () => {
    const jar = new Jar();
    const back = await throughIdp(jar, 'ola');
    const res = await new Jar().fetch(back);
    assert.equal(res.status, 400);
    assert.match(await message(res), /not started here/);
  });

  it('refuses an unverified email and an identity no catalogue User matches; both audited as denied', async () => {
    const unverified = new Jar();
    const res = await unverified.fetch(await throughIdp(unverified, 'unverified'));
    assert.equal(res.status, 403);
    assert.match(await message(res), /has not verified the email ola.nordmann@bank.example/);
    const stranger = new Jar();
    const res2 = await stranger.fetch(await throughIdp(stranger, 'stranger'));
    assert.equal(res2.status, 403);
    assert.match(
      await message(res2),
      /No User in the catalogue has spec.profile.email stranger@bank.example/,
    );
    assert.equal((await me(stranger)).signedIn, false);
    const denied = (await catalog.store.auditLog(50)).filter(
      (r) => r.action === 'auth.sign-in' && r.outcome === 'denied',
    );
    assert.ok(denied.length >= 2);
  });

  it('sign-in resolvers: profile email, email local part, a configured claim; verified claims and allowed domains only', () => {
    const resolve = (over: Partial<OidcConfig>, claims: Record<string, unknown>) => {
      try {
        return resolveSignIn(oidcConfig(over), claims, catalog);
      } catch (err) {
        return `refused: ${(err as Error).message}`;
      }
    };
    const verified = { email: 'OLA.NORDMANN@bank.example', email_verified: true };
    assert.equal(resolve({}, verified), 'user:default/ola.nordmann', 'profile email, case-insensitive');
    assert.equal(
      resolve(
        { resolver: 'emailLocalPartMatchingUserEntityName' },
        { email: 'jane.doe@bank.example', email_verified: true },
      ),
      'user:default/jane.doe',
    );
    assert.equal(
      resolve(
        { resolver: 'claimMatchingUserEntityName', userClaim: 'preferred_username' },
        { preferred_username: 'jane.doe' },
      ),
      'user:default/jane.doe',
    );
    assert.match(
      resolve({ resolver: 'claimMatchingUserEntityName' }, { email: 'x@y' }),
      /no "preferred_username" claim/,
    );
    assert.match(resolve({}, { email: 'ola.nordmann@bank.example', email_verified: 'true' }), /not verified/);
    assert.match(
      resolve(
        { allowedDomains: ['bank.example'] },
        { email: 'ola.nordmann@evil.example', email_verified: true },
      ),
      /domain evil.example is not allowed/,
    );
  });

  it('only returns to a path on this portal after sign-in', () => {
    assert.equal(
      safeReturnTo('/entity/component/default/ledger?tab=deploys'),
      '/entity/component/default/ledger?tab=deploys',
    );
    for (const bad of [
      'https://evil.example/',
      '//evil.example',
      '/\\evil.example',
      'javascript:alert(1)',
      undefined,
    ])
      assert.equal(safeReturnTo(bad), '/', String(bad));
  });
});
