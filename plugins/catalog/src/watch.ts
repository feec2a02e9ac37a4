import type { IngestResult } from '@bank/catalog';
import chokidar from 'chokidar';
import type { CatalogService } from './service.ts';

/**
 * Re-ingest when a descriptor under the roots changes. Changes are batched for 150 ms, so saving several
 * files at once is one ingest; incremental ingest then reads only the changed files.
 */
export function watchRoots(
  catalog: CatalogService,
  roots: string[],
  onResult: (r: IngestResult) => void,
): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const watcher = chokidar.watch(roots, {
    ignoreInitial: true,
    ignored: (p: string) => /(^|[/\\])(node_modules|\.git|\.next|data)([/\\]|$)/.test(p),
  });
  const schedule = (file: string | Error) => {
    if (typeof file !== 'string' || !/\.ya?ml$/.test(file)) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      catalog
        .ingest(roots)
        .then(onResult, (err) => process.stderr.write(`ingest failed: ${(err as Error).message}\n`));
    }, 150);
  };
  watcher.on('add', schedule).on('change', schedule).on('unlink', schedule);
  return async () => {
    clearTimeout(timer);
    await watcher.close();
  };
}
