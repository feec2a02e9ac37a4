/** A Service is a function from Request to Response: the server handler and the client transport alike. */
import type { Context } from './context.ts';
import type { RpcError } from './errors.ts';
import type { Filter } from './filter.ts';

export type HeaderMap = Record<string, string | string[] | undefined>;

export interface Request {
  method: string;
  /** The path without the query string. */
  path: string;
  /** The raw query string without `?` ('' for none). */
  query: string;
  /** Lower-case header names. */
  headers: HeaderMap;
  /** The parsed JSON body (undefined when there is none). */
  body: unknown;
  /** Route parameters, filled by the router. */
  params: Record<string, string>;
  /** The route pattern that matched, filled by the router (used as the metrics label). */
  route: string | undefined;
  context: Context;
}

export interface Response {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless it is a Buffer/Uint8Array or a string. */
  body?: unknown;
  /** Set on failure; the error filter turns it into a `Terror: 1` response. */
  error?: RpcError;
}

export type ServiceFn = (req: Request) => Promise<Response>;

export interface Service extends ServiceFn {
  /** Wraps this service in `f`; the last filter applied is the outermost. */
  filter(f: Filter): Service;
}

/** Makes a Service (a function with `.filter`) from a plain async function. */
export function service(fn: ServiceFn): Service {
  const svc = ((req: Request) => fn(req)) as Service;
  svc.filter = (f: Filter) => service((req) => f(req, svc));
  return svc;
}

const RESPONSE = Symbol.for('bank.rpc.response');

/**
 * Builds a Response. Handlers may return a bare body (sent with 200) or `reply(body, status, headers)`;
 * the brand tells the two apart.
 */
export function reply(body: unknown, status = 200, headers?: Record<string, string>): Response {
  const r: Response = headers ? { status, body, headers } : { status, body };
  Object.defineProperty(r, RESPONSE, { value: true });
  return r;
}

/** True for objects made by `reply`. */
export function isResponse(v: unknown): v is Response {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[RESPONSE] === true;
}
