import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { InputError, PayloadTooLargeError, readBody } from '@bank/plugin-kit';
import type { Context } from 'hono';

const gunzipAsync = promisify(gunzip);

/**
 * An OTLP request body: read through the portal's one streaming size limit (plugins/kit `readBody`: 413 as
 * soon as it passes `limitBytes`, never read whole first), then, when it is gzip, inflated with the same bound
 * on what it inflates to, so a gzip bomb stops at the limit.
 */
export async function readOtlpBody(c: Context, limitBytes: number): Promise<Buffer> {
  const body = await readBody(c, limitBytes);
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
