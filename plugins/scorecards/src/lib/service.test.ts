import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CatalogStore } from '@bank/catalog';
import { writeTree } from '@bank/catalog/testing';
import { buildGraphIndex } from '@bank/graph';
import { CatalogService } from '@bank/plugin-catalog';
import { Command } from 'commander';
import { registerScorecardsCommands } from '../cli.ts';
import { CARD, estateFiles, pdb, SECOND } from '../testing.ts';
import { rollups } from './queries.ts';
import { ScorecardService } from './service.ts';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

describe('scoring the estate (real files, real SQLite)', () => {
  let dir: string;
  let store: CatalogStore;
  let catalog: CatalogService;
  let svc: ScorecardService;
  const rescore = async () => {
    await catalog.ingest();
    const view = await catalog.view();
    svc = new ScorecardService({ dir: path.join(dir, 'scorecards'), repoRoot: dir });
    svc.loadDefinitions();
    svc.scoreAll(view.all(), buildGraphIndex(view.all()));
  };
  before(async () => {
    dir = writeTree(estateFiles());
    store = await CatalogStore.open(`file:${path.join(dir, 'portal.db')}`);
    catalog = new CatalogService(store, [path.join(dir, 'services')]);
    await rescore();
  });
  after(async () => store.close());

  const score = (name: string, card = 'readiness') =>
    svc.entity(`component:default/${name}`).find((s) => s.scorecard.scorecard.name === card)?.score;
  const check = (name: string, c: string) => score(name)?.checks.find((x) => x.check === c);

  it('each service gets the highest level whose checks all pass, and what the next one needs', () => {
    assert.equal(score('api')?.level, null);
    assert.deepEqual(score('api')?.next, { level: 'bronze', failing: ['replicas'] });
    assert.equal(score('ledger')?.level, 'bronze');
    assert.equal(score('payments')?.level, 'bronze');
    assert.deepEqual(score('fees')?.next, { level: 'silver', failing: ['has-runbook', 'disruption-budget'] });
  });

  it('a failing check says why, how to fix it, the file and line that decides it, and where it is defined', () => {
    const r = check('api', 'replicas');
    assert.equal(r?.status, 'fail');
    assert.equal(r?.why, '1 replicas; tier 1 needs at least 3');
    assert.deepEqual(r?.evidence, { file: 'services/api/k8s/deployment.yaml', line: 6 });
    assert.deepEqual(r?.definedAt, { file: 'scorecards/readiness.yaml', line: 17, column: 7 });
    assert.match(r?.fix ?? '', /spec\.replicas/);
    const runbook = check('fees', 'has-runbook');
    assert.equal(runbook?.evidence?.file, 'services/fees/catalog-info.yaml');
  });

  it('a PodDisruptionBudget that can never evict a pod fails; a missing one fails; replicas − 1 passes', () => {
    assert.match(
      check('ledger', 'disruption-budget')?.why ?? '',
      /minAvailable 3 with 3 replicas: no pod can ever be evicted/,
    );
    assert.deepEqual(check('ledger', 'disruption-budget')?.evidence, {
      file: 'services/ledger/k8s/pdb.yaml',
      line: 5,
    });
    assert.equal(check('fees', 'disruption-budget')?.why, 'no PodDisruptionBudget selects its pods');
    assert.equal(check('payments', 'disruption-budget')?.status, 'pass');
  });

  it('the NetworkPolicy must match the declared calls both ways', () => {
    assert.equal(
      check('payments', 'network-policy')?.why,
      'egress does not allow its declared calls to service.fees',
    );
    assert.equal(check('ledger', 'network-policy')?.status, 'pass');
    assert.match(check('api', 'network-policy')?.why ?? '', /no NetworkPolicy selects service\.api/);
  });

  it('a changed manifest re-scores only the service of its folder', () => {
    const file = path.join(dir, 'services/ledger/k8s/pdb.yaml');
    writeFileSync(file, pdb('ledger', 2));
    const r = svc.filesChanged([file]);
    assert.equal(r.rescored, 2, 'one service × two scorecards');
    assert.deepEqual(
      r.changed.map((s) => [s.entity, s.level]),
      [['component:default/ledger', 'silver']],
    );
  });

  it('a scorecard that turns bad keeps its last good version in force, marked stale; the others still apply', () => {
    const file = path.join(dir, 'scorecards/readiness.yaml');
    writeFileSync(file, CARD.replace('      fact: runbook\n', '      fact: runbok\n'));
    svc.filesChanged([file]);
    const loaded = svc.scorecards();
    const readiness = loaded.find((l) => l.scorecard.name === 'readiness');
    assert.equal(readiness?.stale, true);
    assert.equal(readiness?.errors[0].line, 15);
    assert.match(readiness?.errors[0].message ?? '', /unknown fact "runbok"/);
    assert.equal(score('ledger')?.level, 'silver', 'the last good version still scores');
    assert.equal(score('ledger', 'ownership')?.level, 'owned');
    writeFileSync(file, CARD);
    svc.filesChanged([file]);
    assert.equal(svc.scorecards().find((l) => l.scorecard.name === 'readiness')?.stale, false);
    assert.deepEqual(svc.errors(), []);
  });

  it('a scorecard file that was never good is reported, and every other scorecard applies', () => {
    const file = path.join(dir, 'scorecards/broken.yaml');
    writeFileSync(
      file,
      SECOND.replace('name: ownership', 'name: broken').replace(
        'checks: [has-owner]',
        'checks: [has-owner, missing]',
      ),
    );
    svc.filesChanged([file]);
    const [e] = svc.errors();
    assert.equal(e.file, 'scorecards/broken.yaml');
    assert.match(e.message, /references check "missing"/);
    assert.deepEqual(
      svc.scorecards().map((l) => l.scorecard.name),
      ['ownership', 'readiness'],
    );
  });

  it('the rollup is kept while the scores stay the same; a new owner alone (same level) moves a service to its squad', async () => {
    // Readiness alone: the ownership scorecard would change fees' level there (accounts has no members).
    const cards = writeTree({ 'scorecards/readiness.yaml': CARD });
    const one = new ScorecardService({ dir: path.join(cards, 'scorecards'), repoRoot: dir });
    one.loadDefinitions();
    const view = await catalog.view();
    one.scoreAll(view.all(), buildGraphIndex(view.all()));
    const squads = () =>
      Object.fromEntries(rollups(one, 'readiness')[0].squads.map((t) => [t.team, t.services]));
    const kept = rollups(one, 'readiness')[0];
    assert.equal(rollups(one, 'readiness')[0].squads, kept.squads, 'the same rollup, not walked again');
    assert.deepEqual(squads(), { 'group:default/ledger': 4 });
    const ref = 'component:default/fees';
    const moved = structuredClone(view.byRef.get(ref));
    assert.ok(moved?.spec);
    moved.spec.owner = 'accounts';
    moved.relations = moved.relations?.map((r) =>
      r.type === 'ownedBy' ? { ...r, targetRef: 'group:default/accounts' } : r,
    );
    const entities = view.all().map((e) => (e === view.byRef.get(ref) ? moved : e));
    const levels = one.levelsVersion();
    const change = { upserted: [ref], removed: [], relationsChanged: [] };
    const r = one.catalogueChanged(
      change,
      (x) => (x === ref ? moved : view.byRef.get(x)),
      buildGraphIndex(entities),
    );
    // No level changed (the catalogue's level column keeps its memo), yet the rollup is a new one.
    assert.deepEqual([r.changed, one.levelsVersion()], [[], levels]);
    assert.deepEqual(squads(), { 'group:default/ledger': 3, 'group:default/accounts': 1 });
  });

  it('portal score gates: exit 1 for a named service below the level, 0 at it; --team lists worst first', async () => {
    const run = async (...args: string[]) => {
      const out: string[] = [];
      let code = -1;
      const program = new Command('portal').exitOverride();
      registerScorecardsCommands(program, async () => svc, {
        stdout: (t) => out.push(t),
        stderr: () => {},
        setExitCode: (c) => {
          code = c;
        },
      });
      await program.parseAsync(args, { from: 'user' });
      return { code, out: out.join('') };
    };
    assert.equal((await run('score', 'ledger')).code, 0);
    const api = await run('score', 'api');
    assert.equal(api.code, 1);
    assert.match(api.out, /api · Readiness: no level — below bronze, FAILS/);
    assert.match(api.out, /see: services\/api\/k8s\/deployment\.yaml:6/);
    assert.equal((await run('score', 'fees', '--level', 'silver', '--scorecard', 'readiness')).code, 1);
    const team = JSON.parse(
      (await run('score', '--team', 'ledger', '--json', '--scorecard', 'readiness')).out,
    );
    assert.equal(team.scorecards[0].services[0].entity, 'component:default/api');
    await assert.rejects(run('score', 'ledgr'), /unknown ref 'ledgr'.*closest: ledger/);
  });

  it('in a CI-like script, the portal CLI exits 1 when a named service fails and the script stops', () => {
    const env = {
      ...process.env,
      PORTAL_CATALOG_ROOT: path.join(dir, 'services'),
      PORTAL_SCORECARDS_DIR: path.join(dir, 'scorecards'),
    };
    const portal = `node ${path.join(REPO, 'portal/bin/portal.mjs')} --db file:${path.join(dir, 'ci.db')}`;
    const script = `set -e\n${portal} ingest >/dev/null\n${portal} score ledger --scorecard readiness\necho ledger-ok\n${portal} score api\necho never-here\n`;
    const r = spawnSync('sh', ['-c', script], { env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /ledger-ok/);
    assert.match(r.stdout, /api · Readiness: no level — below bronze, FAILS/);
    assert.doesNotMatch(r.stdout, /never-here/);
  });
});
