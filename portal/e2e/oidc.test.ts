/**
 * A person signs in through OpenID Connect in Chromium: the portal's "Sign in" link, the identity
 * provider's own login and consent pages (a real oidc-provider on 127.0.0.1), and back on the page they
 * started from, signed in as the catalogue User whose profile email the provider vouched for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestIdp, type TestIdp } from '../server/testing/oidc-idp.ts';
import { openPortal, type Portal, shot, unavailable } from './harness.ts';

const why = unavailable();
if (why && process.env.CI === 'true') throw new Error(`Browser journeys cannot run in CI: ${why}`);

describe('signing in through OpenID Connect in Chromium', { skip: why }, () => {
  let portal: Portal;
  let idp: TestIdp;
  const savedAdmins = process.env.PORTAL_ADMIN_GROUPS;
  before(async () => {
    // aisha-adams is in the accounts squad: made an admin here, so she may read the audit log.
    process.env.PORTAL_ADMIN_GROUPS = 'accounts';
    idp = await startTestIdp({
      redirectUris: () => [`${portal.url}/api/auth/oidc/callback`],
      // aisha-adams (services/org/users.yaml) has the profile email aisha.adams@bank.example.
      accounts: { aisha: { email: 'aisha.adams@bank.example', email_verified: true } },
    });
    portal = await openPortal({
      oidc: {
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        resolver: 'emailMatchingUserEntityProfileEmail',
        userClaim: 'preferred_username',
        allowedDomains: ['bank.example'],
        scope: 'openid email profile',
        allowHttp: true,
      },
    });
  });
  after(async () => {
    await portal?.close();
    await idp?.close();
    if (savedAdmins === undefined) delete process.env.PORTAL_ADMIN_GROUPS;
    else process.env.PORTAL_ADMIN_GROUPS = savedAdmins;
  });

  it('an engineer signs in at the identity provider and lands back on the catalogue, signed in', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/catalogue`);
    assert.equal(await page.getByTestId('dev-sign-in-banner').count(), 0, 'no development sign-in here');
    await page.getByTestId('oidc-sign-in').click();
    await page.waitForURL((u) => u.origin === idp.issuer);
    await page.locator('input[name="login"]').fill('aisha');
    await page.locator('input[name="password"]').fill('anything');
    await shot(page, 'oidc-1-idp-login');
    await page.locator('button[type="submit"]').click();
    // The provider asks for consent to share the email with the portal.
    await page.locator('button[type="submit"]').click();
    await page.waitForURL(`${url}/catalogue`);
    const who = page.getByTestId('signed-in-as');
    await who.waitFor();
    assert.match((await who.textContent()) ?? '', /Signed in as aisha-adams/);
    await shot(page, 'oidc-2-signed-in');
    // An admin reads the audit log: her own sign-in is the newest row, and the chain is intact.
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.waitForURL(`${url}/audit`);
    const table = page.getByTestId('audit-table');
    await table.waitFor();
    const first = (await table.locator('tbody tr').first().textContent()) ?? '';
    assert.match(first, /allowed.*user:default\/aisha-adams.*auth\.sign-in/);
    assert.match((await page.getByTestId('audit-verdict').textContent()) ?? '', /Chain intact/);
    await shot(page, 'oidc-3-audit-log');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByTestId('oidc-sign-in').waitFor();
  });
});
