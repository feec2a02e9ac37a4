/**
 * No Neo4j server exists on these machines (no package, no Docker), so these tests use no real Neo4j:
 * they check the statements we would send (text, parameters, batching), run the sync through a recording
 * test double at the driver boundary, and check the real driver's failure against a closed local port.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { GraphBackendError } from './errors.ts';
import { buildGraphIndex, relationCount } from './graph-index.ts';
import {
  type CypherStatement,
  connectNeo4j,
  neo4jConfigFromEnv,
  syncStatements,
  syncToNeo4j,
} from './neo4j.ts';
import { toEntities } from './testing/entities.ts';
import { smallEstateSpecs } from './testing/small-estate.ts';

const HOSTILE = "x'}) MATCH (n) DETACH DELETE n //";

function hostileIndex() {
  const specs = smallEstateSpecs();
  for (const s of specs) if (s.kind === 'Component') s.title = `${HOSTILE} ${s.name}`;
  const cardApi = specs.find((s) => s.name === 'card-api');
  assert.ok(cardApi);
  cardApi.runbook = 'https://x/`backtick`';
  return buildGraphIndex(toEntities(specs));
}

/** Every string value anywhere in the parameters. */
function parameterStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) parameterStrings(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) parameterStrings(v, out);
  return out;
}

describe('neo4j (using no real Neo4j)', () => {
  it('sync statements are parameterised: no entity text in any query text', () => {
    const index = hostileIndex();
    const statements = syncStatements(index, { batchSize: 4, runId: 'run-1' });
    assert.match(statements[0].text, /^CREATE CONSTRAINT entity_ref IF NOT EXISTS/);
    const texts = new Set(statements.map((s) => s.text));
    for (const text of texts) {
      assert.ok(!text.includes("'"), `a quote in ${text}`);
      assert.ok(!text.includes('default/'), `a ref in ${text}`);
      assert.ok(!text.includes('DETACH DELETE n //'));
    }
    const values = statements.flatMap((s) => parameterStrings(s.parameters));
    assert.ok(
      values.some((v) => v.startsWith(HOSTILE)),
      'hostile titles travel as parameters',
    );
    assert.ok(values.includes('https://x/`backtick`'));
  });

  it('batches UNWIND rows and covers every node and edge exactly once', () => {
    const index = hostileIndex();
    const statements = syncStatements(index, { batchSize: 4, runId: 'run-1' });
    const rows = (pattern: RegExp) =>
      statements
        .filter((s) => pattern.test(s.text))
        .flatMap((s) => s.parameters.rows as { ref?: string; from?: string; to?: string }[]);
    for (const s of statements)
      if (Array.isArray(s.parameters.rows)) assert.ok((s.parameters.rows as unknown[]).length <= 4);
    const nodes = rows(/MERGE \(n:Entity/).map((r) => r.ref);
    assert.equal(nodes.length, index.relations.order);
    assert.equal(new Set(nodes).size, nodes.length);
    assert.equal(rows(/MERGE \(a\)-\[r:/).length, relationCount(index) + index.calls.size);
    assert.ok(statements.every((s) => s.parameters.run === undefined || s.parameters.run === 'run-1'));
    assert.match(statements.at(-1)?.text ?? '', /DETACH DELETE n$/);
    assert.throws(
      () => syncStatements(index, { batchSize: 0 }),
      /batchSize must be an integer from 1 to 100000/,
    );
  });

  it('syncToNeo4j sends every statement, in order, through the runner', async () => {
    const index = hostileIndex();
    const sent: CypherStatement[] = [];
    const progress: number[] = [];
    const summary = await syncToNeo4j(
      index,
      {
        async run(statement) {
          sent.push(statement);
          return [];
        },
        async close() {},
      },
      { batchSize: 10, runId: 'r', onProgress: (done) => progress.push(done) },
    );
    assert.deepEqual(sent, syncStatements(index, { batchSize: 10, runId: 'r' }));
    assert.equal(summary.statements, sent.length);
    assert.equal(progress.at(-1), sent.length);
  });

  it('config comes from NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD; none means Neo4j is off', () => {
    assert.equal(neo4jConfigFromEnv({}), null);
    assert.deepEqual(
      neo4jConfigFromEnv({ NEO4J_URI: 'bolt://db:7687', NEO4J_USER: 'u', NEO4J_PASSWORD: 'p' }),
      {
        uri: 'bolt://db:7687',
        user: 'u',
        password: 'p',
      },
    );
  });

  it('a closed port gives a clear GraphBackendError quickly, without the password', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const started = Date.now();
    await assert.rejects(
      connectNeo4j(
        { uri: `bolt://127.0.0.1:${port}`, user: 'neo4j', password: 's3cret' },
        { connectionTimeoutMs: 2000 },
      ),
      (err: unknown) => {
        assert.ok(err instanceof GraphBackendError);
        assert.match(err.message, new RegExp(`cannot reach bolt://127\\.0\\.0\\.1:${port} as 'neo4j'`));
        assert.match(err.message, /NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD/);
        assert.ok(!err.message.includes('s3cret'));
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000);
  });

  it('a URI the driver cannot use is a GraphBackendError too', async () => {
    await assert.rejects(
      connectNeo4j({ uri: 'http://nope', user: 'neo4j', password: '' }),
      GraphBackendError,
    );
  });
});
