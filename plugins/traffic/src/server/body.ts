import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { InputError, PayloadTooLargeError } from '@bank/plugin-kit';
import type { Context } from 'hono';

const gunzipAsync = promisify(gunzip);

/**
 * The request body, read as it streams and refused with 413 the moment it passes `limitBytes` (a sender's
 * Content-Length is checked first, but a chunked body is counted as it comes, never read whole first).
 * A gzip body is inflated with the same bound on what it inflates to, so a gzip bomb stops at the limit.
 */
export async function readBody(c: Context, limitBytes: number): Promise<Buffer> {
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > limitBytes)
    throw new PayloadTooLargeError(`The request body is ${declared} bytes; the limit is ${limitBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = c.req.raw.body;
  if (stream) {
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limitBytes) {
        await reader.cancel().catch(() => undefined);
        throw new PayloadTooLargeError(`The request body is larger than the limit of ${limitBytes} bytes`);
      }
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
  }
  const body = Buffer.concat(chunks, size);
  const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  if (encoding !== 'gzip')
    throw new InputError(`Content-Encoding "${encoding}" is not supported; send gzip or no encoding`);
  try {
    return await gunzipAsync(body, { maxOutputLength: limitBytes });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError)
      throw new PayloadTooLargeError(
        `The gzip body inflates to more than the limit of ${limitBytes} bytes; send smaller batches`,
      );
    throw new InputError(`The body is not valid gzip: ${e.message}`);
  }
}
