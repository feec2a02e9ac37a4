import path from 'node:path';
import chokidar from 'chokidar';
import type { ScorecardService } from './service.ts';

/**
 * Re-score when a scorecard file, a template's template.yaml or a k8s/ manifest changes (descriptors come through the catalogue's own
 * change event). Batched for 150 ms like the catalogue's watcher; each batch re-scores only what its files
 * touch.
 */
export function watchScorecardInputs(service: ScorecardService, roots: string[]): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const changed = new Set<string>();
  const templates = service.opts.templatesDir ? [service.opts.templatesDir] : [];
  const watcher = chokidar.watch([service.opts.dir, ...templates, ...roots], {
    ignoreInitial: true,
    ignored: (p: string) => /(^|[/\\])(node_modules|\.git|\.next|data)([/\\]|$)/.test(p),
  });
  const schedule = (file: string | Error) => {
    if (typeof file !== 'string' || !/\.ya?ml$/.test(file) || path.basename(file) === 'catalog-info.yaml')
      return;
    changed.add(path.resolve(file));
    clearTimeout(timer);
    timer = setTimeout(() => {
      const batch = [...changed];
      changed.clear();
      try {
        service.filesChanged(batch);
      } catch (err) {
        process.stderr.write(
          `scorecards: re-scoring ${batch.length} changed file(s) failed: ${(err as Error).message}\n`,
        );
      }
    }, 150);
  };
  watcher.on('add', schedule).on('change', schedule).on('unlink', schedule);
  return async () => {
    clearTimeout(timer);
    await watcher.close();
  };
}
