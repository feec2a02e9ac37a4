/**
 * Errors every plugin throws. One place (errorEnvelope / onError) turns them into HTTP statuses and the
 * Backstage error envelope, so `@backstage/catalog-client` and people both get a message they can act on.
 */
export class PortalError extends Error {
  readonly status: number = 500;
  readonly details?: Record<string, unknown>;
  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}
/** 400: the caller sent something we cannot use; the message names the field and the rule. */
export class InputError extends PortalError {
  override readonly status = 400;
}
/** 401: no or bad credentials on a write. */
export class AuthenticationError extends PortalError {
  override readonly status = 401;
}
/** 403: authenticated, but not allowed. */
export class NotAllowedError extends PortalError {
  override readonly status = 403;
}
/** 404: with `details.suggestions` holding the closest known names when there are any. */
export class NotFoundError extends PortalError {
  override readonly status = 404;
}
/** 409: the thing already exists. */
export class ConflictError extends PortalError {
  override readonly status = 409;
}
/** 413: the payload is too large. */
export class PayloadTooLargeError extends PortalError {
  override readonly status = 413;
}

export interface ErrorEnvelope {
  error: { name: string; message: string } & Record<string, unknown>;
  request: { method: string; url: string };
  response: { statusCode: number };
}

export function errorEnvelope(err: unknown, method: string, url: string): ErrorEnvelope {
  if (err instanceof PortalError) {
    return {
      error: { name: err.name, message: err.message, ...(err.details ?? {}) },
      request: { method, url },
      response: { statusCode: err.status },
    };
  }
  // The store's DatabaseUnavailableError (catalog/src/store/unavailable.ts): known by name, because the
  // catalogue package knows nothing of HTTP. Its message names the database and never its credentials.
  if (err instanceof Error && err.name === 'DatabaseUnavailableError') {
    return {
      error: { name: err.name, message: err.message },
      request: { method, url },
      response: { statusCode: 503 },
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    error: { name: 'InternalServerError', message },
    request: { method, url },
    response: { statusCode: 500 },
  };
}
