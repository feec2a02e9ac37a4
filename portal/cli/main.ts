import { readFileSync } from 'node:fs';
import type { CatalogService, CatalogView } from '@bank/plugin-catalog';
// The kit's CLI part alone: its index brings in the HTTP framework, which `portal --help` does not need.
import { EXIT, UsageError } from '@bank/plugin-kit/cli';
import type { TrafficService } from '@bank/plugin-traffic';
import { Command, CommanderError, Help } from 'commander';
import { type CliContext, type CommandEntry, commandManifest, REGISTRARS } from './commands.ts';

const newProgram = () =>
  new Command('portal')
    .description(
      "The bank's developer portal: service catalogue, dependency graph, call paths and scaffolder",
    )
    .option(
      '--db <url>',
      'database: file:path.db (SQLite, default data/portal.db) or postgres://…; or set DATABASE_URL',
    )
    .showHelpAfterError('(run portal --help for usage)')
    .exitOverride();
const program = newProgram();

const dbUrl = async () => {
  const { databaseUrl } = await import('../server/locations.ts');
  return databaseUrl(program.opts<{ db?: string }>().db);
};

let catalog: Promise<CatalogService> | undefined;
/** Whether this command changed the catalogue (an ingest): the saved graph index is then saved anew. */
let catalogChanged = false;
const open = () => {
  catalog ??= (async () => {
    const { openCatalog } = await import('../server/runtime.ts');
    const service = await openCatalog(await dbUrl());
    const changed = () => {
      catalogChanged = true;
    };
    service.on('change', changed).on('reload', changed);
    return service;
  })();
  return catalog;
};

let view: Promise<CatalogView> | undefined;
/** The catalogue as read-only commands see it: from the snapshot when it is current (see local-view.ts). */
const openView = () => {
  view ??= (async () => {
    if (catalog) return (await catalog).view();
    const { localView } = await import('./local-view.ts');
    return localView(await dbUrl(), open);
  })();
  return view;
};

let traffic: Promise<TrafficService | undefined> | undefined;
/**
 * Observed traffic as stored by a running portal (read only: no expiry timer, nothing written); undefined
 * when the store holds none, so a graph command on a store without traces does not load the traffic code.
 */
const openTraffic = () => {
  traffic ??= (async () => {
    const url = await dbUrl();
    const { storeFacts } = await import('./local-view.ts');
    if ((await storeFacts(url))?.observed === false) return undefined;
    const { TrafficService } = await import('@bank/plugin-traffic/service');
    const service = await TrafficService.open({ storeUrl: url, expireEveryMs: 0 });
    service.setCatalogue((await openView()).all());
    return service;
  })();
  return traffic;
};
const ctx: CliContext = { dbUrl, open, openView, openTraffic };

if (process.env.PORTAL_CLI_WRITE_MANIFEST) {
  // The build asks which plugin registers which command (see commands.ts).
  const { writeFileSync } = await import('node:fs');
  const entries = await commandManifest(newProgram, ctx);
  writeFileSync(process.env.PORTAL_CLI_WRITE_MANIFEST, `${JSON.stringify(entries, null, 1)}\n`);
  process.exit(0);
}

await registerCommands();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    const e = err as Error & { suggestions?: string[] };
    process.stderr.write(`portal: ${e.message}\n`);
    if (process.env.PORTAL_DEBUG) process.stderr.write(`${e.stack}\n`);
    process.exitCode = err instanceof UsageError ? EXIT.usage : EXIT.error;
  }
}
if (
  process.exitCode ||
  !program.commands.some((c) => c.name() === program.args[0] && ['serve', 'start'].includes(c.name()))
) {
  const service = catalog ? await catalog.catch(() => undefined) : undefined;
  if (service && catalogChanged && !process.exitCode) await saveGraphIndex(service);
  await service?.store.close();
  // pg pools and file watchers must not keep a finished command alive. Writes to a pipe are asynchronous:
  // exiting before they are out would cut a long `--json` answer short (at about 400 KB).
  await Promise.all(
    [process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => s.write('', () => resolve()))),
  );
  process.exit(process.exitCode ?? 0);
}

/**
 * After an ingest, the graph index is built and saved beside the store, so the next `portal path` or
 * `portal serve` reads it instead of building it (see graph/src/saved-index.ts).
 */
async function saveGraphIndex(service: CatalogService): Promise<void> {
  const [{ GraphService }, { graphIndexFileFor }] = await Promise.all([
    import('@bank/plugin-catalog/graph-sync'),
    import('../server/locations.ts'),
  ]);
  const graph = new GraphService(service, { savedFile: graphIndexFileFor(await dbUrl()) });
  // Built when first read (or read from a saved index still current), then saved at once.
  void graph.current;
  graph.flushSave();
}

/**
 * Only the plugin(s) that add the command asked for are loaded. For `portal --help`, an unknown command or
 * none, the commands are listed from the build's manifest without loading any plugin. Without a manifest
 * (run from source), every plugin is loaded, as before.
 */
async function registerCommands(): Promise<void> {
  const manifest = readManifest();
  if (!manifest) {
    for (const register of Object.values(REGISTRARS)) await register(program, ctx);
    return;
  }
  const words = commandWords(process.argv.slice(2));
  const wanted = manifest.find((c) => c.name === words[0] || c.aliases.includes(words[0] ?? ''));
  // `portal help path` is `portal path --help`.
  const helpFor =
    words[0] === 'help'
      ? manifest.find((c) => c.name === words[1] || c.aliases.includes(words[1] ?? ''))
      : undefined;
  const entry = wanted ?? helpFor;
  if (entry) {
    for (const key of entry.registrars) await REGISTRARS[key]?.(program, ctx);
    return;
  }
  for (const c of manifest) program.command(c.name).aliases(c.aliases).description(c.description);
  const terms = new Map(manifest.map((c) => [c.name, c.term]));
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? new Help().subcommandTerm(cmd) });
}

function readManifest(): CommandEntry[] | undefined {
  const file = process.env.PORTAL_CLI_MANIFEST;
  if (!file) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CommandEntry[];
  } catch {
    return undefined;
  }
}

/** The words of the command line that are not options (nor the value of `--db`). */
function commandWords(args: string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--db') i++;
    else if (!a.startsWith('-')) words.push(a);
  }
  return words;
}
