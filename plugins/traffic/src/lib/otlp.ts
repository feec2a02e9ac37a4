import { createRequire } from 'node:module';
import { ANNOTATION } from '@bank/catalog/model';
import {
  BatchBuilder,
  type DecodedBatch,
  httpStatusOf,
  KIND,
  peerOf,
  type Span,
  spanProblem,
} from './spans.ts';

/**
 * OTLP/HTTP trace requests (`ExportTraceServiceRequest`) in both encodings. Protobuf is decoded with the
 * code the OpenTelemetry project generated (protobufjs) from the official opentelemetry-proto files, as
 * shipped in @opentelemetry/otlp-transformer 0.57 (installed as `otlp-schema`; later releases of that
 * package only encode). Nothing here parses the wire format by hand.
 */

interface LongLike {
  low: number;
  high: number;
}
type Int64 = number | string | LongLike | null | undefined;

interface PbAnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: Int64;
  doubleValue?: number | null;
}
interface PbKeyValue {
  key?: string | null;
  value?: PbAnyValue | null;
}
interface PbSpan {
  traceId?: Uint8Array | null;
  spanId?: Uint8Array | null;
  parentSpanId?: Uint8Array | null;
  kind?: number | null;
  startTimeUnixNano?: Int64;
  endTimeUnixNano?: Int64;
  attributes?: PbKeyValue[] | null;
  status?: { code?: number | null } | null;
}
interface PbRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: PbKeyValue[] | null } | null;
    scopeSpans?: Array<{ spans?: PbSpan[] | null }> | null;
  }> | null;
}
interface PbType<T> {
  decode(bytes: Uint8Array): T;
  encode(msg: T): { finish(): Uint8Array };
  fromObject(o: unknown): T;
}

const require = createRequire(import.meta.url);
const root = require('otlp-schema/build/src/generated/root.js') as {
  opentelemetry: {
    proto: {
      collector: {
        trace: {
          v1: {
            ExportTraceServiceRequest: PbType<PbRequest>;
            ExportTraceServiceResponse: PbType<{
              partialSuccess?: { rejectedSpans?: number; errorMessage?: string };
            }>;
          };
        };
      };
    };
  };
};
const collector = root.opentelemetry.proto.collector.trace.v1;

/** The generated message types, for tests and benches that need to build protobuf requests. */
export const ExportTraceServiceRequest = collector.ExportTraceServiceRequest;
export const ExportTraceServiceResponse = collector.ExportTraceServiceResponse;

function int64ToMs(v: Int64): number {
  if (v === null || v === undefined) return Number.NaN;
  if (typeof v === 'number') return v / 1e6;
  if (typeof v === 'string') return /^\d+$/.test(v) ? Number(BigInt(v) / 1000n) / 1000 : Number.NaN;
  return ((v.high >>> 0) * 4294967296 + (v.low >>> 0)) / 1e6;
}

function anyValueText(v: PbAnyValue | null | undefined): string | undefined {
  if (!v) return undefined;
  if (typeof v.stringValue === 'string' && v.stringValue !== '') return v.stringValue;
  if (v.intValue !== null && v.intValue !== undefined && v.intValue !== 0) {
    const i = v.intValue;
    return typeof i === 'object' ? String((i.high >>> 0) * 4294967296 + (i.low >>> 0)) : String(i);
  }
  if (typeof v.doubleValue === 'number' && v.doubleValue !== 0) return String(v.doubleValue);
  if (typeof v.boolValue === 'boolean' && v.boolValue) return 'true';
  if (typeof v.stringValue === 'string') return v.stringValue;
  return undefined;
}

function lookup(attrs: PbKeyValue[] | null | undefined): (key: string) => string | undefined {
  return (key) => {
    if (!attrs) return undefined;
    for (const a of attrs) if (a.key === key) return anyValueText(a.value);
    return undefined;
  };
}

/** The span attributes pairing reads (peerOf, httpStatusOf); the rest are skipped without being converted. */
const WANTED = new Set([
  'peer.service',
  'db.system.name',
  'db.system',
  'db.namespace',
  'db.name',
  'messaging.destination.name',
  'server.address',
  'net.peer.name',
  'http.response.status_code',
  'http.status_code',
]);
const NOTHING = (): undefined => undefined;

/** As {@link lookup}, but one pass over the attributes for all the keys pairing asks about. */
function spanLookup(attrs: PbKeyValue[] | null | undefined): (key: string) => string | undefined {
  if (!attrs || attrs.length === 0) return NOTHING;
  let picked: Map<string, string | undefined> | undefined;
  for (const a of attrs) {
    const key = a?.key;
    if (typeof key !== 'string' || !WANTED.has(key)) continue;
    picked ??= new Map();
    // The first attribute of a name counts, as in a linear lookup.
    if (!picked.has(key)) picked.set(key, anyValueText(a.value));
  }
  return picked ? (key) => picked.get(key) : NOTHING;
}

const hex = (b: Uint8Array | null | undefined): string =>
  b && b.length > 0 ? Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex') : '';

/** Decodes an OTLP protobuf request; a body that is not one throws (the caller answers 400). */
export function decodeOtlpProtobuf(body: Uint8Array): DecodedBatch {
  let msg: PbRequest;
  try {
    msg = ExportTraceServiceRequest.decode(body);
  } catch (err) {
    throw new OtlpFormatError(
      `The body is not an OTLP ExportTraceServiceRequest in protobuf: ${(err as Error).message}`,
    );
  }
  return collect(msg, false);
}

/** Decodes an OTLP JSON request (ids in hex, 64-bit integers as strings or numbers). */
export function decodeOtlpJson(text: string): DecodedBatch {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (err) {
    throw new OtlpFormatError(`The body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
    throw new OtlpFormatError(
      'The body must be a JSON object with "resourceSpans" (ExportTraceServiceRequest)',
    );
  const rs = (msg as { resourceSpans?: unknown }).resourceSpans;
  if (rs !== undefined && !Array.isArray(rs)) throw new OtlpFormatError('"resourceSpans" must be an array');
  return collect(msg as PbRequest, true);
}

export class OtlpFormatError extends Error {}

type JsonSpan = Omit<PbSpan, 'traceId' | 'spanId' | 'parentSpanId' | 'kind'> & {
  traceId?: unknown;
  spanId?: unknown;
  parentSpanId?: unknown;
  kind?: unknown;
};

function jsonId(v: unknown): string {
  if (typeof v !== 'string') return v === undefined || v === null ? '' : `<${typeof v}>`;
  return v.toLowerCase();
}

function jsonKind(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const named = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'].indexOf(
      v.replace(/^SPAN_KIND_/, ''),
    );
    return named;
  }
  return v === undefined ? 0 : -1;
}

/**
 * The name a resource's spans are counted under: its `bank.io/service-id` (what the scaffolded Deployment
 * puts in OTEL_RESOURCE_ATTRIBUTES, and what the catalogue resolves first), else its `service.name`.
 */
export function serviceOf(get: (key: string) => string | undefined): string {
  return get(ANNOTATION.serviceId) || get('service.name') || '';
}

function collect(msg: PbRequest, json: boolean): DecodedBatch {
  const out = new BatchBuilder();
  const resourceSpans = msg.resourceSpans ?? [];
  for (let r = 0; r < resourceSpans.length; r++) {
    const rs = resourceSpans[r];
    const where = `resourceSpans[${r}]`;
    if (typeof rs !== 'object' || rs === null) {
      out.reject(where, 'is not an object');
      continue;
    }
    const resAttrs = rs.resource?.attributes;
    if (resAttrs !== undefined && resAttrs !== null && !Array.isArray(resAttrs)) {
      out.reject(`${where}.resource.attributes`, 'must be an array');
      continue;
    }
    const service = serviceOf(lookup(resAttrs));
    const scopeSpans = rs.scopeSpans ?? [];
    if (!Array.isArray(scopeSpans)) {
      out.reject(`${where}.scopeSpans`, 'must be an array');
      continue;
    }
    for (let s = 0; s < scopeSpans.length; s++) {
      const spans = scopeSpans[s]?.spans ?? [];
      if (!Array.isArray(spans)) {
        out.reject(`${where}.scopeSpans[${s}].spans`, 'must be an array');
        continue;
      }
      for (let i = 0; i < spans.length; i++) {
        const at = `${where}.scopeSpans[${s}].spans[${i}]`;
        const raw = spans[i] as PbSpan & JsonSpan;
        if (typeof raw !== 'object' || raw === null) {
          out.reject(at, 'is not an object');
          continue;
        }
        const attrs = Array.isArray(raw.attributes) ? raw.attributes : undefined;
        if (raw.attributes !== undefined && raw.attributes !== null && !attrs) {
          out.reject(at, 'attributes must be an array');
          continue;
        }
        const get = spanLookup(attrs);
        const kind = json ? jsonKind(raw.kind) : (raw.kind ?? 0);
        const statusCode = raw.status?.code;
        const httpStatus = httpStatusOf(get);
        const { peer, db } = peerOf(get);
        const span: Span = {
          traceId: json ? jsonId(raw.traceId) : hex(raw.traceId as Uint8Array),
          spanId: json ? jsonId(raw.spanId) : hex(raw.spanId as Uint8Array),
          parentSpanId: json ? jsonId(raw.parentSpanId) : hex(raw.parentSpanId as Uint8Array),
          service,
          kind,
          startMs: int64ToMs(raw.startTimeUnixNano as Int64),
          endMs: int64ToMs(raw.endTimeUnixNano as Int64),
          error:
            statusCode === 2 ||
            (statusCode as unknown) === 'STATUS_CODE_ERROR' ||
            (kind === KIND.server && httpStatus !== undefined && httpStatus >= 500),
          peer,
          db,
        };
        const problem = spanProblem(span);
        if (problem) out.reject(at, problem);
        else out.spans.push(span);
      }
    }
  }
  return out.done();
}
