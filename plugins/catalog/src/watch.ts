import path from 'node:path';
import type { IngestResult } from '@bank/catalog';
import chokidar from 'chokidar';
import type { CatalogService } from './service.ts';

/**
 * Re-ingest when a descriptor under the roots changes. Changes are batched for 150 ms, so saving several
 * files at once is one ingest, and the ingest is told which files changed: it reads only those (no walk of
 * the tree, no hashing of the others), which keeps an edit quick at tens of thousands of services.
 */
export function watchRoots(
  catalog: CatalogService,
  roots: string[],
  onResult: (r: IngestResult) => void,
): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const changed = new Set<string>();
  const watcher = chokidar.watch(roots, {
    ignoreInitial: true,
    ignored: (p: string) => /(^|[/\\])(node_modules|\.git|\.next|data)([/\\]|$)/.test(p),
  });
  const schedule = (file: string | Error) => {
    if (typeof file !== 'string' || !/\.ya?ml$/.test(file)) return;
    changed.add(path.resolve(file));
    clearTimeout(timer);
    timer = setTimeout(() => {
      const batch = [...changed];
      changed.clear();
      catalog
        .ingest(roots, { changed: batch })
        .then(onResult, (err) => process.stderr.write(`ingest failed: ${(err as Error).message}\n`));
    }, 150);
  };
  watcher.on('add', schedule).on('change', schedule).on('unlink', schedule);
  return async () => {
    clearTimeout(timer);
    await watcher.close();
  };
}
