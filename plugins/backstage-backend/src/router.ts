import type { HttpAuthService, LoggerService } from '@backstage/backend-plugin-api';
import { InputError, NotFoundError, NotImplementedError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { type GraphIndex, GraphQueryError, UnknownRefError } from '@bank/graph';
import {
  type RawParams,
  runCycles,
  runImpact,
  runNeighbourhood,
  runOwnership,
  runPaths,
} from '@bank/plugin-graph/queries';
import type express from 'express';
import Router from 'express-promise-router';
import { readCatalogueIndex } from './catalogue.ts';

export interface RouterOptions {
  logger: LoggerService;
  httpAuth: HttpAuthService;
  catalog: CatalogService;
}

/** Query strings as the portal's query functions take them: one string per name (a repeated name is refused). */
function rawParams(query: express.Request['query']): RawParams {
  const out: RawParams = {};
  for (const [name, value] of Object.entries(query)) {
    if (typeof value !== 'string') throw new InputError(`${name} must be given once, as a plain value`);
    out[name] = value;
  }
  return out;
}

/**
 * The graph errors become Backstage's own errors, which Backstage's error middleware turns into its JSON
 * envelope and status: an unknown ref a 404 (its message names the closest refs), any other refused query
 * a 400 with the limits in its message.
 */
function toBackstageError(err: unknown): unknown {
  if (err instanceof UnknownRefError) return new NotFoundError(err.message);
  if (err instanceof GraphQueryError) return new InputError(err.message);
  return err;
}

const QUERIES: Record<string, (index: GraphIndex, p: RawParams) => unknown> = {
  paths: runPaths,
  impact: runImpact,
  neighbourhood: runNeighbourhood,
  cycles: runCycles,
  ownership: runOwnership,
};

/**
 * The portal's graph answers (the same parameters and JSON as the portal's /api/graph) over Backstage's
 * catalogue. Every request reads the catalogue on behalf of its caller and answers from that one snapshot.
 */
export async function createRouter(options: RouterOptions): Promise<express.Router> {
  const { logger, httpAuth, catalog } = options;
  const router = Router();

  for (const [name, run] of Object.entries(QUERIES)) {
    router.get(`/${name}`, async (req, res) => {
      const params = rawParams(req.query);
      const credentials = await httpAuth.credentials(req, { allow: ['user', 'service'] });
      const started = performance.now();
      const { index, entities } = await readCatalogueIndex(catalog, credentials);
      let answer: unknown;
      try {
        answer = run(index, params);
      } catch (err) {
        throw toBackstageError(err);
      }
      logger.debug(
        `${name}: ${entities} entities read and answered in ${Math.round(performance.now() - started)} ms`,
      );
      res.json(answer);
    });
  }

  router.get('/drift', async () => {
    throw new NotImplementedError(
      "drift compares declared call edges with calls observed in traces; Backstage's catalogue holds only " +
        "declared relations, so drift needs the portal's traffic store (the portal serves it at /api/graph/drift)",
    );
  });

  return router;
}
