import { statSync } from 'node:fs';
import path from 'node:path';
import type { IngestResult } from '@bank/catalog';
import chokidar from 'chokidar';
import type { CatalogService } from './service.ts';

/**
 * Re-ingest when a descriptor under the roots changes. Changes are batched for 150 ms, so saving several
 * files at once is one ingest, and the ingest is told which files changed: it reads only those (no walk of
 * the tree, no hashing of the others), which keeps an edit quick at tens of thousands of services.
 * A failed ingest (the database locked by another writer, or unreachable) keeps its files and is retried
 * after 1, 2, 4 … 30 s: an edit is never dropped because the store was busy when it was saved.
 */
export function watchRoots(
  catalog: Pick<CatalogService, 'ingest'>,
  roots: string[],
  onResult: (r: IngestResult) => void,
  onError: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let closed = false;
  const changed = new Set<string>();
  // A root that is a file (a locations.yaml) is watched through its folder: the files its Location lists are
  // there (its targets stay inside it), and an editor's save replaces the file, which a watch on the file
  // itself stops following after the first time.
  const watched = [...new Set(roots.map((r) => (isFile(r) ? path.dirname(path.resolve(r)) : r)))];
  const watcher = chokidar.watch(watched, {
    ignoreInitial: true,
    ignored: (p: string) => /(^|[/\\])(node_modules|\.git|\.next|data)([/\\]|$)/.test(p),
  });
  const flush = () => {
    const batch = [...changed];
    changed.clear();
    catalog.ingest(roots, { changed: batch }).then(
      (r) => {
        failures = 0;
        onResult(r);
      },
      (err: Error) => {
        if (closed) return;
        for (const f of batch) changed.add(f);
        const delay = Math.min(30_000, 1000 * 2 ** failures++);
        onError(
          `ingest failed, ${changed.size} changed file(s) kept, retrying in ${delay / 1000} s: ${err.message}`,
        );
        clearTimeout(timer);
        timer = setTimeout(flush, delay);
      },
    );
  };
  const schedule = (file: string | Error) => {
    if (typeof file !== 'string' || !/\.ya?ml$/.test(file)) return;
    changed.add(path.resolve(file));
    clearTimeout(timer);
    timer = setTimeout(flush, 150);
  };
  watcher.on('add', schedule).on('change', schedule).on('unlink', schedule);
  return async () => {
    closed = true;
    clearTimeout(timer);
    await watcher.close();
  };
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
