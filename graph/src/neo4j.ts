import { createRequire } from 'node:module';
import type { Driver } from 'neo4j-driver';
import { GraphBackendError } from './errors.ts';
import { type GraphIndex, relationCount } from './graph-index.ts';
import { intOption } from './internal/options.ts';
import { edgeRows, KIND_LABELS, nodeRows, RELATION_TYPES } from './internal/rows.ts';

type Neo4jModule = typeof import('neo4j-driver').default;
let loadedDriver: Neo4jModule | undefined;
/**
 * neo4j-driver takes longer to load than the rest of a `portal path` together; only `graph sync` and the
 * Cypher builders use it, so it is loaded on first use.
 */
function neo4jModule(): Neo4jModule {
  loadedDriver ??= createRequire(import.meta.url)('neo4j-driver') as Neo4jModule;
  return loadedDriver;
}

/** Connection settings, from NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD (and NEO4J_DATABASE). */
export interface Neo4jConfig {
  uri: string;
  user: string;
  password: string;
  database?: string;
}

/** A query text and its parameters. Texts are fixed templates: every value from the estate is a parameter. */
export interface CypherStatement {
  text: string;
  parameters: Record<string, unknown>;
}

/** Runs one statement and returns its records as plain objects (a driver, or a test double). */
export interface CypherRunner {
  run(statement: CypherStatement): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** Reads the Neo4j settings from the environment; null when NEO4J_URI is not set (Neo4j is optional). */
export function neo4jConfigFromEnv(
  env: Record<string, string | undefined> = process.env,
): Neo4jConfig | null {
  const uri = env.NEO4J_URI?.trim();
  if (!uri) return null;
  const config: Neo4jConfig = { uri, user: env.NEO4J_USER ?? 'neo4j', password: env.NEO4J_PASSWORD ?? '' };
  if (env.NEO4J_DATABASE) config.database = env.NEO4J_DATABASE;
  return config;
}

/** Opens a driver and checks it can reach the server; a clear {@link GraphBackendError} when it cannot. */
export async function connectNeo4j(
  config: Neo4jConfig,
  options: { connectionTimeoutMs?: number } = {},
): Promise<CypherRunner> {
  const where = `neo4j: cannot reach ${config.uri} as '${config.user}'`;
  const hint = 'is Neo4j running, and are NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD right?';
  let driver: Driver;
  try {
    const neo4j = neo4jModule();
    driver = neo4j.driver(config.uri, neo4j.auth.basic(config.user, config.password), {
      connectionTimeout: options.connectionTimeoutMs ?? 5000,
      maxConnectionLifetime: 60 * 60 * 1000,
    });
  } catch (err) {
    throw new GraphBackendError(
      `${where}: ${(err as Error).message}; ${hint}`,
      { uri: config.uri },
      { cause: err },
    );
  }
  try {
    await driver.verifyConnectivity(config.database ? { database: config.database } : undefined);
  } catch (err) {
    await driver.close().catch(() => {});
    const code = (err as { code?: string }).code;
    throw new GraphBackendError(
      `${where}: ${(err as Error).message}; ${hint}`,
      { uri: config.uri, code },
      { cause: err },
    );
  }
  return driverRunner(driver, config.database);
}

/** A runner over an open driver (managed transactions with retries through executeQuery). */
export function driverRunner(driver: Driver, database?: string): CypherRunner {
  return {
    async run(statement) {
      const result = await driver.executeQuery(
        statement.text,
        statement.parameters,
        database ? { database } : {},
      );
      return result.records.map((r) => r.toObject());
    },
    close: () => driver.close(),
  };
}

// ---- sync -------------------------------------------------------------------------------------------------

export interface SyncOptions {
  /** Rows per UNWIND batch (default 1000). */
  batchSize?: number;
  /** Marks what this sync wrote, so what it did not write can be deleted (default: current time). */
  runId?: string;
}

const CONSTRAINT = 'CREATE CONSTRAINT entity_ref IF NOT EXISTS FOR (n:Entity) REQUIRE n.ref IS UNIQUE';

/**
 * The statements that mirror the index into Neo4j: a uniqueness constraint, then batched UNWIND MERGEs of
 * nodes (per label) and edges (per relationship type), then deletion of what an earlier sync wrote and this
 * one did not. Labels and types come from fixed lists; refs and properties travel only as parameters.
 */
export function syncStatements(index: GraphIndex, options: SyncOptions = {}): CypherStatement[] {
  const batchSize = intOption('syncStatements', 'batchSize', options.batchSize, 1, 100_000, 1000);
  const run = options.runId ?? new Date().toISOString();
  const statements: CypherStatement[] = [{ text: CONSTRAINT, parameters: {} }];
  const nodes = nodeRows(index);
  const labels = [...new Set(nodes.map((n) => n.label))];
  for (const label of labels) {
    const text =
      'UNWIND $rows AS row MERGE (n:Entity {ref: row.ref}) SET n = row.props, n.syncRun = $run' +
      (label && Object.values(KIND_LABELS).includes(label) ? ` SET n:${label}` : '');
    const rows = nodes.filter((n) => n.label === label).map((n) => ({ ref: n.ref, props: n.props }));
    for (let i = 0; i < rows.length; i += batchSize) {
      statements.push({ text, parameters: { rows: rows.slice(i, i + batchSize), run } });
    }
  }
  const edges = edgeRows(index);
  const allowedTypes = new Set(['CALLS', 'RELATION', ...Object.values(RELATION_TYPES)]);
  for (const relType of [...new Set(edges.map((e) => e.relType))]) {
    if (!allowedTypes.has(relType))
      throw new Error(`syncStatements: unexpected relationship type ${relType}`);
    const merge =
      relType === 'RELATION'
        ? 'MERGE (a)-[r:RELATION {type: row.props.type}]->(b)'
        : `MERGE (a)-[r:${relType}]->(b)`;
    const text = `UNWIND $rows AS row MATCH (a:Entity {ref: row.from}) MATCH (b:Entity {ref: row.to}) ${merge} SET r = row.props, r.syncRun = $run`;
    const rows = edges
      .filter((e) => e.relType === relType)
      .map((e) => ({ from: e.from, to: e.to, props: e.props }));
    for (let i = 0; i < rows.length; i += batchSize) {
      statements.push({ text, parameters: { rows: rows.slice(i, i + batchSize), run } });
    }
  }
  statements.push(
    { text: 'MATCH (:Entity)-[r]->(:Entity) WHERE r.syncRun <> $run DELETE r', parameters: { run } },
    { text: 'MATCH (n:Entity) WHERE n.syncRun <> $run DETACH DELETE n', parameters: { run } },
  );
  return statements;
}

export interface SyncSummary {
  statements: number;
  nodes: number;
  edges: number;
  runId: string;
}

/** Writes the index into Neo4j through `runner` (see {@link connectNeo4j}), statement by statement. */
export async function syncToNeo4j(
  index: GraphIndex,
  runner: CypherRunner,
  options: SyncOptions & { onProgress?: (done: number, total: number) => void } = {},
): Promise<SyncSummary> {
  const runId = options.runId ?? new Date().toISOString();
  const statements = syncStatements(index, { ...options, runId });
  let done = 0;
  for (const statement of statements) {
    await runner.run(statement);
    options.onProgress?.(++done, statements.length);
  }
  return {
    statements: statements.length,
    nodes: index.relations.order,
    edges: relationCount(index) + index.calls.size,
    runId,
  };
}
