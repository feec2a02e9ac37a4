/**
 * The watcher side of bench/deploys/watch.ts, in its own process (`--expose-gc --import tsx`, with an IPC
 * channel): the real portal server (catalogue ingested into a fresh SQLite file, real plugins, live state
 * from the clusters of PORTAL_K8S_CONTEXTS / KUBECONFIG, which the parent points at the Kubernetes API test
 * double). It answers `{ id, op: 'memory', gc }` with its memory and CPU: with `gc`, after a full collection it
 * forces; without, the smallest heap seen right after one of V8's own full (mark-compact) collections since
 * the last answer, so that sampling does not stop the watcher.
 *
 *   node --expose-gc --import tsx bench/deploys/watch-portal.ts --estate <dir> --db <file>
 */
import path from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';
import { startServer } from '../../portal/server/server.ts';

async function main() {
  const { values } = parseArgs({ options: { estate: { type: 'string' }, db: { type: 'string' } } });
  if (!values.estate || !values.db) throw new Error('--estate <dir> and --db <file> are required');
  const store = await CatalogStore.open(`file:${path.resolve(values.db)}`);
  const catalog = new CatalogService(store, [path.resolve(values.estate)]);
  const t0 = performance.now();
  await catalog.ingest();
  const ingestMs = performance.now() - t0;
  const server = await startServer({ catalog, port: 0, ui: false });
  const gc = (globalThis as { gc?: () => void }).gc;
  let major = { count: 0, minHeap: Number.POSITIVE_INFINITY };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        major.count++;
        major.minHeap = Math.min(major.minHeap, process.memoryUsage().heapUsed);
      }
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (m: { id: number; op: string; gc?: boolean }) => {
    if (m.op === 'memory') {
      const before = process.memoryUsage();
      const t = performance.now();
      if (m.gc && gc) gc();
      const gcMs = performance.now() - t;
      const after = process.memoryUsage();
      const cpu = process.cpuUsage();
      const seen = major;
      major = { count: 0, minHeap: Number.POSITIVE_INFINITY };
      process.send?.({
        id: m.id,
        at: performance.timeOrigin + performance.now(),
        heapUsedBeforeGc: before.heapUsed,
        rss: after.rss,
        heapUsed: after.heapUsed,
        heapTotal: after.heapTotal,
        external: after.external,
        arrayBuffers: after.arrayBuffers,
        gcMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        majorGcs: seen.count,
        heapAfterMajorGc: Number.isFinite(seen.minHeap) ? seen.minHeap : null,
      });
    } else if (m.op === 'exit') {
      void server.close().finally(() => process.exit(0));
    }
  });
  process.send?.({ ready: true, url: server.url, entities: catalog.loaded.size, ingestMs, gc: !!gc });
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
