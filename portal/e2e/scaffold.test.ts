/**
 * Creating a service from the browser, in Chromium: the gallery, the form generated from the template's
 * schema with the owner and dependency pickers, a field error, the dry-run preview, sign-in, create with
 * live progress, and the new service's page showing its dependencies. Runs the real portal (API + built UI)
 * over a temporary copy of the monorepo (the estate, templates, a real git repository), so nothing is
 * written into this checkout. Screenshots go to test-results/scaffold-*.png.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';
import { type FixtureRepo, makeFixtureRepo } from '@bank/plugin-scaffolder/testing';
import type { Browser, Page } from 'playwright-core';
import { type RunningServer, startServer } from '../server/server.ts';
import { CHROMIUM, launchChromium } from './browser.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const SHOTS = path.join(REPO, 'test-results');

function unavailable(): string | undefined {
  if (!existsSync(CHROMIUM)) return `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`;
  if (!existsSync(path.join(REPO, 'portal', '.next', 'BUILD_ID')))
    return 'the UI is not built (npm run build -w @bank/portal)';
  if (!existsSync(path.join(REPO, 'portal', '.next', 'server', 'app', 'create'))) {
    return 'the UI build predates the scaffolder pages (npm run build -w @bank/portal)';
  }
  return undefined;
}

const why = unavailable();
if (why && process.env.CI === 'true') throw new Error(`The scaffolder journey cannot run in CI: ${why}`);

describe('creating a service in the browser', { skip: why }, () => {
  let repo: FixtureRepo;
  let store: CatalogStore;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let owner = '';
  let user = '';
  let deps: string[] = [];
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  before(async () => {
    repo = makeFixtureRepo({ git: true, estate: existsSync(path.join(REPO, 'services', 'org')) });
    store = await CatalogStore.open(`file:${path.join(repo.root, '.portal.db')}`);
    const catalog = new CatalogService(store, [path.join(repo.root, 'services')]);
    await catalog.ingest();
    const all = catalog.loaded.all();
    const squad = all.find((e) => e.kind === 'Group' && (e.spec as { type?: string }).type === 'squad');
    owner = squad?.metadata.name ?? '';
    // Scaffolding a service needs membership of its owning squad (or collective): sign in as a member.
    const memberOf = (e: (typeof all)[number]) =>
      ((e.spec as { memberOf?: string[] }).memberOf ?? []).map((g) => g.replace(/^group:(default\/)?/, ''));
    user = all.find((e) => e.kind === 'User' && memberOf(e).includes(owner))?.metadata.name ?? '';
    deps = all
      .filter((e) => e.kind === 'Component' && (e.spec as { type?: string }).type === 'service')
      .slice(0, 2)
      .map((e) => e.metadata.name);
    assert.ok(owner && user && deps.length === 2, 'the estate has a squad, a user and two services');
    server = await startServer({ catalog, host: '127.0.0.1', port: 0, ui: true, devSignIn: true });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(30_000);
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
    repo?.cleanup();
  });

  it('gallery → form with pickers → field error → dry-run preview → sign in → create → the new service page', async () => {
    await page.goto(`${server.url}/create`);
    await page.getByTestId('template-typescript-service').waitFor();
    assert.ok(await page.getByTestId('template-event-consumer').isVisible());
    await shot('scaffold-1-gallery');
    await page.getByTestId('template-typescript-service').getByRole('link', { name: 'Choose' }).click();
    await page.getByTestId('scaffold-form').waitFor();

    // The form is Backstage's: one page per parameter page, then a review. A name of the wrong form is
    // refused in the browser (the template's pattern) before Next.
    assert.match(
      (await page.getByTestId('stepper').textContent()) ?? '',
      /1\. The service.*2\. Dependencies and runtime.*3\. Review/,
    );
    await page.getByLabel('Name *').fill('Bad_Name');
    await page.getByLabel('Description *').fill('Tells customers about card payments');
    await page.getByLabel('Owner *').fill(owner);
    await page.getByTestId('next').click();
    const problem = page.getByTestId('problem-name');
    await problem.waitFor();
    assert.match((await problem.textContent()) ?? '', /does not have the expected form/);
    await shot('scaffold-2-field-error');

    // A name only the server can refuse (taken in the catalogue): its problem brings the form back to the
    // page holding the field, with the message under it; nothing is written.
    await page.getByLabel('Name *').fill(deps[0] as string);
    await page.getByTestId('next').click();
    await page.getByTestId('page-1').waitFor();
    await page.getByTestId('next').click();
    await page.getByTestId('review').waitFor();
    await page.getByTestId('dry-run').click();
    await page.getByTestId('page-0').waitFor();
    await page.getByTestId('problem-name').waitFor();
    assert.match(
      (await page.getByTestId('problem-name').textContent()) ?? '',
      /already exists in the catalogue/,
    );

    // The real name, and two dependencies picked by search on the second page.
    await page.getByLabel('Name *').fill('card-notifier');
    await page.getByTestId('next').click();
    await page.getByTestId('page-1').waitFor();
    for (const dep of deps) {
      await page.getByLabel('Dependencies').fill(dep.slice(0, Math.max(4, dep.length - 2)));
      await page.getByRole('button', { name: `Add ${dep}`, exact: true }).click();
    }
    assert.deepEqual(
      (await page.getByTestId('param-dependsOn-chosen').allTextContents()).map((t) =>
        t.replace('×', '').trim(),
      ),
      deps,
    );
    await page.getByTestId('next').click();
    await page.getByTestId('review').waitFor();
    assert.match((await page.getByTestId('review-values').textContent()) ?? '', /Namecard-notifier/);
    await page.getByTestId('dry-run').click();
    const preview = page.getByTestId('preview');
    await preview.waitFor();
    const files = await page.getByTestId('preview-files').textContent();
    for (const f of ['src/server.ts', 'src/clients.ts', 'k8s/networkpolicy.yaml', 'catalog-info.yaml'])
      assert.ok(files?.includes(f), f);
    assert.equal(await page.getByTestId('preview-manifests').locator('.badge-ok').count(), 7);
    assert.match((await page.getByTestId('preview-content').textContent()) ?? '', /name: card-notifier/);
    assert.match(
      (await page.getByTestId('preview-catalogue').textContent()) ?? '',
      // A call to another service is a consumesApi of its API, as the generated client uses it.
      new RegExp(`consumesApi api:default/${deps[0]}-rpc`),
    );
    await page.getByRole('button', { name: 'k8s/networkpolicy.yaml' }).click();
    assert.match(
      (await page.getByTestId('preview-content').textContent()) ?? '',
      new RegExp(`service\\.${deps[0]}`),
    );
    await shot('scaffold-3-preview');
    assert.equal(
      existsSync(path.join(repo.root, 'services', 'card-notifier')),
      false,
      'the preview wrote nothing',
    );

    // Create: the portal asks who we are, then runs the task with live progress and lands on the new page.
    // The development sign-in is on for this server: every page says so.
    assert.match(
      (await page.getByTestId('dev-sign-in-banner').textContent()) ?? '',
      /Development sign-in is on/,
    );
    await page.getByTestId('create').click();
    await page.getByTestId('sign-in').waitFor();
    await page.getByLabel('Your user name in the catalogue').fill(user);
    await page.getByRole('button', { name: 'Sign in and create' }).click();
    // The result page: where it is in git (the checked-out branch, the commit) and in the catalogue.
    const created = page.getByTestId('created');
    await created.waitFor({ timeout: 30_000 });
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo.root, encoding: 'utf8' }).trim();
    assert.equal(await page.getByTestId('created-commit').textContent(), head.slice(0, 12));
    assert.equal(await page.getByTestId('created-branch').textContent(), 'main');
    assert.equal(
      execFileSync('git', ['status', '--porcelain', '--', 'services'], { cwd: repo.root, encoding: 'utf8' }),
      '',
      'nothing left untracked',
    );
    await shot('scaffold-4-created');
    await page.getByTestId('created-entity').click();
    await page.waitForURL(/\/entity\/component\/default\/card-notifier$/, { timeout: 30_000 });
    await page.getByTestId('entity-page').waitFor();
    const dependencies = page.getByTestId('dependencies');
    await dependencies.waitFor();
    for (const dep of deps) await dependencies.getByText(dep, { exact: true }).first().waitFor();
    await shot('scaffold-5-new-service');
    assert.ok(existsSync(path.join(repo.root, 'services', 'card-notifier', 'src', 'server.ts')));
  });
});
