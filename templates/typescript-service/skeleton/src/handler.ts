import { RpcError } from '@bank/rpc';
import type { DependencyStatus, InfoResponse } from './api.ts';
import type { DependencyClient } from './clients.ts';

export const VERSION = process.env.SERVICE_VERSION ?? '0.1.0';

/** GET /v1/info: asks every dependency in parallel; a failing dependency is reported, not fatal. */
export function infoHandler(service: string, dependencies: DependencyClient[]): () => Promise<InfoResponse> {
  return async () => {
    const statuses = await Promise.all(
      dependencies.map(async (d): Promise<DependencyStatus> => {
        try {
          const { service: name, version } = await d.info();
          return { name: d.name, ok: true, info: { service: name, version } };
        } catch (err) {
          return { name: d.name, ok: false, error: err instanceof RpcError ? err.code : String(err) };
        }
      }),
    );
    return { service, version: VERSION, dependencies: statuses };
  };
}
