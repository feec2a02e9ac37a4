import { gzipSync } from 'node:zlib';

/** A JSON answer serialised once (and gzipped once) for as long as its source version holds. */
export interface CachedBody {
  version: number;
  json: string;
  gzip: Buffer;
  etag: string;
}

export function cachedBody<K extends object>(
  cache: WeakMap<K, CachedBody>,
  key: K,
  version: number,
  name: string,
  compute: () => unknown,
): CachedBody {
  const hit = cache.get(key);
  if (hit && hit.version === version) return hit;
  const json = JSON.stringify(compute());
  const body = { version, json, gzip: gzipSync(json, { level: 4 }), etag: `"${name}-${version}"` };
  cache.set(key, body);
  return body;
}
