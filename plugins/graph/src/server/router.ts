import { EXPORT_FORMATS, type ExportFormat, exportGraph, type GraphIndex } from '@bank/graph';
import { errorEnvelope, InputError } from '@bank/plugin-kit';
import { Hono } from 'hono';
import { toPortalError } from '../lib/errors.ts';
import { runCycles, runImpact, runNeighbourhood, runOwnership, runPaths } from '../lib/queries.ts';

export interface GraphRouterDeps {
  /** The current index. Each request takes it once and queries it synchronously: a consistent snapshot. */
  getIndex: () => GraphIndex;
  /**
   * Keep JSON answers of /paths and /impact per index version (default true; false for benchmarks of the
   * query itself).
   */
  cacheAnswers?: boolean;
}

const CONTENT_TYPES: Record<ExportFormat, string> = {
  cypher: 'text/plain; charset=utf-8',
  graphml: 'application/graphml+xml; charset=utf-8',
  dot: 'text/vnd.graphviz; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

const JSON_TYPE = { 'content-type': 'application/json' };

/**
 * Answers (JSON text) of one index version, by query. A query is a pure function of the index, and any
 * change to the index bumps its version, so an answer stays right until the version moves; the cache then
 * starts afresh. Errors are never cached. Bounded: past `max` entries it starts afresh too.
 */
export class AnswerCache {
  private index: GraphIndex | null = null;
  private version = -1;
  private readonly answers = new Map<string, string>();

  constructor(private readonly max = 2_000) {}

  get(index: GraphIndex, key: string): string | undefined {
    if (index !== this.index || index.version !== this.version) return undefined;
    return this.answers.get(key);
  }

  set(index: GraphIndex, key: string, body: string): void {
    if (index !== this.index || index.version !== this.version || this.answers.size >= this.max) {
      this.answers.clear();
      this.index = index;
      this.version = index.version;
    }
    this.answers.set(key, body);
  }
}

/**
 * The graph's read API, mounted by the portal at /api/graph: paths, impact, neighbourhood, cycles,
 * ownership and export. Answers are the same JSON the CLI prints with --json.
 */
export function createGraphRouter(deps: GraphRouterDeps): Hono {
  const app = new Hono();
  app.onError((err, c) => {
    const env = errorEnvelope(toPortalError(err), c.req.method, new URL(c.req.url).pathname);
    if (env.response.statusCode >= 500 && env.response.statusCode !== 503) {
      process.stderr.write(`${c.req.method} ${c.req.url}: ${err.stack ?? err.message}\n`);
    }
    return c.json(env, env.response.statusCode as 400);
  });
  const pathsCache = new AnswerCache();
  app.get('/paths', (c) => {
    const index = deps.getIndex();
    const q = c.req.query();
    const key = `${q.from}\n${q.to}\n${q.k}\n${q.maxHops}\n${q.via}`;
    let body = deps.cacheAnswers === false ? undefined : pathsCache.get(index, key);
    if (body === undefined) {
      body = JSON.stringify(runPaths(index, q));
      pathsCache.set(index, key, body);
    }
    return c.body(body, 200, JSON_TYPE);
  });
  // A hub's blast radius is thousands of dependents (18,000 for ledger at 35,000 services, 8 MB of JSON):
  // asked again while the graph is unchanged (a responder reloading the page), it is sent as it was made.
  // Fewer kept than paths: each can be megabytes.
  const impactCache = new AnswerCache(64);
  app.get('/impact', (c) => {
    const index = deps.getIndex();
    const q = c.req.query();
    const key = `${q.ref}\n${q.depth}\n${q.via}`;
    let body = deps.cacheAnswers === false ? undefined : impactCache.get(index, key);
    if (body === undefined) {
      body = JSON.stringify(runImpact(index, q));
      impactCache.set(index, key, body);
    }
    return c.body(body, 200, JSON_TYPE);
  });
  app.get('/neighbourhood', (c) => c.json(runNeighbourhood(deps.getIndex(), c.req.query())));
  app.get('/cycles', (c) => c.json(runCycles(deps.getIndex(), c.req.query())));
  app.get('/ownership', (c) => c.json(runOwnership(deps.getIndex(), c.req.query())));
  app.get('/export', (c) => {
    const format = c.req.query('format') ?? 'json';
    if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
      throw new InputError(
        `export: format must be one of ${EXPORT_FORMATS.join(', ')} (got ${JSON.stringify(format)})`,
        {
          field: 'format',
          allowed: EXPORT_FORMATS,
        },
      );
    }
    const scope = c.req.query('scope');
    if (scope !== undefined && scope !== 'all' && scope !== 'calls') {
      throw new InputError(`export: scope must be one of all, calls (got ${JSON.stringify(scope)})`, {
        field: 'scope',
      });
    }
    const body = exportGraph(deps.getIndex(), { format: format as ExportFormat, scope });
    return c.body(body, 200, { 'content-type': CONTENT_TYPES[format as ExportFormat] });
  });
  return app;
}
