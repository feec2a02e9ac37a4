/**
 * Service discovery: `RPC_DISCOVERY` (a JSON map of service name → base URL or URLs) when set and
 * naming the service, else Kubernetes DNS `service-<name>.<namespace>.svc.cluster.local`, re-resolved
 * periodically. A resolver yields a live endpoint set; the balancer keeps per-endpoint state across
 * updates.
 */

import { lookup as dnsLookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';

export interface Resolver {
  /** The current base URLs (e.g. `http://10.0.0.7:8080`). */
  endpoints(): readonly string[];
  /** Resolves once the first resolution finished (successfully or not). */
  ready(): Promise<void>;
  /** Called with the new set whenever it changes. */
  subscribe(fn: (endpoints: readonly string[]) => void): () => void;
  close(): void;
}

/** A fixed set of URLs (from RPC_DISCOVERY or code). */
export class StaticResolver implements Resolver {
  private urls: readonly string[];
  private readonly subs = new Set<(e: readonly string[]) => void>();
  constructor(urls: readonly string[]) {
    this.urls = urls.map(normalise);
  }
  endpoints() {
    return this.urls;
  }
  ready() {
    return Promise.resolve();
  }
  /** Replaces the set (tests and config reloads). */
  update(urls: readonly string[]): void {
    this.urls = urls.map(normalise);
    for (const fn of this.subs) fn(this.urls);
  }
  subscribe(fn: (e: readonly string[]) => void) {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }
  close() {
    this.subs.clear();
  }
}

export type LookupFn = (host: string) => Promise<string[]>;

const systemLookup: LookupFn = async (host) =>
  (await dnsLookup(host, { all: true })).map((a) => (a.family === 6 ? `[${a.address}]` : a.address));

export interface DnsResolverOptions {
  /** Port of the service (default 80, the k8s Service port named `http`). */
  port?: number;
  /** Re-resolution interval (default 10 s). */
  refreshMs?: number;
  /** The lookup (default: the system resolver, `dns.lookup` with `all`). Tests inject one. */
  lookup?: LookupFn;
}

/** Resolves a host name to all its addresses, again every `refreshMs`; a failed lookup keeps the last set. */
export class DnsResolver implements Resolver {
  private urls: readonly string[] = [];
  private readonly subs = new Set<(e: readonly string[]) => void>();
  private readonly first: Promise<void>;
  private readonly timer: NodeJS.Timeout;
  /** The last lookup error, if the last lookup failed. */
  lastError: unknown;

  constructor(
    readonly host: string,
    private readonly opts: DnsResolverOptions = {},
  ) {
    this.first = this.refresh();
    this.timer = setInterval(() => void this.refresh(), opts.refreshMs ?? 10_000);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    try {
      const addrs = await (this.opts.lookup ?? systemLookup)(this.host);
      const port = this.opts.port ?? 80;
      const next = [...new Set(addrs)].sort().map((a) => `http://${a}:${port}`);
      this.lastError = undefined;
      if (next.join() !== this.urls.join()) {
        this.urls = next;
        for (const fn of this.subs) fn(next);
      }
    } catch (err) {
      this.lastError = err;
    }
  }
  endpoints() {
    return this.urls;
  }
  ready() {
    return this.first;
  }
  subscribe(fn: (e: readonly string[]) => void) {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }
  close() {
    clearInterval(this.timer);
    this.subs.clear();
  }
}

function normalise(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Parses RPC_DISCOVERY: `{"cards": "http://127.0.0.1:4001", "ledger": ["http://a:80", "http://b:80"]}`. */
export function parseDiscovery(json: string | undefined): Map<string, string[]> {
  const map = new Map<string, string[]>();
  if (!json) return map;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new Error(`RPC_DISCOVERY is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('RPC_DISCOVERY must be a JSON object of service name → URL or URLs');
  }
  for (const [name, v] of Object.entries(parsed)) {
    const urls = typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((u) => typeof u === 'string') : [];
    if (urls.length === 0) throw new Error(`RPC_DISCOVERY["${name}"] must be a URL or a list of URLs`);
    map.set(name, urls);
  }
  return map;
}

/** The namespace: `$RPC_NAMESPACE`, `$POD_NAMESPACE`, the pod's service-account namespace, else `default`. */
export function currentNamespace(): string {
  const env = process.env.RPC_NAMESPACE ?? process.env.POD_NAMESPACE;
  if (env) return env;
  try {
    return (
      readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || 'default'
    );
  } catch {
    return 'default';
  }
}

export interface DiscoveryOptions extends DnsResolverOptions {
  /** Overrides `$RPC_DISCOVERY` (same shape). */
  discovery?: Record<string, string | string[]>;
  namespace?: string;
}

/** The resolver for a service name, following the rules above. */
export function resolverFor(name: string, opts: DiscoveryOptions = {}): Resolver {
  const map = opts.discovery
    ? new Map(Object.entries(opts.discovery).map(([k, v]) => [k, typeof v === 'string' ? [v] : v]))
    : parseDiscovery(process.env.RPC_DISCOVERY);
  const urls = map.get(name);
  if (urls) return new StaticResolver(urls);
  return new DnsResolver(
    `${kubernetesServiceName(name)}.${opts.namespace ?? currentNamespace()}.svc.cluster.local`,
    opts,
  );
}

/**
 * The bank names Kubernetes Services `service-<name>` (dots are not allowed in Service names; the pods
 * carry `app.kubernetes.io/name: service.<name>`), so `cards` is found at `service-cards.<ns>.svc…`.
 * A name that already starts with `service-` is used as it is.
 */
export function kubernetesServiceName(name: string): string {
  return name.startsWith('service-') ? name : `service-${name}`;
}
