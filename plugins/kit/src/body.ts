import type { Context } from 'hono';
import { InputError, PayloadTooLargeError } from './errors.ts';

/** The default cap on a request body: 1 MiB (the shared RPC library's default too). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * The one way a request body is read in the portal: from the stream, counting as it goes, and refused with
 * 413 as soon as it passes `limitBytes`, so a chunked body with no Content-Length (or a false one) never
 * sits in memory beyond the limit. The same approach as services/lib/rpc's server (it counts Node's
 * `data` events; here it is the web stream Hono hands us). Reading stops at the limit; the server then
 * drains a little and closes the connection (413 answers say `Connection: close`).
 */
export async function readBody(c: Context, limitBytes = DEFAULT_BODY_LIMIT): Promise<Buffer> {
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > limitBytes) {
    throw new PayloadTooLargeError(`Request body is ${declared} bytes; the limit is ${limitBytes}`, {
      limitBytes,
    });
  }
  const stream = c.req.raw.body;
  if (!stream) return Buffer.alloc(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let step: ReadableStreamReadResult<Uint8Array>;
    try {
      step = await reader.read();
    } catch {
      throw new InputError('The request body ended early (the connection was cut while sending it)');
    }
    if (step.done) break;
    size += step.value.byteLength;
    if (size > limitBytes) {
      reader.cancel().catch(() => {});
      throw new PayloadTooLargeError(`Request body is larger than the limit of ${limitBytes} bytes`, {
        limitBytes,
      });
    }
    chunks.push(step.value);
  }
  return Buffer.concat(chunks, size);
}

/** Read a JSON body through the streaming limit; errors say what was wrong with it. */
export async function readJson<T = unknown>(c: Context, limitBytes = DEFAULT_BODY_LIMIT): Promise<T> {
  const text = (await readBody(c, limitBytes)).toString('utf8');
  if (text.trim() === '') throw new InputError('Request body is empty; expected JSON');
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new InputError(`Request body is not valid JSON: ${(err as Error).message}`);
  }
}
