import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';

/**
 * Reading descriptors over HTTP(S), as Backstage's UrlReader with `backend.reading.allow`: only hosts on an
 * allow-list, GitHub/GitLab `blob/` URLs read as raw content, tokens from the environment sent only to their
 * own hosts, a timeout, a size limit (refused from Content-Length before reading, else cut while streaming),
 * redirects followed only onto allowed hosts, and no private, loopback or link-local address unless that
 * address is explicitly allowed (SSRF). The address is checked where the socket connects (the lookup
 * callback), so a name that resolves differently the second time cannot slip through.
 */
export interface UrlReaderOptions {
  /** Allowed hosts: `host` (any port) or `host:port` (PORTAL_READING_ALLOW, comma-separated). */
  allow: string[];
  /** Addresses allowed although private/loopback/link-local (PORTAL_READING_ALLOW_ADDRESSES), e.g. 127.0.0.1. */
  allowAddresses?: string[];
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
  /** Tokens by host; default GITHUB_TOKEN for github.com hosts, GITLAB_TOKEN for gitlab.com (and PORTAL_GITLAB_HOSTS). */
  tokens?: Record<string, string>;
}

export const DEFAULT_READ_TIMEOUT_MS = 10_000;
export const DEFAULT_READ_MAX_BYTES = 8 * 1024 * 1024;

export class UrlReadError extends Error {}

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

/** Whether an address is private, loopback, link-local, multicast or unspecified (IPv4-mapped IPv6 too). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1] as string, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** GitHub and GitLab `blob/` (web page) URLs → the raw file they show. Other URLs unchanged. */
export function rawUrlOf(url: string): string {
  const u = new URL(url);
  if (u.hostname === 'github.com') {
    const m = /^\/([^/]+)\/([^/]+)\/blob\/(.+)$/.exec(u.pathname);
    if (m) return `https://raw.githubusercontent.com/${m[1]}/${m[2]}/${m[3]}`;
  }
  const gitlab = /^(\/.+?)\/-\/blob\/(.+)$/.exec(u.pathname);
  if (gitlab) {
    u.pathname = `${gitlab[1]}/-/raw/${gitlab[2]}`;
    return u.toString();
  }
  return url;
}

/**
 * The annotations Backstage's AnnotateLocationEntityProcessor adds to an entity read from a URL: its view URL
 * always; on github.com and gitlab.com (Backstage's default integrations) also the edit URL and the folder as
 * `source-location` (GitHub's as a tree/ URL), as those integrations' resolveEditUrl and resolveUrl form them.
 */
export function urlLocationAnnotations(url: string): Record<string, string> {
  const out: Record<string, string> = { 'backstage.io/view-url': url };
  const host = new URL(url).hostname;
  if (host === 'github.com') {
    const type = (u: string, t: string) =>
      u.replace(/\/\/([^/]+)\/([^/]+)\/([^/]+)\/(blob|tree|edit)\//, `//$1/$2/$3/${t}/`);
    out['backstage.io/edit-url'] = type(url, 'edit');
    out['backstage.io/source-location'] = `url:${type(new URL('./', url).toString(), 'tree')}`;
  } else if (host === 'gitlab.com') {
    out['backstage.io/edit-url'] = url.replace(/\/-\/(blob|tree|edit)\//, '/-/edit/');
    out['backstage.io/source-location'] = `url:${new URL('./', url).toString()}`;
  }
  return out;
}

export function readerOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): UrlReaderOptions {
  const list = (v: string | undefined) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const tokens: Record<string, string> = {};
  if (env.GITHUB_TOKEN)
    for (const h of ['github.com', 'raw.githubusercontent.com']) tokens[h] = env.GITHUB_TOKEN;
  if (env.GITLAB_TOKEN)
    for (const h of ['gitlab.com', ...list(env.PORTAL_GITLAB_HOSTS)])
      tokens[h.toLowerCase()] = env.GITLAB_TOKEN;
  const num = (v: string | undefined, d: number) => (v && Number(v) > 0 ? Number(v) : d);
  return {
    allow: list(env.PORTAL_READING_ALLOW),
    allowAddresses: list(env.PORTAL_READING_ALLOW_ADDRESSES),
    timeoutMs: num(env.PORTAL_READING_TIMEOUT_MS, DEFAULT_READ_TIMEOUT_MS),
    maxBytes: num(env.PORTAL_READING_MAX_BYTES, DEFAULT_READ_MAX_BYTES),
    tokens,
  };
}

export class UrlReader {
  private readonly allow: string[];
  private readonly allowAddresses: Set<string>;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  private readonly maxRedirects: number;
  private readonly tokens: Record<string, string>;

  constructor(opts: UrlReaderOptions = readerOptionsFromEnv()) {
    this.allow = opts.allow.map((h) => h.toLowerCase());
    this.allowAddresses = new Set(opts.allowAddresses ?? []);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    this.maxBytes = opts.maxBytes ?? DEFAULT_READ_MAX_BYTES;
    this.maxRedirects = opts.maxRedirects ?? 5;
    this.tokens = Object.fromEntries(Object.entries(opts.tokens ?? {}).map(([h, t]) => [h.toLowerCase(), t]));
  }

  /** Why this URL may not be read, or undefined when it may. */
  refusal(url: string): string | undefined {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return `"${url.slice(0, 200)}" is not a URL`;
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:')
      return `${u.protocol} URLs are not read; use http(s)`;
    if (u.username || u.password) return 'URLs with credentials in them are not read';
    const host = u.hostname.toLowerCase();
    const port = u.port || (u.protocol === 'https:' ? '443' : '80');
    if (!this.allow.some((a) => a === host || a === `${host}:${port}`))
      return `host ${u.host} is not in the reading allow-list (PORTAL_READING_ALLOW: ${this.allow.join(', ') || 'empty'})`;
    return undefined;
  }

  /** Read a URL (blob URLs read as raw) into memory, within every limit above. */
  async read(url: string): Promise<{ url: string; body: Buffer }> {
    let current = rawUrlOf(url);
    for (let hop = 0; ; hop++) {
      const why = this.refusal(current);
      if (why) throw new UrlReadError(`${current}: ${why}${hop ? ` (redirected from ${url})` : ''}`);
      let r: Awaited<ReturnType<UrlReader['once']>>;
      try {
        r = await this.once(current);
      } catch (err) {
        if (hop && err instanceof UrlReadError)
          throw new UrlReadError(`${err.message} (redirected from ${url})`);
        throw err;
      }
      if ('redirect' in r) {
        if (hop >= this.maxRedirects)
          throw new UrlReadError(`${url}: more than ${this.maxRedirects} redirects`);
        current = new URL(r.redirect, current).toString();
        continue;
      }
      return { url: current, body: r.body };
    }
  }

  private once(url: string): Promise<{ body: Buffer } | { redirect: string }> {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    const token = this.tokens[u.hostname.toLowerCase()];
    const lookup = (
      hostname: string,
      options: object,
      callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
    ) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, []);
        const list = addresses as LookupAddress[];
        const bad = list.find((a) => isPrivateAddress(a.address) && !this.allowAddresses.has(a.address));
        if (bad)
          return callback(
            new UrlReadError(
              `${u.host} resolves to ${bad.address}, a private, loopback or link-local address; not read (PORTAL_READING_ALLOW_ADDRESSES allows one explicitly)`,
            ),
            [],
          );
        const wantAll = (options as { all?: boolean }).all;
        if (wantAll) return callback(null, list);
        const first = list[0] as LookupAddress;
        callback(null, first.address, first.family);
      });
    };
    // A literal IP address skips the lookup callback: check it before connecting.
    const literal = u.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) && isPrivateAddress(literal) && !this.allowAddresses.has(literal))
      return Promise.reject(
        new UrlReadError(
          `${u.host} is a private, loopback or link-local address; not read (PORTAL_READING_ALLOW_ADDRESSES allows one explicitly)`,
        ),
      );
    return new Promise((resolve, reject) => {
      const req = lib.get(
        url,
        {
          lookup: lookup as never,
          headers: { accept: '*/*', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          timeout: this.timeoutMs,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400 && res.headers.location) {
            res.resume();
            return resolve({ redirect: res.headers.location });
          }
          if (status !== 200) {
            res.resume();
            return reject(new UrlReadError(`${url}: HTTP ${status}`));
          }
          const declared = Number(res.headers['content-length']);
          if (declared > this.maxBytes) {
            req.destroy();
            return reject(
              new UrlReadError(
                `${url}: ${declared} bytes is over the reading limit of ${this.maxBytes} bytes; not read`,
              ),
            );
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.maxBytes) {
              req.destroy();
              reject(
                new UrlReadError(
                  `${url}: more than ${this.maxBytes} bytes, over the reading limit; not read`,
                ),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => resolve({ body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => {
        req.destroy();
        reject(new UrlReadError(`${url}: no answer within ${this.timeoutMs} ms`));
      });
      req.on('error', (err) =>
        reject(err instanceof UrlReadError ? err : new UrlReadError(`${url}: ${err.message}`)),
      );
    });
  }
}
