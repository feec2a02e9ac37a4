import { IncomingMessage } from 'node:http';
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
  // Under the Node server, read Node's own stream: no web-stream wrapper per chunk (under a flood of
  // oversized bodies that wrapper's garbage was most of the memory the attack cost).
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (incoming instanceof IncomingMessage && !incoming.readableDidRead)
    return readIncoming(incoming, limitBytes);
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

function tooLarge(limitBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`Request body is larger than the limit of ${limitBytes} bytes`, {
    limitBytes,
  });
}

/** Node's request stream, counted chunk by chunk; at the limit reading stops (the server then closes). */
function readIncoming(incoming: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: Error) => {
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
      // Past the limit the stream keeps flowing with no listener: what still arrives is dropped, and the
      // server's linger (portal/server) closes the connection.
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) done(tooLarge(limitBytes));
      else chunks.push(chunk);
    };
    const onEnd = () => done();
    const cut = () =>
      done(new InputError('The request body ended early (the connection was cut while sending it)'));
    const onError = cut;
    const onAborted = cut;
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  });
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
