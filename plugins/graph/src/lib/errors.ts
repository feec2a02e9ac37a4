import { GraphBackendError, GraphQueryError, UnknownRefError } from '@bank/graph';
import { InputError, NotFoundError, PortalError } from '@bank/plugin-kit';

/** 503: the graph store behind the portal (Neo4j) cannot be reached. */
export class GraphStoreUnavailableError extends PortalError {
  override readonly status = 503;
}

/**
 * The one place graph errors become portal errors (and so HTTP statuses): an unknown ref is a 404 with the
 * closest names, any other refused query a 400 with its limits, an unreachable Neo4j a 503.
 */
export function toPortalError(err: unknown): unknown {
  if (err instanceof UnknownRefError)
    return new NotFoundError(err.message, { ref: err.ref, suggestions: err.suggestions });
  if (err instanceof GraphQueryError) return new InputError(err.message, err.details);
  if (err instanceof GraphBackendError) return new GraphStoreUnavailableError(err.message, err.details);
  return err;
}
