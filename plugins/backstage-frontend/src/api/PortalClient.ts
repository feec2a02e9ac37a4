import { createApiRef, type DiscoveryApi, type FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import type { ChangesAnswer, ChangesScope, DriftAnswer, ImpactAnswer, PathsAnswer } from './types.ts';

/** What the plugin asks the portal. Tests and apps may provide their own implementation under portalApiRef. */
export interface PortalApi {
  /** The k shortest call paths from one service to another, hop by hop. */
  paths(from: string, to: string, options?: { k?: number; maxHops?: number }): Promise<PathsAnswer>;
  /** Blast radius: every service that calls this one, directly or not. */
  impact(ref: string, options?: { depth?: number }): Promise<ImpactAnswer>;
  /** Declared vs observed call edges this service calls or is called by. */
  drift(entity: string): Promise<DriftAnswer>;
  /** Deploys in a window on a call path, a blast radius or one service. */
  changes(scope: ChangesScope): Promise<ChangesAnswer>;
}

export const portalApiRef = createApiRef<PortalApi>({ id: 'plugin.portal.service' });

/** The portal could not be reached at all (no HTTP answer): wrong URL, portal down, or blocked by the network. */
export class PortalUnreachableError extends Error {
  override name = 'PortalUnreachableError';
}

export interface PortalClientOptions {
  discoveryApi: DiscoveryApi;
  fetchApi: FetchApi;
  /**
   * The portal's own URL (config `portal.baseUrl`), e.g. https://portal.bank.internal; its API is under /api.
   * Without it the API root is discoveryApi.getBaseUrl('portal'): a Backstage proxy or discovery endpoint
   * that forwards to the portal's /api.
   */
  baseUrl?: string;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/**
 * Reads the portal's HTTP API through Backstage's discovery and fetch APIs (so the app's identity and
 * fetch middleware apply). Errors from the portal keep its message (the portal answers in Backstage's error
 * envelope, which ResponseError parses); a portal that does not answer gets a PortalUnreachableError.
 */
export class PortalClient implements PortalApi {
  constructor(private readonly options: PortalClientOptions) {}

  paths(from: string, to: string, options: { k?: number; maxHops?: number } = {}): Promise<PathsAnswer> {
    return this.get('/graph/paths', { from, to, k: options.k, maxHops: options.maxHops });
  }

  impact(ref: string, options: { depth?: number } = {}): Promise<ImpactAnswer> {
    return this.get('/graph/impact', { ref, depth: options.depth });
  }

  drift(entity: string): Promise<DriftAnswer> {
    return this.get('/graph/drift', { entity });
  }

  changes(scope: ChangesScope): Promise<ChangesAnswer> {
    return this.get('/deploys/changes', { ...scope });
  }

  /** The URL under which /graph/paths, /deploys/changes… live. */
  async apiRoot(): Promise<string> {
    if (this.options.baseUrl) return `${trimSlash(this.options.baseUrl)}/api`;
    return trimSlash(await this.options.discoveryApi.getBaseUrl('portal'));
  }

  private async get<T>(path: string, params: Record<string, string | number | undefined>): Promise<T> {
    const root = await this.apiRoot();
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, String(value));
    const url = `${root}${path}?${query}`;
    let response: Response;
    try {
      response = await this.options.fetchApi.fetch(url);
    } catch (err) {
      throw new PortalUnreachableError(
        `The portal did not answer at ${root} (${(err as Error).message}). Check that it is running and ` +
          `that portal.baseUrl or the discovery entry for 'portal' points at it.`,
      );
    }
    if (!response.ok) throw await ResponseError.fromResponse(response);
    return (await response.json()) as T;
  }
}
