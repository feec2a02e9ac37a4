import { OtlpFormatError } from './otlp.ts';
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
 * Jaeger JSON (`/api/traces` answers and the UI's JSON download): `{data: [{spans, processes}]}`. Times are
 * microseconds; the parent is the CHILD_OF reference; the kind is the `span.kind` tag; an error is the tag
 * `error=true` or `otel.status_code=ERROR`. Jaeger's 64-bit trace ids are widened to 128 bits.
 */
interface JaegerTag {
  key?: unknown;
  value?: unknown;
}
interface JaegerSpan {
  traceID?: unknown;
  spanID?: unknown;
  references?: Array<{ refType?: unknown; spanID?: unknown }>;
  startTime?: unknown;
  duration?: unknown;
  tags?: JaegerTag[];
  processID?: unknown;
}

const KINDS: Record<string, number> = {
  server: KIND.server,
  client: KIND.client,
  producer: KIND.producer,
  consumer: KIND.consumer,
  internal: KIND.internal,
};

const pad = (id: unknown, len: number): string =>
  typeof id === 'string' ? id.toLowerCase().padStart(len, '0') : '';

export function decodeJaegerJson(text: string): DecodedBatch {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (err) {
    throw new OtlpFormatError(`The body is not valid JSON: ${(err as Error).message}`);
  }
  const data = (msg as { data?: unknown })?.data;
  if (!Array.isArray(data))
    throw new OtlpFormatError('A Jaeger export must be an object with a "data" array of traces');
  const out = new BatchBuilder();
  data.forEach((trace: { spans?: unknown; processes?: unknown }, t) => {
    const processes = (trace?.processes ?? {}) as Record<string, { serviceName?: unknown }>;
    const spans = Array.isArray(trace?.spans) ? (trace.spans as JaegerSpan[]) : [];
    spans.forEach((raw, i) => {
      const at = `data[${t}].spans[${i}]`;
      const tags = Array.isArray(raw?.tags) ? raw.tags : [];
      const get = (key: string): string | undefined => {
        const tag = tags.find((x) => x?.key === key);
        return tag === undefined || tag.value === null || tag.value === undefined
          ? undefined
          : String(tag.value);
      };
      const parent = (raw?.references ?? []).find((r) => r?.refType === 'CHILD_OF');
      const start = Number(raw?.startTime);
      const duration = Number(raw?.duration);
      const kind = KINDS[get('span.kind') ?? ''] ?? KIND.internal;
      const httpStatus = httpStatusOf(get);
      const { peer, db } = peerOf(get);
      const service = processes[String(raw?.processID)]?.serviceName;
      const span: Span = {
        traceId: pad(raw?.traceID, 32),
        spanId: pad(raw?.spanID, 16),
        parentSpanId: parent ? pad(parent.spanID, 16) : '',
        service: typeof service === 'string' ? service : '',
        kind,
        startMs: start / 1000,
        endMs: (start + duration) / 1000,
        error:
          get('error') === 'true' ||
          get('otel.status_code') === 'ERROR' ||
          (kind === KIND.server && httpStatus !== undefined && httpStatus >= 500),
        peer,
        db,
      };
      const problem = spanProblem(span);
      if (problem) out.reject(at, problem);
      else out.spans.push(span);
    });
  });
  return out.done();
}
