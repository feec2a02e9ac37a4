/**
 * The typed error model, after monzo/terrors: dotted codes matched by prefix, mapped to HTTP statuses,
 * retryable or not, carried across hops with a `Terror: 1` header and a JSON body.
 */

/** Top-level error codes; sub-codes are dotted (`bad_request.missing_param`). */
export const ErrorCode = {
  BadRequest: 'bad_request',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  BadResponse: 'bad_response',
  PreconditionFailed: 'precondition_failed',
  RateLimited: 'rate_limited',
  InternalService: 'internal_service',
  Timeout: 'timeout',
  Unknown: 'unknown',
} as const;

const STATUS: ReadonlyArray<readonly [string, number]> = [
  ['bad_request', 400],
  ['unauthorized', 401],
  ['forbidden', 403],
  ['not_found', 404],
  ['bad_response', 406],
  ['precondition_failed', 412],
  ['rate_limited', 429],
  ['internal_service', 500],
  ['timeout', 504],
];

const RETRYABLE_BY_DEFAULT = ['internal_service', 'timeout', 'unknown', 'rate_limited'];

/** True when `code` equals `prefix` or is a dotted sub-code of it. */
export function codeMatches(code: string, prefix: string): boolean {
  return code === prefix || (code.startsWith(prefix) && code.charCodeAt(prefix.length) === 46);
}

/** The HTTP status for an error code (prefix-matched; anything unknown is 500). */
export function statusForCode(code: string): number {
  for (const [prefix, status] of STATUS) if (codeMatches(code, prefix)) return status;
  return 500;
}

/** The wire form of an error (the JSON body of a response carrying `Terror: 1`). */
export interface WireError {
  code: string;
  message: string;
  params: Record<string, string>;
  stack: string[];
  retryable?: boolean;
  marshal_count: number;
  message_chain: string[];
}

export interface RpcErrorOptions {
  params?: Record<string, string>;
  /** Overrides the default retryability of the code. */
  retryable?: boolean;
  cause?: unknown;
  marshalCount?: number;
  messageChain?: string[];
}

/** An error with a code, HTTP status and retryability, which survives crossing service boundaries. */
export class RpcError extends Error {
  readonly code: string;
  readonly params: Record<string, string>;
  readonly explicitRetryable: boolean | undefined;
  /** How many times this error crossed a service boundary (decoded from a response). */
  marshalCount: number;
  readonly messageChain: string[];

  constructor(code: string, message: string, opts: RpcErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RpcError';
    this.code = code;
    this.params = opts.params ?? {};
    this.explicitRetryable = opts.retryable;
    this.marshalCount = opts.marshalCount ?? 0;
    this.messageChain = opts.messageChain ?? [];
  }

  get status(): number {
    return statusForCode(this.code);
  }

  /** The explicit flag if set, else the default for the code. */
  get retryable(): boolean {
    if (this.explicitRetryable !== undefined) return this.explicitRetryable;
    return RETRYABLE_BY_DEFAULT.some((p) => codeMatches(this.code, p));
  }

  /** True if this error's code is `prefix` or a sub-code of it. */
  is(prefix: string): boolean {
    return codeMatches(this.code, prefix);
  }

  toWire(): WireError {
    const wire: WireError = {
      code: this.code,
      message: this.message,
      params: this.params,
      stack: [],
      marshal_count: this.marshalCount,
      message_chain: this.messageChain,
    };
    if (this.explicitRetryable !== undefined) wire.retryable = this.explicitRetryable;
    return wire;
  }

  /** Decodes an error received from another service: its marshal count goes up by one. */
  static fromWire(wire: Partial<WireError>, from?: string): RpcError {
    const chain = Array.isArray(wire.message_chain) ? [...wire.message_chain] : [];
    if (from) chain.push(`${from}: ${wire.message ?? ''}`);
    return new RpcError(typeof wire.code === 'string' ? wire.code : 'unknown', wire.message ?? '', {
      params: wire.params ?? {},
      retryable: typeof wire.retryable === 'boolean' ? wire.retryable : undefined,
      marshalCount: (typeof wire.marshal_count === 'number' ? wire.marshal_count : 0) + 1,
      messageChain: chain,
    });
  }

  /** An error for a response without `Terror: 1` (a proxy, a bare server): the code follows the status. */
  static fromStatus(status: number, body: string, from?: string): RpcError {
    let code: string = ErrorCode.Unknown;
    if (status === 429) code = ErrorCode.RateLimited;
    else if (status === 504) code = ErrorCode.Timeout;
    else if (status === 502 || status === 503) code = 'internal_service.unavailable';
    else if (status >= 500) code = ErrorCode.InternalService;
    else if (status === 404) code = ErrorCode.NotFound;
    else if (status === 401) code = ErrorCode.Unauthorized;
    else if (status === 403) code = ErrorCode.Forbidden;
    else if (status === 412) code = ErrorCode.PreconditionFailed;
    else if (status >= 400) code = ErrorCode.BadRequest;
    return new RpcError(code, body.slice(0, 512) || `HTTP ${status}`, {
      params: { status: String(status), ...(from ? { service: from } : {}) },
      marshalCount: 1,
    });
  }
}

/** Wraps anything thrown into an RpcError (`internal_service` for plain errors). */
export function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  if (err instanceof Error) return new RpcError(ErrorCode.InternalService, err.message, { cause: err });
  return new RpcError(ErrorCode.Unknown, String(err));
}
