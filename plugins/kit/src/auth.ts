import type { Context } from 'hono';

/** Who made a write: a person (signed in) or a machine (bearer token). Recorded in the audit log. */
export interface Actor {
  kind: 'user' | 'token';
  /** `user:default/jane.doe` or `token:<name>`. */
  id: string;
}

/** What plugins need of the portal's authentication: reads are open on loopback, writes need an actor. */
export interface Auth {
  /** The caller, or an AuthenticationError (401) saying how to authenticate. */
  requireWriter(c: Context): Promise<Actor>;
  /** The caller if authenticated, else undefined. */
  actor(c: Context): Promise<Actor | undefined>;
}

/** Read a JSON body with a size limit; errors say what was wrong with it. */
export async function readJson<T = unknown>(c: Context, limitBytes = 1024 * 1024): Promise<T> {
  const { InputError, PayloadTooLargeError } = await import('./errors.ts');
  const length = Number(c.req.header('content-length') ?? '0');
  if (length > limitBytes)
    throw new PayloadTooLargeError(`Request body is ${length} bytes; the limit is ${limitBytes}`);
  const text = await c.req.text();
  if (Buffer.byteLength(text) > limitBytes) {
    throw new PayloadTooLargeError(`Request body is larger than the limit of ${limitBytes} bytes`);
  }
  if (text.trim() === '') throw new InputError('Request body is empty; expected JSON');
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new InputError(`Request body is not valid JSON: ${(err as Error).message}`);
  }
}
