/**
 * Errors the graph engine throws. The graph knows nothing of HTTP: plugins map these to statuses
 * (GraphQueryError → 400, UnknownRefError → 404, GraphBackendError → 503).
 */

/** The caller asked something the graph cannot answer as asked; the message names the function and the rule. */
export class GraphQueryError extends Error {
  /** Machine-readable facts about the problem, e.g. `{ field: 'k', min: 1, max: 50, got: 60 }`. */
  readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

/** A ref or short name that is well-formed but names nothing in the graph. `suggestions` are the closest refs. */
export class UnknownRefError extends GraphQueryError {
  readonly ref: string;
  readonly suggestions: string[];
  constructor(message: string, ref: string, suggestions: string[]) {
    super(message, { ref, suggestions });
    this.ref = ref;
    this.suggestions = suggestions;
  }
}

/** A ref that is not of the form `name`, `kind:name` or `kind:namespace/name`. */
export class MalformedRefError extends GraphQueryError {}

/** An external graph store (Neo4j) could not be reached or refused the work. */
export class GraphBackendError extends Error {
  readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }
}
