import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { buildGraphIndex } from '@bank/graph';
import { smallEstate } from '@bank/graph/testing';
import { Command } from 'commander';
import { registerDeploysCommands } from './cli.ts';
import { DeploysService } from './lib/service.ts';

describe('portal deploys / deploys record / changes (real SQLite)', () => {
  let store: CatalogStore;
  let svc: DeploysService;
  const dir = mkdtempSync(path.join(tmpdir(), 'deploys-cli-'));
  before(async () => {
    store = await CatalogStore.open(`file:${path.join(dir, 'p.db')}`);
    const index = buildGraphIndex(smallEstate());
    svc = await new DeploysService({ store, getIndex: () => index }).init();
  });
  after(async () => store.close());

  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    let code = -1;
    const program = new Command('portal').exitOverride();
    registerDeploysCommands(program, async () => svc, {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      setExitCode: (c) => {
        code = c;
      },
      env: { USER: 'jane' },
    });
    try {
      await program.parseAsync(args, { from: 'user' });
    } catch {
      code = 2; // commander's own usage errors
    }
    return { code, out: out.join(''), err: err.join('') };
  };

  it('deploys record from options, then from a file; --json prints the stored deploy', async () => {
    const a = await cli(
      'deploys',
      'record',
      '--id',
      'ci-1',
      '--service',
      'card-api',
      '--environment',
      'staging',
      '--version',
      '1.0.0',
      '--status',
      'succeeded',
      '--label',
      'pipeline=release',
      '--json',
    );
    assert.equal(a.code, 0, a.err);
    const r = JSON.parse(a.out);
    assert.equal(r.outcome, 'created');
    assert.equal(r.deploy.recordedBy, 'cli:jane');
    assert.equal(r.deploy.source, 'cli');
    assert.deepEqual(r.deploy.labels, { pipeline: 'release' });
    const file = path.join(dir, 'event.json');
    writeFileSync(
      file,
      JSON.stringify({
        id: 'ci-2',
        service: 'ledger',
        environment: 'prod',
        version: '3.1.0',
        status: 'failed',
        actor: 'bo',
        startedAt: new Date(Date.now() - 60_000).toISOString(),
        finishedAt: new Date().toISOString(),
      }),
    );
    const b = await cli('deploys', 'record', '--file', file);
    assert.equal(b.code, 0, b.err);
    assert.match(b.out, /recorded ci-2: ledger 3\.1\.0 to prod, failed/);
    const again = await cli('deploys', 'record', '--file', file);
    assert.match(again.out, /already recorded: ci-2/);
  });

  it('deploys lists newest first, filtered; --json is the API answer', async () => {
    const all = await cli('deploys');
    assert.equal(all.code, 0);
    assert.match(all.out, /ledger\s+prod\s+3\.1\.0\s+failed\s+bo\s+ci-2/);
    assert.match(all.out, /card-api\s+staging\s+1\.0\.0\s+succeeded\s+cli:jane\s+ci-1/);
    const json = JSON.parse((await cli('deploys', '--service', 'card-api', '--json')).out);
    assert.deepEqual(
      json.deploys.map((d: { id: string }) => d.id),
      ['ci-1'],
    );
    assert.deepEqual(
      JSON.parse((await cli('deploys', '--team', 'ledger', '--env', 'prod', '--json')).out).deploys.map(
        (d: { id: string }) => d.id,
      ),
      ['ci-2'],
    );
  });

  it('changes --path draws each hop with its last deploy per environment, changed ones marked', async () => {
    const r = await cli('changes', '--path', 'card-api', 'ledger', '--since', '2h');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /path card-api → ledger: 2 of 3 services changed/);
    assert.match(
      r.out,
      /● card-api\s+staging 1\.0\.0 succeeded \d+s ago by cli:jane \| prod not deployed yet/,
    );
    assert.match(r.out, / {2}card-processing\s+staging not deployed yet \| prod not deployed yet/);
  });

  it('deploys skew lists services whose prod is older than N days or behind staging; --json is the API answer', async () => {
    const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
    for (const [id, environment, version, days] of [
      ['sk-1', 'prod', '3.0.0', 40],
      ['sk-2', 'staging', '3.1.0', 20],
      ['sk-3', 'staging', '3.2.0', 10],
    ] as const) {
      const r = await svc.record(
        {
          id,
          service: 'feed',
          environment,
          version,
          status: 'succeeded',
          startedAt: daysAgo(days),
          finishedAt: daysAgo(days),
        },
        'test',
      );
      assert.equal(r.outcome, 'created');
    }
    const r = await cli('deploys', 'skew', '--days', '30');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^prod older than 30 days or more than one release behind staging: 1 service\n/);
    assert.match(
      r.out,
      /feed\s+3\.2\.0\s+3\.0\.0\s+\d{4}-\d\d-\d\d \(40d ago\)\s+2\s+older than 30d, 2 releases behind/,
    );
    const json = await cli('deploys', 'skew', '--days', '60', '--json');
    assert.equal(json.code, 0, json.err);
    const body = JSON.parse(json.out);
    assert.equal(body.olderThanDays, 60);
    assert.deepEqual(
      body.services.map((s: { service: string; stale: boolean; behind: boolean }) => [
        s.service,
        s.stale,
        s.behind,
      ]),
      [['component:default/feed', false, true]],
    );
    const bad = await cli('deploys', 'skew', '--days', 'soon');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--days soon: a positive number of days/);
  });

  it('exit codes: unknown service 1 with the closest names, bad input 2', async () => {
    const unknown = await cli('deploys', '--service', 'card-apx');
    assert.equal(unknown.code, 1);
    // The closest names once (in the message), not again in a "did you mean" line.
    assert.match(unknown.err, /closest: card-api\n$/);
    assert.doesNotMatch(unknown.err, /did you mean/);
    const since = await cli('deploys', '--since', 'tomorrow');
    assert.equal(since.code, 2);
    assert.match(since.err, /since "tomorrow" must be a duration/);
    const env = await cli(
      'deploys',
      'record',
      '--id',
      'ci-3',
      '--service',
      'card-api',
      '--environment',
      'qa',
      '--version',
      '1',
      '--status',
      'succeeded',
    );
    assert.equal(env.code, 2);
    assert.match(env.err, /configured: staging, prod/);
    const path1 = await cli('changes', '--path', 'card-api');
    assert.equal(path1.code, 2);
    assert.match(path1.err, /--path takes two services/);
  });
});
