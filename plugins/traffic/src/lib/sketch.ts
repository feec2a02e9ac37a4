import { createRequire } from 'node:module';
import type { DDSketch } from '@datadog/sketches-js';

/**
 * DDSketch's own protobuf form, encoded without `DDSketch.toProto`, which `require`s its generated code
 * again on every call (four module resolutions per sketch: most of a checkpoint's time, ~40,000 sketches a
 * checkpoint under load). Same generated code, same message, same bytes (the test compares them).
 */

interface ProtoType {
  create(o: object): unknown;
  encode(m: unknown): { finish(): Uint8Array };
}
const require = createRequire(import.meta.url);
const proto = require('@datadog/sketches-js/dist/ddsketch/proto/compiled.js') as {
  DDSketch: ProtoType;
  IndexMapping: ProtoType;
  Store: ProtoType;
};

interface SketchParts {
  mapping: { gamma: number; _offset: number; _protoInterpolation(): number };
  store: { bins: number[]; offset: number };
  negativeStore: { bins: number[]; offset: number };
  zeroCount: number;
}

/** The bytes `sketch.toProto()` gives, without its per-call module lookups. */
export function encodeSketch(sketch: DDSketch): Uint8Array {
  const s = sketch as unknown as SketchParts;
  const message = proto.DDSketch.create({
    mapping: proto.IndexMapping.create({
      gamma: s.mapping.gamma,
      indexOffset: s.mapping._offset,
      interpolation: s.mapping._protoInterpolation(),
    }),
    positiveValues: proto.Store.create({
      contiguousBinCounts: s.store.bins,
      contiguousBinIndexOffset: s.store.offset,
    }),
    negativeValues: proto.Store.create({
      contiguousBinCounts: s.negativeStore.bins,
      contiguousBinIndexOffset: s.negativeStore.offset,
    }),
    zeroCount: s.zeroCount,
  });
  return proto.DDSketch.encode(message).finish();
}
