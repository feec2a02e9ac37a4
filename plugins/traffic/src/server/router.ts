import { type GraphIndex, resolveRef } from '@bank/graph';
import { toPortalError } from '@bank/plugin-graph';
import { type Auth, createApp, errorEnvelope, InputError, noteAudit, permissions } from '@bank/plugin-kit';
import type { Context } from 'hono';
import { type DriftStatus, drift } from '../lib/drift.ts';
import { decodeJaegerJson } from '../lib/jaeger.ts';
import {
  decodeOtlpJson,
  decodeOtlpProtobuf,
  ExportTraceServiceResponse,
  OtlpFormatError,
} from '../lib/otlp.ts';
import type { AcceptResult, TrafficService } from '../lib/service.ts';
import type { DecodedBatch } from '../lib/spans.ts';
import { readOtlpBody } from './body.ts';

export interface TrafficRouterDeps {
  traffic: TrafficService;
  auth: Auth;
  getIndex: () => GraphIndex;
  /** Largest request body, compressed and inflated (default 8 MiB; TRAFFIC_MAX_BODY_BYTES). */
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_BODY = 8 * 1024 * 1024;

/** The kit's app, with graph errors (unknown ref: 404 with the closest names) mapped as the graph plugin maps them. */
function newApp() {
  const app = createApp();
  app.onError((err, c) => {
    const env = errorEnvelope(toPortalError(err), c.req.method, new URL(c.req.url).pathname);
    if (env.response.statusCode >= 500)
      process.stderr.write(`${c.req.method} ${c.req.url}: ${(err as Error).stack ?? err}\n`);
    return c.json(env, env.response.statusCode as 400);
  });
  return app;
}

const PROTOBUF_TYPES = new Set(['application/x-protobuf', 'application/protobuf']);

function mediaType(c: Context): string {
  return (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
}

async function decodeRequest(c: Context, limit: number, jaeger = false): Promise<DecodedBatch> {
  const type = mediaType(c);
  const protobuf = PROTOBUF_TYPES.has(type);
  if (!protobuf && type !== 'application/json')
    throw new InputError(
      `Content-Type "${type || 'none'}" is not accepted; send application/x-protobuf or application/json (OTLP/HTTP)`,
    );
  if (jaeger && protobuf) throw new InputError('A Jaeger import is JSON; send application/json');
  const body = await readOtlpBody(c, limit);
  try {
    if (jaeger) return decodeJaegerJson(body.toString('utf8'));
    return protobuf ? decodeOtlpProtobuf(body) : decodeOtlpJson(body.toString('utf8'));
  } catch (err) {
    if (err instanceof OtlpFormatError) throw new InputError(err.message);
    throw err;
  }
}

/** OTLP's answer: an empty ExportTraceServiceResponse, or its partial success with what was refused and why. */
function otlpAnswer(c: Context, result: AcceptResult): Response {
  const partial =
    result.rejected > 0
      ? { rejectedSpans: result.rejected, errorMessage: result.messages.join('; ') }
      : undefined;
  if (PROTOBUF_TYPES.has(mediaType(c))) {
    const bytes = ExportTraceServiceResponse.encode(
      ExportTraceServiceResponse.fromObject(partial ? { partialSuccess: partial } : {}),
    ).finish();
    return c.body(Buffer.from(bytes), 200, { 'content-type': 'application/x-protobuf' });
  }
  return c.json(
    partial ? { partialSuccess: { ...partial, rejectedSpans: String(partial.rejectedSpans) } } : {},
  );
}

/**
 * The OTLP/HTTP receiver, mounted at /v1/traces (what every OpenTelemetry exporter posts to). Writes need a
 * bearer token with scope traces:write, or permission traces.write (exporters send the token as
 * `OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer …`).
 */
export function createOtlpRouter(deps: TrafficRouterDeps) {
  const app = newApp();
  const limit = deps.maxBodyBytes ?? DEFAULT_MAX_BODY;
  app.post('/', async (c) => {
    await deps.auth.authorize(c, permissions.tracesWrite);
    noteAudit(c, { target: 'traces:otlp' });
    const batch = await decodeRequest(c, limit);
    const answer = otlpAnswer(c, await deps.traffic.accept(batch));
    deps.traffic.received[PROTOBUF_TYPES.has(mediaType(c)) ? 'protobuf' : 'json']++;
    return answer;
  });
  return app;
}

const STATUSES: DriftStatus[] = ['declared-only', 'observed-only', 'both'];

/** Reads of observed traffic, mounted at /api/traffic; the drift report is also served at /api/graph/drift. */
export function createTrafficRouter(deps: TrafficRouterDeps) {
  const app = newApp();
  const limit = deps.maxBodyBytes ?? DEFAULT_MAX_BODY;

  // Jaeger JSON (the UI's download, or /api/traces): traces people already have.
  app.post('/jaeger', async (c) => {
    await deps.auth.authorize(c, permissions.tracesWrite);
    noteAudit(c, { target: 'traces:jaeger' });
    const result = await deps.traffic.accept(await decodeRequest(c, limit, true));
    deps.traffic.received.jaeger++;
    return c.json(result);
  });

  // Observed edges with their figures; ?entity=<ref or name> keeps its callers and callees.
  app.get('/edges', (c) => {
    const index = deps.getIndex();
    const entity = c.req.query('entity');
    const ref = entity ? resolveRef(index, entity, { fn: 'traffic', field: 'entity' }) : undefined;
    // ?among=ref,ref,…: the edges between these (the hops of a path), at most 100 refs.
    const among = c.req.query('among');
    let set: Set<string> | undefined;
    if (among) {
      const refs = among.split(',').filter((r) => r !== '');
      if (refs.length > 100) throw new InputError('traffic: among takes at most 100 refs');
      set = new Set(refs.map((r) => resolveRef(index, r, { fn: 'traffic', field: 'among' })));
    }
    const edges = deps.traffic.edges(
      ref || set
        ? (from, to) => (!ref || from === ref || to === ref) && (!set || (set.has(from) && set.has(to)))
        : undefined,
    );
    edges.sort(
      (a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.type.localeCompare(b.type),
    );
    return c.json({ edges });
  });

  app.get('/status', (c) =>
    c.json({
      observingSince:
        deps.traffic.observingSinceMs === undefined
          ? null
          : new Date(deps.traffic.observingSinceMs).toISOString(),
      counters: deps.traffic.counters(),
      /** Accepted requests by encoding. */
      received: deps.traffic.received,
      unknownServices: deps.traffic.unknownServices(),
      limits: deps.traffic.state.limits,
    }),
  );

  app.get('/drift', (c) => driftAnswer(c, deps));
  return app;
}

/** GET /api/graph/drift[?team=&entity=&status=] (the one drift report; `portal drift` prints the same). */
export function driftAnswer(c: Context, deps: Pick<TrafficRouterDeps, 'traffic' | 'getIndex'>): Response {
  const status = c.req.query('status');
  let statuses: DriftStatus[] | undefined;
  if (status === 'all') statuses = STATUSES;
  else if (status) statuses = status.split(',') as DriftStatus[];
  return c.json(
    drift(deps.getIndex(), deps.traffic, {
      team: c.req.query('team'),
      entity: c.req.query('entity'),
      status: statuses,
    }),
  );
}

export function createDriftRouter(deps: Pick<TrafficRouterDeps, 'traffic' | 'getIndex'>) {
  const app = newApp();
  app.get('/', (c) => driftAnswer(c, deps));
  return app;
}
