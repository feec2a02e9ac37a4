/**
 * The traffic plugin's public API. Two lighter entries beside it, for callers that must not load the OTLP
 * decoders (this index loads their protobuf schema): `@bank/plugin-traffic/cli` (the commands, which
 * `portal` imports only when one of them runs) and `@bank/plugin-traffic/service` (TrafficService and the
 * store it reads, for the CLI's graph commands).
 */
export { type LoadTraffic, registerTrafficCommands, type TrafficCliIo } from './cli.ts';
export { type DriftFinding, type DriftResult, type DriftStatus, drift } from './lib/drift.ts';
export { decodeJaegerJson } from './lib/jaeger.ts';
export {
  decodeOtlpJson,
  decodeOtlpProtobuf,
  ExportTraceServiceRequest,
  ExportTraceServiceResponse,
} from './lib/otlp.ts';
export {
  type ObservedEdge,
  ServiceResolver,
  TrafficService,
  type TrafficServiceOptions,
} from './lib/service.ts';
export type { Span } from './lib/spans.ts';
export { DEFAULT_LIMITS, type EdgeHealth, type EdgeState, type TrafficLimits } from './lib/traffic.ts';
export {
  createDriftRouter,
  createOtlpRouter,
  createTrafficRouter,
  DEFAULT_MAX_BODY,
  type TrafficRouterDeps,
} from './server/router.ts';

/** Limits from the environment (TRAFFIC_*), for the portal to pass to TrafficService.open. */
export function trafficLimitsFromEnv(env: Record<string, string | undefined> = process.env) {
  const n = (k: string) =>
    env[k] !== undefined && /^\d+$/.test(env[k] as string) ? Number(env[k]) : undefined;
  const limits: Partial<import('./lib/traffic.ts').TrafficLimits> = {};
  const ttl = n('TRAFFIC_PAIR_TTL_MS');
  if (ttl !== undefined) limits.pairTtlMs = ttl;
  const unknown = n('TRAFFIC_MAX_UNKNOWN_SERVICES');
  if (unknown !== undefined) limits.maxUnknownServices = unknown;
  const days = n('TRAFFIC_RETENTION_DAYS');
  if (days !== undefined) limits.keep = { '1m': 61, '1h': 25, '1d': Math.max(1, days) };
  return limits;
}
