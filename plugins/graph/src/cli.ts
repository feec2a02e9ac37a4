import {
  connectNeo4j,
  EXPORT_FORMATS,
  type ExportFormat,
  exportGraph,
  type GraphIndex,
  GraphQueryError,
  type ImpactResult,
  neo4jConfigFromEnv,
  type PathsResult,
  syncToNeo4j,
  UnknownRefError,
} from '@bank/graph';
import { didYouMean, EXIT } from '@bank/plugin-kit';
import type { Command } from 'commander';
import { runCycles, runImpact, runNeighbourhood, runOwnership, runPaths } from './lib/queries.ts';
import {
  renderCycles,
  renderImpact,
  renderNeighbourhood,
  renderOwnership,
  renderPaths,
} from './lib/render.ts';

/** Where commands write and how they report their exit code (the process by default; a buffer in tests). */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  setExitCode(code: number): void;
  env: Record<string, string | undefined>;
}

const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  setExitCode: (code) => {
    process.exitCode = code;
  },
  env: process.env,
};

interface Json {
  json?: boolean;
}

/**
 * The graph's commands: `path`, `impact`, `neighbourhood`, `cycles`, `ownership`, `graph export`, `graph sync`.
 * Each prints a readable form, or with --json the same JSON as the HTTP API. Exit codes: 0 ok, 1 error
 * (unknown ref, Neo4j unreachable), 2 usage (bad option values, same ref twice).
 */
export function registerGraphCommands(
  program: Command,
  load: () => Promise<GraphIndex>,
  io: CliIo = processIo,
  extras: GraphCliExtras = {},
): void {
  const cli: GraphCli = {
    load,
    io,
    extras,
    run:
      (action) =>
      async (...args) => {
        try {
          await action(...args);
          io.setExitCode(EXIT.ok);
        } catch (err) {
          reportError(io, err);
        }
      },
    emit: (opts, result, render) => {
      io.stdout(opts.json ? `${JSON.stringify(result, null, 2)}\n` : render(result));
    },
  };
  registerPath(program, cli);
  registerImpact(program, cli);
  registerNeighbourhood(program, cli);
  registerCycles(program, cli);
  registerOwnership(program, cli);
  const graph =
    program.commands.find((c) => c.name() === 'graph') ??
    program.command('graph').description('the dependency graph as a whole');
  registerExport(graph, cli);
  registerSync(graph, cli);
}

interface GraphCliExtras {
  /** A line under each hop of `portal path` (who is on call now), by ref; the plugin that knows fills it. */
  hopNotes?: (refs: string[]) => Promise<ReadonlyMap<string, string>>;
  /**
   * Ask a running portal first: the answer of GET /api/graph/<route> with these parameters (the same JSON
   * the command prints with --json), or undefined when none is reachable (then the graph is loaded here).
   */
  ask?: (route: 'paths' | 'impact', params: Record<string, string | undefined>) => Promise<unknown>;
}

/** What every command gets: the graph, where to write, `run` (exit codes, errors) and `emit` (JSON or text). */
interface GraphCli {
  load: () => Promise<GraphIndex>;
  io: CliIo;
  extras: GraphCliExtras;
  run: <A extends unknown[]>(action: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;
  emit: <T>(opts: Json, result: T, render: (r: T) => string) => void;
}

function registerPath(program: Command, { load, extras, run, emit }: GraphCli): void {
  program
    .command('path')
    .description(
      'the k shortest call paths from one service to another, hop by hop with owner, tier and on-call',
    )
    .argument('<from>', 'a short name (card-api) or a ref (component:default/card-api)')
    .argument('<to>')
    .option('--k <n>', 'how many paths, 1–50', '5')
    .option('--max-hops <n>', 'longest path in hops, 1–15', '8')
    .option('--via <edges>', 'declared | observed | any', 'any')
    .option('--json', 'the same JSON as GET /api/graph/paths')
    .action(
      run(async (from: string, to: string, opts: Json & { k: string; maxHops: string; via: string }) => {
        const params = { from, to, k: opts.k, maxHops: opts.maxHops, via: opts.via };
        const result =
          ((await extras.ask?.('paths', params)) as PathsResult | undefined) ??
          runPaths(await load(), params);
        const refs = [
          ...new Set(result.paths.flatMap((p) => p.hops.filter((h) => !h.missing).map((h) => h.ref))),
        ];
        const notes = !opts.json && extras.hopNotes && refs.length ? await extras.hopNotes(refs) : undefined;
        emit(opts, result, (r) => renderPaths(r, notes));
      }),
    );
}

function registerImpact(program: Command, { load, extras, run, emit }: GraphCli): void {
  program
    .command('impact')
    .description(
      'blast radius: every service that calls this one, directly or not, tier-1 first, rolled up to teams',
    )
    .argument('<ref>', 'a service, resource, group (what it owns), API (its providers) or system')
    .option('--depth <n>', 'hops upstream to follow, 1–50 (default: all)')
    .option('--via <edges>', 'declared | observed | any', 'any')
    .option('--all', 'list every dependent (the default is a summary: totals by tier and team, the nearest)')
    .option('--json', 'the same JSON as GET /api/graph/impact')
    .action(
      run(async (ref: string, opts: Json & { depth?: string; via: string; all?: boolean }) => {
        const params = { ref, depth: opts.depth, via: opts.via };
        const result =
          ((await extras.ask?.('impact', params)) as ImpactResult | undefined) ??
          runImpact(await load(), params);
        emit(opts, result, (r) => renderImpact(r, { all: opts.all }));
      }),
    );
}

function registerNeighbourhood(program: Command, { load, run, emit }: GraphCli): void {
  program
    .command('neighbourhood')
    .description('what is around a service: what it calls and what calls it')
    .argument('<ref>')
    .option('--depth <n>', 'hops, 1–6', '1')
    .option('--direction <d>', 'up | down | both', 'both')
    .option('--via <edges>', 'declared | observed | any', 'any')
    .option('--json', 'the same JSON as GET /api/graph/neighbourhood')
    .action(
      run(async (ref: string, opts: Json & { depth: string; direction: string; via: string }) => {
        const result = runNeighbourhood(await load(), {
          ref,
          depth: opts.depth,
          direction: opts.direction,
          via: opts.via,
        });
        emit(opts, result, renderNeighbourhood);
      }),
    );
}

function registerCycles(program: Command, { load, run, emit }: GraphCli): void {
  program
    .command('cycles')
    .description('call cycles: groups of services that (transitively) call each other')
    .option('--via <edges>', 'declared | observed | any', 'any')
    .option('--json', 'the same JSON as GET /api/graph/cycles')
    .action(
      run(async (opts: Json & { via: string }) => {
        emit(opts, runCycles(await load(), { via: opts.via }), renderCycles);
      }),
    );
}

function registerOwnership(program: Command, { load, run, emit }: GraphCli): void {
  program
    .command('ownership')
    .description('services per squad and collective, orphans, tier inversions, squad-to-squad coupling')
    .option('--via <edges>', 'declared | observed | any', 'any')
    .option('--json', 'the same JSON as GET /api/graph/ownership')
    .action(
      run(async (opts: Json & { via: string }) => {
        emit(opts, runOwnership(await load(), { via: opts.via }), renderOwnership);
      }),
    );
}

/** `portal graph export`: the whole graph in a format other tools read. */
function registerExport(graph: Command, { load, io, run }: GraphCli): void {
  graph
    .command('export')
    .description('write the whole graph as Cypher (Neo4j), GraphML (Gephi, yEd), DOT (Graphviz) or JSON')
    .requiredOption('--format <format>', EXPORT_FORMATS.join(' | '))
    .option(
      '--scope <scope>',
      'all (every entity and relation) | calls (services, resources and call edges)',
      'all',
    )
    .action(
      run(async (opts: { format: string; scope: string }) => {
        if (!(EXPORT_FORMATS as readonly string[]).includes(opts.format)) {
          throw new GraphQueryError(
            `graph export: --format must be one of ${EXPORT_FORMATS.join(', ')} (got ${JSON.stringify(opts.format)})`,
          );
        }
        io.stdout(
          exportGraph(await load(), {
            format: opts.format as ExportFormat,
            scope: opts.scope as 'all' | 'calls',
          }),
        );
      }),
    );
}

/** `portal graph sync`: the graph written into Neo4j, with progress on stderr. */
function registerSync(graph: Command, { load, io, run }: GraphCli): void {
  graph
    .command('sync')
    .description(
      'write the graph into Neo4j (NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD): MERGE, batched, parameterised',
    )
    .option('--batch-size <n>', 'rows per UNWIND batch', '1000')
    .option('--json', 'machine-readable summary')
    .action(
      run(async (opts: Json & { batchSize: string }) => {
        const config = neo4jConfigFromEnv(io.env);
        if (!config)
          throw new GraphQueryError(
            'graph sync: set NEO4J_URI (and NEO4J_USER, NEO4J_PASSWORD) to say which Neo4j to write to',
          );
        if (!/^\d+$/.test(opts.batchSize))
          throw new GraphQueryError(
            `graph sync: --batch-size must be a whole number (got ${opts.batchSize})`,
          );
        const index = await load();
        const runner = await connectNeo4j(config);
        try {
          const summary = await syncToNeo4j(index, runner, {
            batchSize: Number(opts.batchSize),
            onProgress: opts.json
              ? undefined
              : (done, total) => io.stderr(`\rsyncing ${done}/${total} statements`),
          });
          if (!opts.json) io.stderr('\n');
          io.stdout(
            opts.json
              ? `${JSON.stringify(summary, null, 2)}\n`
              : `synced ${summary.nodes} nodes and ${summary.edges} edges to ${config.uri} in ${summary.statements} statements\n`,
          );
        } finally {
          await runner.close();
        }
      }),
    );
}

function reportError(io: CliIo, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  io.stderr(`portal: ${message}\n`);
  if (err instanceof UnknownRefError) {
    const hint = didYouMean(message, err.suggestions);
    if (hint) io.stderr(`${hint}\n`);
    io.setExitCode(EXIT.error);
  } else if (err instanceof GraphQueryError) {
    io.setExitCode(EXIT.usage);
  } else {
    // GraphBackendError (Neo4j unreachable) and anything unexpected.
    io.setExitCode(EXIT.error);
  }
}
