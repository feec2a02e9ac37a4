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
  // Under the Node server, read Node's own stream: no web-stream wrapper per chunk (under a flood of
  // oversized bodies that wrapper's garbage was most of the memory the attack cost).
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > limitBytes) {
    const err = new PayloadTooLargeError(`Request body is ${declared} bytes; the limit is ${limitBytes}`, {
      limitBytes,
    });
    if (incoming instanceof IncomingMessage)
      await new Promise<void>((resolve) => {
        refuseAfterPause(incoming, resolve);
        incoming.once('close', resolve); // the client hung up: nothing to answer
      });
    throw err;
  }
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

/**
 * How long a refused request whose body is still arriving waits, unread, for its answer (a 413 here, a 429
 * or another refusal from the portal's request guard). A client streaming oversized bodies as fast as it
 * can then gets one refusal per connection per this long instead of as many as it can push, and each one
 * costs the server at most the limit it read: under bench/hardening/load.ts's flood the attackers went from
 * ~1,250 refused bodies a second to 10, and the server's RSS from 1.5-1.9x its quiet peak to 1.14x (at 250 ms:
 * 40 a second, 1.15-1.20x). The answer still arrives whole (no reset), so a client that sent too much by
 * mistake reads why, a second later; a body that has all arrived is answered at once.
 */
export const REFUSAL_PAUSE_MS = 1000;

/**
 * Call `answer` once `req`'s refusal may be sent: at once when its body has all arrived (or it has none),
 * else after REFUSAL_PAUSE_MS with the request paused, so nothing more of the body is read meanwhile. Not at
 * all when the client hangs up first (nothing is kept for it).
 */
export function refuseAfterPause(req: IncomingMessage, answer: () => void): void {
  // The parser marks a body complete after the request handler runs: ask once the bytes at hand are parsed.
  setImmediate(() => {
    if (req.socket.destroyed) return;
    if (req.complete) return answer();
    req.pause();
    const timer = setTimeout(() => {
      req.socket.off('close', forget);
      if (!req.socket.destroyed) answer();
    }, REFUSAL_PAUSE_MS);
    const forget = () => clearTimeout(timer);
    req.socket.once('close', forget);
  });
}

/** Node's request stream, counted chunk by chunk; at the limit reading stops (the server then closes). */
function readIncoming(incoming: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () =>
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) return chunks.push(chunk);
      // Refused: nothing more is read or kept (the rest of the body, its end included, is not ours to
      // read), and the 413 goes out after the pause, with `Connection: close`; the server's linger
      // (portal/server) then closes the connection. A client hanging up meanwhile ends it as cut.
      incoming.off('data', onData).off('end', onEnd);
      chunks.length = 0;
      refuseAfterPause(incoming, () => {
        stop();
        reject(tooLarge(limitBytes));
      });
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks, size));
    };
    const cut = () => {
      stop();
      reject(new InputError('The request body ended early (the connection was cut while sending it)'));
    };
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
