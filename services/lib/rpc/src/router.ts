/**
 * The router, after typhon: patterns with `:name` (one segment), `*name` (named residual) and `*`
 * (unnamed residual); routes are tried in reverse registration order, so the last registered wins.
 * `serve()` returns a plain Service. Request bodies can be validated against a JSON Schema.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { ErrorCode, RpcError } from './errors.ts';
import { isResponse, type Request, type Response, type Service, service } from './service.ts';

/** A handler returns a Response (see `reply`) or a body to send with 200. Throw an RpcError to fail. */
export type Handler<T = unknown> = (req: Request) => T | Response | Promise<T | Response>;

export interface RouteOptions {
  /** JSON Schema the request body must satisfy; failures are `bad_request.invalid_body` (400). */
  schema?: object;
}

interface Route {
  method: string;
  pattern: string;
  /** Segments; a leading ':' is a parameter, '*' a residual. */
  parts: string[];
  svc: Service;
}

function splitPath(path: string): string[] {
  const parts = path.split('/');
  // Drop the empty part before the leading slash and after a trailing one.
  let start = 0;
  let end = parts.length;
  if (parts[0] === '') start = 1;
  if (end > start && parts[end - 1] === '') end--;
  return start === 0 && end === parts.length ? parts : parts.slice(start, end);
}

function match(route: Route, segs: string[], params: Record<string, string>): boolean {
  const parts = route.parts;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.charCodeAt(0) === 42 /* '*' */) {
      if (p.length > 1) params[p.slice(1)] = segs.slice(i).join('/');
      return true;
    }
    if (i >= segs.length) return false;
    if (p.charCodeAt(0) === 58 /* ':' */) params[p.slice(1)] = decodeURIComponent(segs[i]);
    else if (p !== segs[i]) return false;
  }
  return parts.length === segs.length;
}

export class Router {
  private readonly routes: Route[] = [];
  private readonly ajv = new Ajv({ allErrors: true });

  /** Registers `svc` for `method` ('*' for any) and `pattern`. */
  register(method: string, pattern: string, svc: Service): this {
    this.routes.push({ method: method.toUpperCase(), pattern, parts: splitPath(pattern), svc });
    return this;
  }

  /** Registers a handler, with optional body validation. */
  handle(method: string, pattern: string, handler: Handler, opts: RouteOptions = {}): this {
    const validate = opts.schema ? this.ajv.compile(opts.schema) : undefined;
    return this.register(method, pattern, service(toService(handler, validate)));
  }

  get(pattern: string, handler: Handler, opts?: RouteOptions): this {
    return this.handle('GET', pattern, handler, opts);
  }
  post(pattern: string, handler: Handler, opts?: RouteOptions): this {
    return this.handle('POST', pattern, handler, opts);
  }
  put(pattern: string, handler: Handler, opts?: RouteOptions): this {
    return this.handle('PUT', pattern, handler, opts);
  }
  patch(pattern: string, handler: Handler, opts?: RouteOptions): this {
    return this.handle('PATCH', pattern, handler, opts);
  }
  delete(pattern: string, handler: Handler, opts?: RouteOptions): this {
    return this.handle('DELETE', pattern, handler, opts);
  }

  /** Finds the route for a request: the last registered match wins. */
  lookup(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    const segs = splitPath(path);
    for (let i = this.routes.length - 1; i >= 0; i--) {
      const route = this.routes[i];
      if (route.method !== '*' && route.method !== method) continue;
      const params: Record<string, string> = {};
      if (match(route, segs, params)) return { route, params };
    }
    return undefined;
  }

  /** The router as a Service; no match is 404 `not_found.no_handler`. */
  serve(): Service {
    return service((req) => {
      const found = this.lookup(req.method, req.path);
      if (!found) {
        return Promise.reject(
          new RpcError('not_found.no_handler', `No handler for ${req.method} ${req.path}`, {
            params: { method: req.method, path: req.path },
          }),
        );
      }
      req.params = found.params;
      req.route = found.route.pattern;
      return found.route.svc(req);
    });
  }
}

function toResponse(out: unknown): Response {
  return isResponse(out) ? out : { status: 200, body: out };
}

/** A handler as a Service. Not an async function: a sync handler costs one promise, not three. */
function toService(handler: Handler, validate: ValidateFunction | undefined) {
  return (req: Request): Promise<Response> => {
    if (validate && !validate(req.body)) {
      const errors = validate.errors ?? [];
      const first = errors[0];
      return Promise.reject(
        new RpcError(
          `${ErrorCode.BadRequest}.invalid_body`,
          `Invalid request body: ${errors.map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ')}`,
          { params: first ? { field: first.instancePath || '/', rule: first.keyword } : {} },
        ),
      );
    }
    let out: unknown;
    try {
      out = handler(req);
    } catch (err) {
      return Promise.reject(err);
    }
    if (out instanceof Promise) return out.then(toResponse);
    return Promise.resolve(toResponse(out));
  };
}
