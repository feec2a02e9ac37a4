import type { CatalogService } from '@bank/plugin-catalog';
import { ingestWithProgress, watchRoots } from '@bank/plugin-catalog';
import { UsageError } from '@bank/plugin-kit';
import type { Command } from 'commander';

/** serve and start: the web server (API + UI), with the file watcher keeping the catalogue current. */
export async function registerPortalCommands(program: Command, open: () => Promise<CatalogService>): Promise<void> {
  const serve = async (opts: { port?: string; host?: string; watch?: boolean; ingest?: boolean }) => {
    const port = opts.port === undefined ? Number(process.env.PORT ?? 7007) : Number(opts.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0–65535, got "${opts.port}"`);
    const catalog = await open();
    if (opts.ingest) {
      const result = await ingestWithProgress(catalog, catalog.roots);
      process.stdout.write(
        `indexed ${Object.entries(result.counts)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ')} in ${result.durationMs} ms; ${result.errors.length} errors (portal errors)\n`,
      );
    }
    const { startServer } = await import('../server/server.ts');
    const server = await startServer({ catalog, host: opts.host ?? process.env.HOST, port });
    if (opts.watch !== false) watchRoots(catalog, catalog.roots, () => {});
    process.stdout.write(`portal listening on ${server.url}\n`);
    const stop = async () => {
      await server.close();
      await catalog.store.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  };
  program
    .command('serve')
    .description('run the portal web server (API and UI) on 127.0.0.1, watching the catalogue files')
    .option('--port <port>', 'port (default 7007, or PORT)')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--no-watch', 'do not re-ingest on file changes')
    .action((opts) => serve(opts));
  program
    .command('start')
    .description('index the bank estate (services/) and run the portal: the quick start')
    .option('--port <port>', 'port (default 7007, or PORT)')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .action((opts) => serve({ ...opts, ingest: true }));
}
