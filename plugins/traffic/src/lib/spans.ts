/**
 * The one span shape the pairing works on, whatever it arrived as (OTLP protobuf, OTLP JSON, Jaeger JSON):
 * ids as lower-case hex, kind as the OTLP enum, times in milliseconds since the epoch.
 */
export interface Span {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  /** `service.name` of the resource that sent it. */
  service: string;
  kind: number;
  startMs: number;
  endMs: number;
  /** Status ERROR, or an HTTP status ≥ 500 on a SERVER span. */
  error: boolean;
  /** Where an unpaired CLIENT/PRODUCER span went: peer.service, db:<system>/<name>, topic:<dest>, server.address. */
  peer: string | undefined;
  /** The client span carries database attributes (a `db` edge). */
  db: boolean;
}

/** OTLP span kinds (not the JS API's enum, which is off by one). */
export const KIND = {
  unspecified: 0,
  internal: 1,
  server: 2,
  client: 3,
  producer: 4,
  consumer: 5,
} as const;

/** A span the receiver refused, and why: reported back in OTLP's partial success. */
export interface Rejection {
  where: string;
  why: string;
}

/** What a decoder makes of one request: the good spans and each refused one, with where and why. */
export interface DecodedBatch {
  spans: Span[];
  rejected: number;
  /** The first few rejections (all are counted in `rejected`). */
  reasons: Rejection[];
}

const MAX_REASONS = 10;

export class BatchBuilder {
  readonly spans: Span[] = [];
  rejected = 0;
  readonly reasons: Rejection[] = [];

  reject(where: string, why: string): void {
    this.rejected++;
    if (this.reasons.length < MAX_REASONS) this.reasons.push({ where, why });
  }

  done(): DecodedBatch {
    return { spans: this.spans, rejected: this.rejected, reasons: this.reasons };
  }
}

const HEX = /^[0-9a-f]+$/;

/** Checks one span's ids and times; the reason it cannot be used, or undefined. */
export function spanProblem(s: Span): string | undefined {
  if (s.traceId.length !== 32 || !HEX.test(s.traceId))
    return `traceId must be 16 bytes (32 hex characters), got ${describeId(s.traceId)}`;
  if (/^0+$/.test(s.traceId)) return 'traceId is all zeros (invalid in OTLP)';
  if (s.spanId.length !== 16 || !HEX.test(s.spanId))
    return `spanId must be 8 bytes (16 hex characters), got ${describeId(s.spanId)}`;
  if (/^0+$/.test(s.spanId)) return 'spanId is all zeros (invalid in OTLP)';
  if (s.parentSpanId !== '' && (s.parentSpanId.length !== 16 || !HEX.test(s.parentSpanId)))
    return `parentSpanId must be empty or 8 bytes (16 hex characters), got ${describeId(s.parentSpanId)}`;
  if (!Number.isFinite(s.startMs) || !Number.isFinite(s.endMs) || s.startMs <= 0)
    return 'startTimeUnixNano and endTimeUnixNano must be set';
  if (s.endMs < s.startMs) return 'endTimeUnixNano is before startTimeUnixNano';
  if (s.service === '') return 'the resource has no service.name';
  if (s.kind < 0 || s.kind > 5 || !Number.isInteger(s.kind)) return `kind ${s.kind} is not an OTLP span kind`;
  return undefined;
}

function describeId(id: string): string {
  if (id === '') return 'nothing';
  return HEX.test(id) ? `${id.length} hex characters` : `"${id.slice(0, 40)}" (not hex)`;
}

/** The peer a CLIENT/PRODUCER span names, in the servicegraph connector's order of preference. */
export function peerOf(get: (key: string) => string | undefined): { peer: string | undefined; db: boolean } {
  const peerService = get('peer.service');
  const dbSystem = get('db.system.name') ?? get('db.system');
  const dbName = get('db.namespace') ?? get('db.name');
  const db = dbSystem !== undefined;
  if (peerService) return { peer: peerService, db };
  if (dbSystem) return { peer: `db:${dbSystem}${dbName ? `/${dbName}` : ''}`, db };
  const topic = get('messaging.destination.name');
  if (topic) return { peer: `topic:${topic}`, db };
  const host = get('server.address') ?? get('net.peer.name');
  if (host) return { peer: host, db };
  return { peer: undefined, db };
}

/** HTTP status of a span (newer semantic convention first). */
export function httpStatusOf(get: (key: string) => string | undefined): number | undefined {
  const v = get('http.response.status_code') ?? get('http.status_code');
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
