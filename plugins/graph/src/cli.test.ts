import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildGraphIndex } from '@bank/graph';
import { smallEstate } from '@bank/graph/testing';
import { EXIT } from '@bank/plugin-kit';
import { Command, CommanderError } from 'commander';
import { registerGraphCommands } from './cli.ts';
import { runPaths } from './lib/queries.ts';

const index = buildGraphIndex(smallEstate());

/** Runs one command line the way the portal's main does (exitOverride; CommanderError → exit 2). */
async function portal(args: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  let code: number | undefined;
  const program = new Command('portal')
    .exitOverride()
    .configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  registerGraphCommands(program, async () => index, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    setExitCode: (c) => (code = c),
    env,
  });
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    code = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  return { stdout, stderr, code };
}

describe('graph CLI commands', () => {
  it('path --json prints the same JSON as the HTTP API, with from, to and hops', async () => {
    const { stdout, code } = await portal(['path', 'card-api', 'cassandra-ledger', '--json']);
    assert.equal(code, 0);
    const json = JSON.parse(stdout);
    assert.deepEqual(
      json,
      JSON.parse(JSON.stringify(runPaths(index, { from: 'card-api', to: 'cassandra-ledger' }))),
    );
    for (const hop of json.paths[0].hops)
      for (const key of ['ref', 'name', 'owner', 'tier']) assert.ok(key in hop);
  });

  it('path draws each hop with owner, tier and on-call', async () => {
    const { stdout, code } = await portal(['path', 'card-api', 'cassandra-ledger', '--k', '2']);
    assert.equal(code, 0);
    assert.match(stdout, /^card-api → resource:cassandra-ledger: 1 path \(k=2, maxHops=8, via any\)/);
    assert.match(
      stdout,
      / 1 {2}card-api\s+tier 1 {2}owner card-processing \(payments\) {2}on-call payments-card/,
    );
    assert.match(stdout, /↓ dependsOn/);
    // Where to go for each hop: its runbook and Slack channel (the owner's when it has none), under it.
    assert.match(
      stdout,
      / 1 {2}card-api .*\n {6}runbook https:\/\/runbooks\.bank\.example\/card-api {2}slack #card-api\n/,
    );
    assert.match(stdout, / 3 {2}ledger .*\n {6}slack #squad-ledger\n/);
  });

  it('no path: says which side is cut off', async () => {
    const { stdout, code } = await portal(['path', 'card-api', 'lonely']);
    assert.equal(code, 0);
    assert.match(stdout, /no path: nothing calls component:default\/lonely/);
  });

  it('exit codes: 1 for an unknown ref (with suggestions), 2 for bad values and bad usage', async () => {
    const unknown = await portal(['path', 'card-apu', 'ledger']);
    assert.equal(unknown.code, 1);
    // The closest names once, not once in the message and again in a "did you mean" line.
    assert.equal(unknown.stderr, "portal: paths: unknown ref 'card-apu' (from); closest: card-api\n");
    const range = await portal(['path', 'card-api', 'ledger', '--k', '99']);
    assert.equal(range.code, 2);
    assert.match(range.stderr, /k must be an integer from 1 to 50 \(got 99\)/);
    assert.equal((await portal(['path', 'card-api', 'ledger', '--max-hops', 'x'])).code, 2);
    assert.equal((await portal(['path', 'card-api', 'card-api'])).code, 2);
    assert.equal((await portal(['path', 'card-api'])).code, 2); // missing argument: commander
    assert.equal((await portal(['impact', 'ledger', '--bogus'])).code, 2);
  });

  it('impact, cycles, ownership, neighbourhood: readable and --json', async () => {
    const impact = await portal(['impact', 'cassandra-ledger']);
    assert.equal(impact.code, 0);
    // Summary first: totals, by tier, the teams, then the nearest tier-1 dependents.
    assert.match(
      impact.stdout,
      /^blast radius of resource:cassandra-ledger: 4 dependents, 3 tier-1\nby tier: tier 1 3, tier 4 1\nteams: 2 collectives, 3 squads\n\ncollective/,
    );
    assert.match(impact.stdout, /nearest tier-1 dependents \(4 of 4\):/);
    assert.doesNotMatch(impact.stdout, /--all/);
    const all = await portal(['impact', 'cassandra-ledger', '--all']);
    assert.match(all.stdout, /every dependent \(4\), tier 1 first:\ntier +depth +service/);
    const impactJson = JSON.parse((await portal(['impact', 'ledger', '--depth', '1', '--json'])).stdout);
    assert.equal(impactJson.total, 2);
    assert.match(
      (await portal(['cycles'])).stdout,
      /1 call cycle .*\n1\. 2 services: audit \(ghosts\), ledger \(ledger\)/,
    );
    const ownership = await portal(['ownership']);
    assert.match(ownership.stdout, /orphans: 2/);
    assert.match(ownership.stdout, /ledger \(tier 1\) → audit \(tier 4, ghosts\)/);
    assert.equal(JSON.parse((await portal(['ownership', '--json'])).stdout).orphans.length, 2);
    assert.match(
      (await portal(['neighbourhood', 'ledger'])).stdout,
      /around ledger \(calls, depth 1, both\)/,
    );
  });

  it('graph export writes each format; an unknown one is a usage error', async () => {
    const cypher = await portal(['graph', 'export', '--format', 'cypher']);
    assert.equal(cypher.code, 0);
    assert.match(cypher.stdout, /^\/\/ The bank estate graph/);
    assert.match(
      (await portal(['graph', 'export', '--format', 'dot', '--scope', 'calls'])).stdout,
      /^digraph estate/,
    );
    const bad = await portal(['graph', 'export', '--format', 'pdf']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format must be one of cypher, graphml, dot, json/);
  });

  it('graph sync (using no real Neo4j): without NEO4J_URI a usage error; a closed port a clear error, exit 1', async () => {
    const off = await portal(['graph', 'sync']);
    assert.equal(off.code, 2);
    assert.match(off.stderr, /set NEO4J_URI/);
    const closed = await portal(['graph', 'sync'], {
      NEO4J_URI: 'bolt://127.0.0.1:1',
      NEO4J_USER: 'neo4j',
      NEO4J_PASSWORD: 'pw',
    });
    assert.equal(closed.code, 1);
    assert.match(closed.stderr, /cannot reach bolt:\/\/127\.0\.0\.1:1/);
  });
});
