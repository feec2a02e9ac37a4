import { createRequire } from 'node:module';
import type { DDSketch } from '@datadog/sketches-js';

/**
 * DDSketch's own protobuf message (the library's generated code), written without `DDSketch.toProto`, for
 * two reasons that made it most of a checkpoint's time (~45,000 sketches each under load):
 * - `toProto` (and `_protoInterpolation`, which this used to call) `require`s the generated code again on
 *   every call: four module resolutions per sketch;
 * - the dense store pads its bins to chunks of 128, so a sketch of one latency was ~1 KB of zero counts.
 *   Only the bins from the first to the last non-empty one are written, with the index offset moved to
 *   match: the same message type, read back by `DDSketch.fromProto` to the same counts (the test checks).
 */

interface ProtoType {
  create(o: object): unknown;
  encode(m: unknown): { finish(): Uint8Array };
}
const require = createRequire(import.meta.url);
const proto = require('@datadog/sketches-js/dist/ddsketch/proto/compiled.js') as {
  DDSketch: ProtoType;
  IndexMapping: ProtoType & { Interpolation: { NONE: number } };
  Store: ProtoType;
};

interface Store {
  bins: number[];
  offset: number;
}
interface SketchParts {
  mapping: { gamma: number; _offset: number; _protoInterpolation(): number };
  store: Store;
  negativeStore: Store;
  zeroCount: number;
}

/** `_protoInterpolation()` per mapping class (a constant of the class: NONE for the logarithmic one). */
const interpolations = new Map<unknown, number>();
function interpolationOf(mapping: SketchParts['mapping']): number {
  const kind = Object.getPrototypeOf(mapping);
  let v = interpolations.get(kind);
  if (v === undefined) {
    v = mapping._protoInterpolation();
    interpolations.set(kind, v);
  }
  return v;
}

function trimmed(store: Store): unknown {
  const bins = store.bins;
  let first = 0;
  while (first < bins.length && bins[first] === 0) first++;
  let last = bins.length - 1;
  while (last >= first && bins[last] === 0) last--;
  return proto.Store.create({
    contiguousBinCounts: first > last ? [] : bins.slice(first, last + 1),
    contiguousBinIndexOffset: first > last ? 0 : store.offset + first,
  });
}

/** The sketch as DDSketch's protobuf message, its empty bins left out. */
export function encodeSketch(sketch: DDSketch): Uint8Array {
  const s = sketch as unknown as SketchParts;
  const message = proto.DDSketch.create({
    mapping: proto.IndexMapping.create({
      gamma: s.mapping.gamma,
      indexOffset: s.mapping._offset,
      interpolation: interpolationOf(s.mapping),
    }),
    positiveValues: trimmed(s.store),
    negativeValues: trimmed(s.negativeStore),
    zeroCount: s.zeroCount,
  });
  return proto.DDSketch.encode(message).finish();
}
