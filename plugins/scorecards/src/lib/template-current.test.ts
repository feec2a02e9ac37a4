import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CatalogStore } from '@bank/catalog';
import { ORG, writeTree } from '@bank/catalog/testing';
import { buildGraphIndex } from '@bank/graph';
import { CatalogService } from '@bank/plugin-catalog';
import { parseScorecard } from './definition.ts';
import { releasesBehind } from './evaluate.ts';
import { ScorecardService } from './service.ts';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
/** The repo's real typescript-service template, at a version of the test's choosing. */
const template = (version: string) =>
  readFileSync(path.join(REPO, 'templates/typescript-service/template.yaml'), 'utf8').replace(
    /bank\.io\/template-version: .*/,
    `bank.io/template-version: ${version}`,
  );

const descriptor = (name: string, lineage: Record<string, string>) => `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${name}
  description: The ${name} service
  annotations:
    bank.io/tier: "2"
${Object.entries(lineage)
  .map(([k, v]) => `    ${k}: "${v}"\n`)
  .join('')}spec:
  type: service
  lifecycle: production
  owner: ledger
`;

const CARD = `apiVersion: bank.io/v1
kind: Scorecard
metadata:
  name: lineage
  title: Lineage
spec:
  checks:
    - name: on-current-template
      kind: template-current
      maxBehind: 1
  levels:
    - name: current
      checks: [on-current-template]
`;

const lineage = (version?: string, name = 'typescript-service') => ({
  'bank.io/template': name,
  ...(version === undefined ? {} : { 'bank.io/template-version': version }),
});

describe('template-current: a service on its template, at most N releases behind (real files)', () => {
  let dir: string;
  let store: CatalogStore;
  let svc: ScorecardService;
  before(async () => {
    dir = writeTree({
      'services/org/catalog-info.yaml': ORG,
      'services/current/catalog-info.yaml': descriptor('current', lineage('1.3.0')),
      'services/one-behind/catalog-info.yaml': descriptor('one-behind', lineage('1.2.1')),
      'services/far-behind/catalog-info.yaml': descriptor('far-behind', lineage('1.0.4')),
      'services/major-behind/catalog-info.yaml': descriptor('major-behind', lineage('0.9.0')),
      'services/no-version/catalog-info.yaml': descriptor('no-version', lineage()),
      'services/not-a-version/catalog-info.yaml': descriptor('not-a-version', lineage('latest')),
      'services/hand-made/catalog-info.yaml': descriptor('hand-made', {}),
      'services/gone-template/catalog-info.yaml': descriptor(
        'gone-template',
        lineage('1.0.0', 'cobol-batch'),
      ),
      'templates/typescript-service/template.yaml': template('1.3.0'),
      'templates/typescript-service/skeleton/README.md': '# a service\n',
      'scorecards/lineage.yaml': CARD,
    });
    store = await CatalogStore.open(`file:${path.join(dir, 'portal.db')}`);
    const catalog = new CatalogService(store, [path.join(dir, 'services')]);
    await catalog.ingest();
    const view = await catalog.view();
    svc = new ScorecardService({
      dir: path.join(dir, 'scorecards'),
      repoRoot: dir,
      templatesDir: path.join(dir, 'templates'),
    });
    assert.deepEqual(svc.loadDefinitions(), []);
    svc.scoreAll(view.all(), buildGraphIndex(view.all()));
  });
  after(async () => store.close());

  const result = (name: string) =>
    svc.entity(`component:default/${name}`)[0]?.score.checks.find((c) => c.check === 'on-current-template');

  it('passes on the current version and within maxBehind releases, saying how far behind', () => {
    assert.equal(result('current')?.status, 'pass');
    assert.equal(result('current')?.why, "on typescript-service's current version 1.3.0");
    assert.equal(result('one-behind')?.status, 'pass');
    assert.equal(result('one-behind')?.why, 'on typescript-service 1.2.1, 1 release behind 1.3.0');
  });

  it('fails further behind, or a major version behind, pointing at the line that records the version', () => {
    const far = result('far-behind');
    assert.equal(far?.status, 'fail');
    assert.equal(far?.why, 'on typescript-service 1.0.4, 3 releases behind 1.3.0 (at most 1 allowed)');
    assert.deepEqual(far?.evidence, { file: 'services/far-behind/catalog-info.yaml', line: 9 });
    assert.match(far?.fix ?? '', /bump bank\.io\/template-version/);
    assert.equal(
      result('major-behind')?.why,
      'on typescript-service 0.9.0, a major version behind 1.3.0 (templates/typescript-service/template.yaml)',
    );
    assert.equal(svc.entity('component:default/far-behind')[0]?.score.level, null);
  });

  it('a service made from a template that records no version, or a malformed one, fails saying so', () => {
    assert.equal(result('no-version')?.status, 'fail');
    assert.equal(
      result('no-version')?.why,
      'made from typescript-service but records no bank.io/template-version',
    );
    assert.equal(
      result('not-a-version')?.why,
      'bank.io/template-version "latest" is not a version like 1.2.0',
    );
  });

  it('does not apply to a service made by hand or from a template the portal no longer has', () => {
    assert.equal(result('hand-made')?.status, 'n/a');
    assert.equal(result('gone-template')?.status, 'n/a');
    assert.match(
      result('gone-template')?.why ?? '',
      /template "cobol-batch" is not among the portal's templates/,
    );
    assert.equal(svc.entity('component:default/hand-made')[0]?.score.level, 'current');
  });

  it('a new template release re-scores the services made from it: one behind becomes two', () => {
    const file = path.join(dir, 'templates/typescript-service/template.yaml');
    writeFileSync(file, template('1.4.0'));
    const r = svc.filesChanged([file]);
    assert.equal(r.rescored, 7, 'the seven services that record a template, not the hand-made one');
    assert.equal(result('one-behind')?.status, 'fail');
    assert.equal(
      result('one-behind')?.why,
      'on typescript-service 1.2.1, 2 releases behind 1.4.0 (at most 1 allowed)',
    );
    assert.equal(result('current')?.why, 'on typescript-service 1.3.0, 1 release behind 1.4.0');
  });
});

describe('releasesBehind: releases are minor versions; a major version behind is always too far', () => {
  it('counts minor versions, ignores patches, treats ahead as current', () => {
    assert.equal(releasesBehind('1.2.0', '1.2.7'), 0);
    assert.equal(releasesBehind('1.2.9', '1.5.0'), 3);
    assert.equal(releasesBehind('v2.0.0', '1.9.0'), 0);
    assert.equal(releasesBehind('1.9.0', '2.0.0'), 'major');
    assert.equal(releasesBehind('1.9', '2.0.0'), undefined);
  });

  it('a maxBehind that is not a number is an error at its line and column', () => {
    const r = parseScorecard(CARD.replace('maxBehind: 1', 'maxBehind: two'), 'scorecards/lineage.yaml');
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(
      r.errors.map((e) => [e.line, e.column, e.message]),
      [[10, 18, 'spec.checks[0].maxBehind must be a number ≥ 0']],
    );
  });
});
