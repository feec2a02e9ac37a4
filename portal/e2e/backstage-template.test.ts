// biome-ignore-all lint/suspicious/noTemplateCurlyInString: template YAML holds the template language
/**
 * Backstage's form language in Chromium: a Backstage-style multi-page template (EntityNamePicker,
 * OwnerPicker and EntityPicker reading the catalogue, `ui:order`, `ui:widget`, `dependencies`/`oneOf`,
 * RepoUrlPicker) filled page by page, reviewed, dry-run (the requests publish:github would send) and
 * created: the repository is created on a TEST DOUBLE of GitHub's REST API (plugins/scaffolder's
 * actions/testing.ts: a local server answering as GitHub does) and pushed to a real `git http-backend`,
 * then registered in the catalogue as a URL location. create-app's example template (read from
 * node_modules) is filled and dry-run too. Screenshots go to test-results/backstage-form-*.png.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore, UrlReader } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';
import {
  type FixtureRepo,
  makeFixtureRepo,
  type ProviderDouble,
  startProviderDouble,
} from '@bank/plugin-scaffolder/testing';
import type { Browser, Page } from 'playwright-core';
import { type RunningServer, startServer } from '../server/server.ts';
import { CHROMIUM, launchChromium } from './browser.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const SHOTS = path.join(REPO, 'test-results');
const require = createRequire(import.meta.url);
const CREATE_APP = path.dirname(require.resolve('@backstage/create-app/package.json'));

function unavailable(): string | undefined {
  if (!existsSync(CHROMIUM)) return `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`;
  if (!existsSync(path.join(REPO, 'portal', '.next', 'BUILD_ID')))
    return 'the UI is not built (npm run build -w @bank/portal)';
  return undefined;
}
const why = unavailable();
if (why && process.env.CI === 'true') throw new Error(`The Backstage form journey cannot run in CI: ${why}`);

const TEMPLATE = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: payments-component
  title: A payments component on GitHub
  description: Backstage-style, three pages
spec:
  owner: group:default/ledger
  type: service
  parameters:
    - title: Component
      required: [component_id, owner]
      ui:order: [component_id, owner, system, description]
      properties:
        description:
          title: Description
          type: string
          ui:widget: textarea
        system:
          title: System
          type: string
          ui:field: EntityPicker
          ui:options:
            catalogFilter:
              kind: System
        owner:
          title: Owner
          type: string
          ui:field: OwnerPicker
          ui:options:
            catalogFilter:
              kind: [Group, User]
        component_id:
          title: Name
          type: string
          ui:field: EntityNamePicker
          ui:autofocus: true
    - title: Runtime
      required: [database]
      properties:
        database:
          title: Database
          type: string
          enum: [none, postgres]
          default: none
      dependencies:
        database:
          oneOf:
            - properties:
                database: { enum: [none] }
            - required: [dbSize]
              properties:
                database: { enum: [postgres] }
                dbSize:
                  title: Database size
                  type: string
                  enum: [small, large]
                  ui:widget: radio
    - title: Repository
      required: [repoUrl]
      properties:
        repoUrl:
          title: Repository Location
          type: string
          ui:field: RepoUrlPicker
          ui:options:
            allowedHosts: [HOST]
  steps:
    - id: fetch
      name: Fetch skeleton
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: \${{ parameters.component_id }}
          owner: \${{ parameters.owner }}
          description: \${{ parameters.description }}
          database: \${{ parameters.database }}
          dbSize: \${{ parameters.dbSize }}
    - id: publish
      name: Publish
      action: publish:github
      input:
        repoUrl: \${{ parameters.repoUrl }}
        description: \${{ parameters.description }}
        defaultBranch: main
    - id: register
      name: Register
      action: catalog:register
      input:
        repoContentsUrl: \${{ steps.publish.output.repoContentsUrl }}
        catalogInfoPath: /catalog-info.yaml
  output:
    links:
      - title: Repository
        url: \${{ steps.publish.output.remoteUrl }}
      - title: Open in catalog
        entityRef: \${{ steps.register.output.entityRef }}
`;

const SKELETON: Record<string, string> = {
  'catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: \${{ values.name }}
  description: \${{ values.description | dump }}
spec:
  type: service
  lifecycle: experimental
  owner: \${{ values.owner }}
`,
  'README.md':
    '# ${{ values.name }}\n\nDatabase: ${{ values.database }}{% if values.dbSize %} (${{ values.dbSize }}){% endif %}\n',
};

describe("Backstage's form language in the browser", { skip: why }, () => {
  let repo: FixtureRepo;
  let store: CatalogStore;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let gh: ProviderDouble;
  const saved = { ...process.env };
  /** The preview, or the form's error said plainly. */
  const previewOrError = async () => {
    await page.locator('[data-testid=preview], [data-testid=form-error]').first().waitFor();
    const error = page.getByTestId('form-error');
    if (await error.count()) assert.fail(`the dry-run failed: ${await error.textContent()}`);
  };
  const shot = (name: string) =>
    page.screenshot({ path: path.join(SHOTS, `backstage-form-${name}.png`), fullPage: true });

  before(async () => {
    gh = await startProviderDouble();
    repo = makeFixtureRepo({ git: true });
    const dir = path.join(repo.root, 'templates', 'payments-component');
    for (const [rel, text] of Object.entries({
      'template.yaml': TEMPLATE.replace('HOST', gh.host),
      ...Object.fromEntries(Object.entries(SKELETON).map(([k, v]) => [`skeleton/${k}`, v])),
    })) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), text);
    }
    cpSync(
      path.join(CREATE_APP, 'templates', 'default-app', 'examples', 'template'),
      path.join(repo.root, 'templates', 'create-app-example'),
      { recursive: true },
    );
    // The GitHub integration is the test double; the catalogue may read back what was pushed to it.
    const integrations = path.join(repo.root, 'integrations.yaml');
    writeFileSync(
      integrations,
      `integrations:\n  github:\n    - host: "${gh.host}"\n      apiBaseUrl: ${gh.url}/api/v3\n      token: \${DOUBLE_GITHUB_TOKEN}\n`,
    );
    process.env.PORTAL_INTEGRATIONS_FILE = integrations;
    process.env.DOUBLE_GITHUB_TOKEN = gh.integration('github').token;
    store = await CatalogStore.open(`file:${path.join(repo.root, '.portal.db')}`);
    // With the org create-app ships (user guest, group guests), its example template's owner.
    const org = path.join(CREATE_APP, 'templates', 'default-app', 'examples', 'org.yaml');
    const catalog = new CatalogService(store, [path.join(repo.root, 'services'), org], {
      reader: new UrlReader({ allow: [gh.host], allowAddresses: ['127.0.0.1'] }),
    });
    await catalog.ingest();
    server = await startServer({ catalog, host: '127.0.0.1', port: 0, ui: true, devSignIn: true });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(30_000);
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
    await gh?.close();
    repo?.cleanup();
    process.env = saved;
  });

  it('fills a multi-page template with pickers, dependencies/oneOf and RepoUrlPicker, dry-runs it and creates it on GitHub', async () => {
    await page.goto(`${server.url}/create/payments-component`);
    await page.getByTestId('page-0').waitFor();
    // ui:order puts the fields in the template's order, not the schema's.
    const labels = await page.getByTestId('page-0').locator('label.field').allTextContents();
    assert.deepEqual(labels.slice(0, 4), ['Name *', 'Owner *', 'System', 'Description']);
    // Required fields are checked before the next page.
    await page.getByTestId('next').click();
    await page.getByTestId('problem-component_id').waitFor();
    await page.getByLabel('Name *').fill('fx-rates');
    // The pickers read the catalogue: owners are Groups and Users, the system picker offers Systems.
    const ownerOptions = await page
      .locator('#param-owner-options option')
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.ok(
      ownerOptions.includes('group:default/ledger') || ownerOptions.includes('ledger'),
      ownerOptions.join(),
    );
    assert.ok(
      ownerOptions.some((o) => o.includes('jane.doe')),
      'users are owners too',
    );
    const systems = await page
      .locator('#param-system-options option')
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.ok(
      systems.some((s) => s.includes('ledger-system')),
      systems.join(),
    );
    await page.getByLabel('Owner *').fill('group:default/ledger');
    await page.getByLabel('Description').fill('Foreign exchange rates');
    await shot('1-component');
    await page.getByTestId('next').click();

    // dependencies/oneOf: choosing postgres brings the size question (a radio widget).
    await page.getByTestId('page-1').waitFor();
    assert.equal(await page.getByText('Database size').count(), 0);
    await page.getByLabel('Database *').selectOption('postgres');
    await page.getByText('Database size').waitFor();
    await page.getByLabel('large').check();
    await shot('2-runtime');
    await page.getByTestId('next').click();

    // RepoUrlPicker: host from allowedHosts, owner and repository.
    await page.getByTestId('page-2').waitFor();
    assert.deepEqual(await page.locator('#param-repoUrl-host option').allTextContents(), [gh.host]);
    await page.getByLabel('Owner', { exact: true }).fill('acme');
    await page.getByLabel('Repository', { exact: true }).fill('fx-rates');
    await shot('3-repository');
    await page.getByTestId('next').click();

    await page.getByTestId('review').waitFor();
    const review = (await page.getByTestId('review-values').textContent()) ?? '';
    assert.match(review, /Database sizelarge/);
    assert.match(
      review,
      new RegExp(`Repository Location${gh.host.replace('.', '\\.')}\\?owner=acme&repo=fx-rates`),
    );

    // Dry-run: what publish:github would send, nothing sent.
    const before = gh.received.length;
    await page.getByTestId('dry-run').click();
    await previewOrError();
    const requests = (await page.getByTestId('preview-requests').textContent()) ?? '';
    assert.match(requests, new RegExp(`POST ${gh.url}/api/v3/orgs/acme/repos`));
    assert.match(requests, /git push/);
    assert.ok(!requests.includes(gh.integration('github').token as string), 'no token in the preview');
    assert.equal(gh.received.length, before, 'the dry-run sent nothing to GitHub');
    assert.match((await page.getByTestId('preview-content').textContent()) ?? '', /name: fx-rates/);
    await shot('4-preview');

    // Create: sign in (a member of the owning squad), the repository is created and pushed, then registered.
    await page.getByTestId('create').click();
    await page.getByTestId('sign-in').waitFor();
    await page.getByLabel('Your user name in the catalogue').fill('jane.doe');
    await page.getByRole('button', { name: 'Sign in and create' }).click();
    await page.getByTestId('created').waitFor({ timeout: 60_000 });
    await shot('5-created');
    assert.equal(
      gh.git('acme/fx-rates', 'show', 'main:README.md'),
      '# fx-rates\n\nDatabase: postgres (large)\n',
    );
    assert.match(gh.git('acme/fx-rates', 'show', 'main:catalog-info.yaml'), /owner: group:default\/ledger/);
    assert.ok(gh.received.some((r) => r.method === 'POST' && r.path === '/api/v3/orgs/acme/repos'));
    assert.match((await page.getByTestId('created-links').textContent()) ?? '', /Repository/);
    const entity = await fetch(`${server.url}/api/catalog/entities/by-name/component/default/fx-rates`);
    assert.equal(entity.status, 200, 'the new component is in the catalogue');
    await page.getByTestId('created-entity').click();
    await page.waitForURL(/\/entity\/component\/default\/fx-rates$/);
  });

  it("create-app's example template is filled in the browser and dry-run", async () => {
    await page.goto(`${server.url}/create/example-nodejs-template`);
    await page.getByTestId('page-0').waitFor();
    await page.getByLabel('Name *').fill('hello-world');
    await page.getByTestId('next').click();
    await page.getByTestId('page-1').waitFor();
    assert.deepEqual(await page.locator('#param-repoUrl-host option').allTextContents(), ['github.com']);
    await page.getByLabel('Owner', { exact: true }).fill('bank');
    await page.getByLabel('Repository', { exact: true }).fill('hello-world');
    await page.getByTestId('next').click();
    await page.getByTestId('dry-run').click();
    await previewOrError();
    assert.match(
      (await page.getByTestId('preview-requests').textContent()) ?? '',
      /POST https:\/\/api\.github\.com\/orgs\/bank\/repos/,
    );
    assert.match((await page.getByTestId('preview-files').textContent()) ?? '', /index\.js/);
    await shot('6-create-app-preview');
  });
});
