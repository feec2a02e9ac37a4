import path from 'node:path';
import {
  ANNOTATION,
  entityRef,
  errorsOnly,
  type IngestResult,
  isWarningRow,
  type RefError,
  readCatalogTree,
  resolveRef,
} from '@bank/catalog';
// The call readers alone here: the graph index itself is built in `openGraph`, loaded on first use.
import type { GraphIndex } from '@bank/graph';
import { declaredCalls } from '@bank/graph/calls';
import { formatTable, printJson, shortRef } from '@bank/plugin-kit';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { type CatalogView, type ListFilter, listEntities, owners, type ServedEntity } from './lib/view.ts';
import type { CatalogService } from './service.ts';

interface Json {
  json?: boolean;
}

/**
 * The catalogue's commands, one function each: ingest, import, export, validate, get, list, owners, errors.
 * `open` gives the running catalogue (store opened and migrated); commands that only read files (validate) do
 * not open it. `openView` gives the catalogue view alone, for the read-only get, list and owners (the CLI
 * reads it from the snapshot beside the store when that is current). `openGraph` gives the graph index `get`
 * asks who calls whom (the CLI reads the one saved beside the store when it is current).
 */
export function registerCatalogCommands(
  program: Command,
  open: () => Promise<CatalogService>,
  openView: () => Promise<CatalogView> = async () => (await open()).view(),
  openGraph: () => Promise<GraphIndex> = async () =>
    (await import('@bank/graph/graph-index')).buildGraphIndex((await openView()).all()),
): void {
  registerIngestCommand(program, open);
  registerImportCommand(program, open);
  registerExportCommand(program, open);
  registerValidateCommand(program);
  registerGetCommand(program, openView, openGraph);
  registerListCommand(program, openView);
  registerOwnersCommand(program, openView);
  registerErrorsCommand(program, open);
}

/** `portal ingest [paths...]`: descriptors into the catalogue, once or (--watch) on every change. */
function registerIngestCommand(program: Command, open: () => Promise<CatalogService>): void {
  program
    .command('ingest')
    .description(
      'read catalog-info.yaml files under the given folders, or the given files and what their Locations list (default: the bank estate in services/), into the catalogue',
    )
    .argument('[paths...]', 'directories or files to ingest')
    .option('--watch', 'keep running and re-ingest when a file changes')
    .option('--force', 're-read every file even if unchanged')
    .option('--json', 'machine-readable output')
    .action(async (paths: string[], opts: Json & { watch?: boolean; force?: boolean }) => {
      const catalog = await open();
      const roots = paths.length > 0 ? paths.map((p) => path.resolve(p)) : catalog.roots;
      const result = await ingestWithProgress(catalog, roots, { json: opts.json, force: opts.force });
      report(result, opts.json);
      if (opts.watch) {
        const { watchRoots } = await import('./watch.ts');
        process.stderr.write(
          `watching ${roots.map((r) => path.relative(process.cwd(), r) || '.').join(', ')} for changes (Ctrl-C to stop)\n`,
        );
        watchRoots(catalog, roots, (r) => report(r, opts.json));
        await new Promise(() => {});
      }
      process.exitCode = errorsOnly(result.errors).length > 0 ? 1 : 0;
    });
}

/** `portal import --from-backstage <url>`: a running Backstage's entities into files, then ingested. */
function registerImportCommand(program: Command, open: () => Promise<CatalogService>): void {
  program
    .command('import')
    .description(
      'copy the entities of a running Backstage (all, or --filter) through @backstage/catalog-client into descriptor files, then ingest them',
    )
    .requiredOption('--from-backstage <base-url>', "the Backstage backend's root, e.g. http://backstage:7007")
    .option(
      '--filter <key=value,...>',
      "as Backstage's filter=: conditions ANDed, repeat --filter to OR (e.g. kind=component,spec.type=service)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--out <dir>', 'where the files go (default: backstage-import/ in the first catalogue root)')
    .option('--json', 'machine-readable output')
    .action(async (opts: Json & { fromBackstage: string; filter?: string[]; out?: string }) => {
      const { importFromBackstage, parseFilters } = await import('./transfer.ts');
      const catalog = await open();
      const first = catalog.roots[0] ?? process.cwd();
      const out = path.resolve(opts.out ?? path.join(first, 'backstage-import'));
      const r = await importFromBackstage(opts.fromBackstage, out, {
        filter: parseFilters(opts.filter ?? []),
        token: process.env.BACKSTAGE_TOKEN,
      });
      const result = await catalog.ingest([out]);
      if (opts.json)
        printJson({ read: r.read, written: r.written.length, skipped: r.skipped, out, ingest: result });
      else {
        process.stdout.write(
          `read ${r.read} entities from ${opts.fromBackstage}; wrote ${r.written.length} descriptor files under ${out} (${r.skipped.length} Location entities left out)\n`,
        );
        report(result, false);
      }
      process.exitCode = errorsOnly(result.errors).length > 0 ? 1 : 0;
    });
}

/** `portal export --out <dir>`: the catalogue's entities as Backstage descriptor files. */
function registerExportCommand(program: Command, open: () => Promise<CatalogService>): void {
  program
    .command('export')
    .description("write the catalogue's entities as Backstage descriptor files (one catalog-info.yaml each)")
    .requiredOption('--out <dir>', 'the folder to write into')
    .option('--format <format>', 'backstage (the only one)', 'backstage')
    .option('--json', 'machine-readable output')
    .action(async (opts: Json & { out: string; format: string }) => {
      if (opts.format !== 'backstage')
        throw new Error(`--format ${opts.format}: only "backstage" is written`);
      const { writeDescriptors } = await import('./transfer.ts');
      const view = await (await open()).view();
      const r = writeDescriptors(
        [...view.byRef.values()].filter((e) => e.metadata.annotations?.['backstage.io/orphan'] !== 'true'),
        path.resolve(opts.out),
      );
      if (opts.json)
        printJson({ written: r.written.length, skipped: r.skipped, out: path.resolve(opts.out) });
      else
        process.stdout.write(`wrote ${r.written.length} descriptor files under ${path.resolve(opts.out)}\n`);
    });
}

/** `portal validate [paths...]`: descriptor files checked without opening the catalogue. */
function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check descriptor files without writing anything')
    .argument('[paths...]', 'directories or files (default: services/)')
    .option('--json', 'machine-readable output')
    .action(async (paths: string[], opts: Json) => {
      const roots = paths.length > 0 ? paths : [defaultRoot()];
      const { entities, errors } = await readCatalogTree(...roots);
      const refused = errorsOnly(errors).length;
      if (opts.json) printJson({ valid: refused === 0, entities: entities.length, errors });
      else {
        for (const e of errors) process.stdout.write(`${e.file}:${e.line}:${e.column}  ${e.message}\n`);
        process.stdout.write(
          `${entities.length} entities valid, ${refused} error${refused === 1 ? '' : 's'}, ${errors.length - refused} warning${errors.length - refused === 1 ? '' : 's'}\n`,
        );
      }
      process.exitCode = refused > 0 ? 1 : 0;
    });
}

/** `portal get <ref>`: one entity, with who it calls and who calls it. */
function registerGetCommand(
  program: Command,
  openView: () => Promise<CatalogView>,
  openGraph: () => Promise<GraphIndex>,
): void {
  program
    .command('get')
    .description('show one entity: a short name (card-api) or a ref (component:default/card-api)')
    .argument('<ref>')
    .option('--json', 'machine-readable output')
    .action(async (input: string, opts: Json) => {
      const view = await openView();
      const ref = resolveOrExit(view, input, opts.json);
      if (!ref) return;
      const entity = view.byRef.get(ref) as ServedEntity;
      if (opts.json) printJson(entity);
      else process.stdout.write(describe(view, await openGraph(), entity));
    });
}

/** `portal list`: entities, filtered by kind, owner, system, tier, lifecycle or type. */
function registerListCommand(program: Command, openView: () => Promise<CatalogView>): void {
  program
    .command('list')
    .description('list entities, filtered')
    .option('--kind <kind>', 'Component, API, Resource, System, Domain, Group, User, Location')
    .option('--owner <group>', 'owning squad')
    .option('--system <system>')
    .option('--tier <tier>', '1 to 4')
    .option('--lifecycle <lifecycle>', 'production, experimental, deprecated')
    .option('--type <type>', 'spec.type, e.g. service')
    .option('--json', 'machine-readable output')
    .action(async (opts: Json & ListFilter) => {
      const view = await openView();
      const rows = listEntities(view, opts);
      if (opts.json) {
        printJson(rows);
        return;
      }
      process.stdout.write(
        `${formatTable(
          ['REF', 'OWNER', 'TIER', 'LIFECYCLE', 'DESCRIPTION'],
          rows.map((e) => [
            shortRef(entityRef(e)),
            shortRef(e.relations.find((r) => r.type === 'ownedBy')?.targetRef),
            e.metadata.annotations?.[ANNOTATION.tier],
            (e.spec as { lifecycle?: string } | undefined)?.lifecycle,
            e.metadata.description,
          ]),
        )}\n${rows.length} entities\n`,
      );
    });
}

/** `portal owners`: teams with the number of services they own. */
function registerOwnersCommand(program: Command, openView: () => Promise<CatalogView>): void {
  program
    .command('owners')
    .description('teams with the number of services they own')
    .option('--json', 'machine-readable output')
    .action(async (opts: Json) => {
      const rows = owners(await openView());
      if (opts.json) printJson(rows);
      else
        process.stdout.write(
          `${formatTable(
            ['TEAM', 'COLLECTIVE', 'SERVICES', 'ENTITIES'],
            rows.map((r) => [shortRef(r.group), shortRef(r.collective), r.services, r.entities]),
          )}\n`,
        );
    });
}

/** `portal errors`: the problems the last ingest found. */
function registerErrorsCommand(program: Command, open: () => Promise<CatalogService>): void {
  program
    .command('errors')
    .description('problems found by the last ingest, with file, line and column')
    .option('--json', 'machine-readable output')
    .action(async (opts: Json) => {
      const errors = await (await open()).store.errors();
      if (opts.json) printJson(errors);
      else {
        for (const e of errors)
          process.stdout.write(
            `${e.file}:${e.line}:${e.column}  ${e.entityRef ? `${e.entityRef}: ` : ''}${e.message}\n`,
          );
        const warnings = errors.filter(isWarningRow).length;
        const refused = errors.length - warnings;
        process.stdout.write(
          `${refused} error${refused === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`,
        );
      }
      process.exitCode = errors.some((e) => !isWarningRow(e)) ? 1 : 0;
    });
}

export function defaultRoot(): string {
  return path.resolve(process.env.PORTAL_CATALOG_ROOT ?? 'services');
}

export async function ingestWithProgress(
  catalog: CatalogService,
  roots: string[],
  opts: { json?: boolean; force?: boolean } = {},
): Promise<IngestResult> {
  const show = !opts.json && process.stderr.isTTY;
  const bar = show
    ? new cliProgress.SingleBar(
        {
          format: 'ingesting {bar} {value}/{total} files',
          stream: process.stderr,
          clearOnComplete: true,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(1, 0);
  try {
    return await catalog.ingest(roots, {
      force: opts.force,
      onProgress: (done, total) => {
        bar?.setTotal(total);
        bar?.update(done);
      },
    });
  } finally {
    bar?.stop();
  }
}

function report(result: IngestResult, json: boolean | undefined): void {
  if (json) {
    // The lists of written refs can be tens of thousands long: counts are enough here.
    const { upserted, relationsChanged, ...rest } = result;
    printJson({ ...rest, written: upserted.length, relationsChanged: relationsChanged.length });
    return;
  }
  for (const e of result.errors) {
    process.stdout.write(
      `${e.file}:${e.line}:${e.column}  ${e.entityRef ? `${e.entityRef}: ` : ''}${e.message}\n`,
    );
  }
  const counts = Object.entries(result.counts)
    .sort()
    .map(([k, n]) => `${n} ${k}${n === 1 ? '' : 's'}`)
    .join(', ');
  const f = result.files;
  const refused = errorsOnly(result.errors).length;
  const warnings = result.errors.length - refused;
  process.stdout.write(
    `${counts || 'no entities'}\n${f.total} files (${f.changed} read, ${f.skipped} unchanged, ${f.removed} removed); ${result.upserted.length} entities written, ${result.removed.length} removed${result.stale.length ? `, ${result.stale.length} stale` : ''}; ${refused} error${refused === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}; ${result.durationMs} ms\n`,
  );
}

function resolveOrExit(view: CatalogView, input: string, json?: boolean): string | undefined {
  try {
    return resolveRef(input, view.lookup);
  } catch (err) {
    const e = err as RefError;
    if (json)
      printJson({ error: { name: 'NotFoundError', message: e.message, suggestions: e.suggestions ?? [] } });
    else process.stderr.write(`${e.message}\n`);
    process.exitCode = 1;
    return undefined;
  }
}

/**
 * Call edges as people think of them, as the graph declares them: a consumed API is shown as the service
 * that provides it (`ledger (via ledger-rpc)`), and the callers of a service include the consumers of the
 * APIs it provides.
 */
function calls(index: GraphIndex, ref: string, direction: 'in' | 'out'): string[] {
  return declaredCalls(index, ref, direction)
    .map((c) =>
      direction === 'out' && c.apis.length > 0
        ? `${shortRef(c.ref)} (via ${c.apis.map((a) => shortRef(a)).join(', ')})`
        : shortRef(c.ref),
    )
    .sort();
}

function describe(view: CatalogView, index: GraphIndex, e: ServedEntity): string {
  const ref = entityRef(e);
  const a = e.metadata.annotations ?? {};
  const spec = (e.spec ?? {}) as Record<string, unknown>;
  const rel = (type: string) => e.relations.filter((r) => r.type === type).map((r) => shortRef(r.targetRef));
  const { owner, collective } = view.ownerOf(ref);
  const lines: [string, string | undefined][] = [
    ['ref', ref],
    ['title', e.metadata.title],
    ['description', e.metadata.description],
    ['type', spec.type as string | undefined],
    ['lifecycle', spec.lifecycle as string | undefined],
    ['owner', owner ? `${shortRef(owner)}${collective ? ` (${shortRef(collective)})` : ''}` : undefined],
    ['system', rel('partOf').join(', ') || undefined],
    ['tier', a[ANNOTATION.tier]],
    ['on-call', a[ANNOTATION.oncall]],
    ['runbook', a[ANNOTATION.runbook]],
    ['slack', a[ANNOTATION.slack]],
    ['language', a[ANNOTATION.language]],
    ['depends on', calls(index, ref, 'out').join(', ') || undefined],
    ['dependents', calls(index, ref, 'in').join(', ') || undefined],
    ['provides', rel('providesApi').join(', ') || undefined],
    ['consumes', rel('consumesApi').join(', ') || undefined],
    ['members', rel('hasMember').join(', ') || undefined],
    ['member of', rel('memberOf').join(', ') || undefined],
    ['children', rel('parentOf').join(', ') || undefined],
    ['owns', rel('ownerOf').length ? `${rel('ownerOf').length} entities` : undefined],
    ['stale', view.stale.has(ref) ? 'yes: its file has an error; this is the last good version' : undefined],
    ['defined in', a['backstage.io/managed-by-location']?.replace(/^file:/, '')],
  ];
  return `${lines
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k.padEnd(12)} ${v}`)
    .join('\n')}\n`;
}
