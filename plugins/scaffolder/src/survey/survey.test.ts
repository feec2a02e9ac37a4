/**
 * Backstage's templates as they are, loaded and dry-run: the example template `@backstage/create-app`
 * publishes (read from the installed package) and templates in the shapes of backstage/software-templates'
 * (fixtures.ts). Prints the table plugins/scaffolder/README.md keeps ("Backstage's templates, tried"), and
 * asserts each row, so the README's table is what this test sees.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';
import { Scaffolder } from '../engine.ts';
import { type FixtureRepo, makeFixtureRepo } from '../testing.ts';
import { SURVEY_TEMPLATES } from './fixtures.ts';

const require = createRequire(import.meta.url);
const EXAMPLES = path.join(
  path.dirname(require.resolve('@backstage/create-app/package.json')),
  'templates',
  'default-app',
  'examples',
);
const actor = { kind: 'user', id: 'user:default/guest' };

interface Row {
  template: string;
  load: string;
  dryRun: string;
}

/** What loading and dry-running a template gives, in words. */
async function tryTemplate(
  scaffolder: Scaffolder,
  name: string,
  values: Record<string, unknown>,
): Promise<Omit<Row, 'template'>> {
  let load: string;
  try {
    const t = scaffolder.template(name);
    load = t.missingActions.length
      ? `loads; not here: ${t.missingActions.map((m) => `${m.action} (step ${m.stepId}, line ${m.line})`).join(', ')}`
      : 'loads';
  } catch (err) {
    return {
      load: `refused: ${(err as Error).message.replace(/^.*\/([^/]+\/template\.yaml)/, '$1')}`,
      dryRun: '—',
    };
  }
  try {
    const r = await scaffolder.dryRun(name, values, { actor, secrets: { USER_OAUTH_TOKEN: 'user-token' } });
    const skipped = r.steps.filter((s) => s.status === 'skipped').map((s) => s.id);
    return {
      load,
      dryRun: `completes: ${r.files.length} files${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}${r.requests?.length ? `; ${r.requests.length} requests shown` : ''}`,
    };
  } catch (err) {
    return { load, dryRun: `fails: ${(err as Error).message}` };
  }
}

describe("Backstage's templates, tried (load and dry-run)", () => {
  let repo: FixtureRepo;
  let store: CatalogStore;
  let scaffolder: Scaffolder;
  const rows: Row[] = [];

  before(async () => {
    repo = makeFixtureRepo();
    store = await CatalogStore.open(`file:${path.join(repo.root, '.portal.db')}`);
    const catalog = new CatalogService(store, [
      path.join(repo.root, 'services'),
      path.join(EXAMPLES, 'org.yaml'),
    ]);
    await catalog.ingest();
    const dir = mkdtempSync(path.join(repo.root, 'survey-'));
    cpSync(path.join(EXAMPLES, 'template'), path.join(dir, 'create-app-example'), { recursive: true });
    for (const t of SURVEY_TEMPLATES)
      for (const [rel, text] of Object.entries(t.files)) {
        const file = path.join(dir, t.dir ?? t.shapeOf, rel);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, text);
      }
    scaffolder = new Scaffolder({ repoRoot: repo.root, catalog, templatesDir: dir });
  });

  after(async () => {
    await store?.close();
    repo?.cleanup();
  });

  it('tries each template and prints the table', async () => {
    rows.push({
      template: "@backstage/create-app's example-nodejs-template (from the npm package)",
      ...(await tryTemplate(scaffolder, 'example-nodejs-template', {
        name: 'my-service',
        repoUrl: 'github.com?owner=bank&repo=my-service',
      })),
    });
    for (const t of SURVEY_TEMPLATES)
      rows.push({ template: `${t.shapeOf} (shape)`, ...(await tryTemplate(scaffolder, t.name, t.values)) });
    const table = [
      '| template | load | dry-run |',
      '| --- | --- | --- |',
      ...rows.map((r) => `| ${r.template} | ${r.load} | ${r.dryRun} |`),
    ].join('\n');
    console.log(`\n${table}\n`);
    // The README's table (plugins/scaffolder/README.md, "Backstage's templates, tried") is this one.
    const readme = readFileSync(path.join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    for (const r of rows)
      assert.ok(readme.includes(`| ${r.template} | ${r.load} | ${r.dryRun} |`), `README row: ${r.template}`);
    const by = (prefix: string) => rows.find((r) => r.template.startsWith(prefix)) as Row;
    // Every template loads but the v1beta2 one, which is refused saying what to do.
    assert.match(
      by('docs-template (backstage.io/v1beta2)').load,
      /^refused: .*no longer runs either: write it as v1beta3/,
    );
    assert.equal(rows.filter((r) => r.load.startsWith('refused')).length, 1);
    // Every loaded one dry-runs to the end, but pull-request, whose URL skeleton's host is not allowed here.
    assert.match(by('pull-request').dryRun, /host github\.com is not in the reading allow-list/);
    assert.deepEqual(
      rows
        .filter((r) => !r.load.startsWith('refused') && !r.dryRun.startsWith('completes'))
        .map((r) => r.template),
      ['pull-request (shape)'],
    );
  });
});
