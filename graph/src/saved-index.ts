import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { GraphIndex, newRelationsGraph } from './graph-index.ts';
import { compareForShortName, compareStrings, isCallable } from './internal/ref.ts';
import type { CallEdgeAttributes, CallKind, EdgeSource, NodeAttributes } from './types.ts';

/**
 * The built graph index saved to a file, so a command that asks one question (`portal path`, `portal
 * impact`) or a server starting up reads it instead of building it from every entity (1,261 entities at
 * 350 services, 140,000 at 35,000). It is a cache of one store generation: whoever reads it checks the
 * generation against the store's and builds afresh when they differ. Nothing is lost by deleting it.
 *
 * What is saved is the catalogue's part of the index: entities, their relations and the declared call
 * edges, as a fresh {@link buildGraphIndex} of the same entities would hold them. Observed edges (traffic)
 * are left out; their store merges them in after loading, as after a build.
 *
 * Loading is lazy where it can be. The call graph is read at once (integer arrays, no parsing). Each node's
 * attributes are JSON parsed the first time a query asks for that node. The graphology relations graph
 * and the API providers are made only when something asks for them (ownership, neighbourhood of a group,
 * export, a change); paths and the impact of a service never do.
 *
 * The file: one JSON header line (format, version, generation, counts, section table), then the sections
 * (little-endian Int32 arrays and UTF-8 text), with a CRC-32 of everything after the header in the header,
 * so a torn or edited file is refused as a whole rather than misread node by node.
 */
export const SAVED_INDEX_FORMAT = 'portal-graph-index';
/** Bumped when the file's shape or the index's meaning changes: an older file is then rebuilt, never misread. */
export const SAVED_INDEX_VERSION = 2;

/** Why a saved index could not be used. `missing` is normal (never written); the others are said. */
export type SavedIndexProblem = { kind: 'missing' } | { kind: 'corrupt' | 'old-format'; message: string };

export interface SavedIndex {
  /** The store generation the index was built from. */
  generation: number;
  index: GraphIndex;
}

interface Header {
  format: string;
  version: number;
  endianness: 'LE' | 'BE';
  generation: number;
  nodes: number;
  relationEdges: number;
  callNodes: number;
  callEdges: number;
  /** Distinct relation type lists (each sorted), referred to by index. */
  typeSets: string[][];
  /** name → [byte offset after the header line, byte length]. */
  sections: Record<string, [number, number]>;
  crc32: number;
}

const INT32_SECTIONS = [
  'byRef',
  'byName',
  'nodeOffsets',
  'relationSource',
  'relationTarget',
  'relationTypes',
  'callNode',
  'callOffsets',
  'callTargets',
  'callShape',
] as const;
const TEXT_SECTIONS = ['refs', 'nodeAttributes', 'callShapes'] as const;

/**
 * The catalogue's part of `index` (see above) as the bytes of a saved index. A node stays if an entity
 * defines it, a relation reaches it or a declared call edge does; call edges stay with their declared part.
 */
export function encodeGraphIndex(index: GraphIndex, generation: number): Buffer {
  const relations = index.relations;
  const calls = index.calls;
  const declaredDegree = (ref: string) => {
    let n = 0;
    calls.forEachOutEdge(ref, (a) => {
      if (a.kinds.length > 0) n++;
    });
    calls.forEachInEdge(ref, (a) => {
      if (a.kinds.length > 0) n++;
    });
    return n;
  };
  const callRefs: string[] = [];
  for (const ref of calls.nodes()) {
    const a = index.node(ref);
    if (a && ((a.present && isCallable(a.kind)) || declaredDegree(ref) > 0)) callRefs.push(ref);
  }
  callRefs.sort();
  const keptCalls = new Set(callRefs);

  const refs: string[] = [];
  const nodeIds = new Map<string, number>();
  const attributeLines: string[] = [];
  relations.forEachNode((ref, a) => {
    if (!a.present && relations.degree(ref) === 0 && !keptCalls.has(ref)) return;
    nodeIds.set(ref, refs.length);
    refs.push(ref);
    const { ref: _r, kind: _k, namespace: _ns, name: _n, ...rest } = a;
    attributeLines.push(JSON.stringify(rest));
  });
  const attributeParts = attributeLines.map((line) => Buffer.from(line));
  const nodeOffsets = new Int32Array(refs.length + 1);
  for (let i = 0; i < attributeParts.length; i++)
    nodeOffsets[i + 1] = nodeOffsets[i] + attributeParts[i].length;
  const nodeAttributes = Buffer.concat(attributeParts);

  const typeSets: string[][] = [];
  const typeSetIds = new Map<string, number>();
  const relationSource: number[] = [];
  const relationTarget: number[] = [];
  const relationTypes: number[] = [];
  relations.forEachEdge((_e, a, source, target) => {
    const key = a.types.join('\n');
    let t = typeSetIds.get(key);
    if (t === undefined) {
      t = typeSets.length;
      typeSets.push([...a.types]);
      typeSetIds.set(key, t);
    }
    relationSource.push(nodeIds.get(source) as number);
    relationTarget.push(nodeIds.get(target) as number);
    relationTypes.push(t);
  });

  const callIds = new Map(callRefs.map((ref, i) => [ref, i]));
  const shapes: [CallKind[], string[]][] = [];
  const shapeIds = new Map<string, number>();
  const callOffsets = new Int32Array(callRefs.length + 1);
  const callTargets: number[] = [];
  const callShape: number[] = [];
  callRefs.forEach((ref, i) => {
    calls.forEachOutEdge(ref, (a, _s, target) => {
      if (a.kinds.length === 0) return;
      const key = `${a.kinds.join(',')}\n${a.apis.join('\n')}`;
      let shape = shapeIds.get(key);
      if (shape === undefined) {
        shape = shapes.length;
        shapes.push([a.kinds, a.apis]);
        shapeIds.set(key, shape);
      }
      callTargets.push(callIds.get(target) as number);
      callShape.push(shape);
    });
    callOffsets[i + 1] = callTargets.length;
  });

  // Node ids in ref order and in short-name order (name, then as a short name prefers them): looking a node
  // or a name up is a binary search, with no table of 140,000 entries to make at load.
  const byRef = Int32Array.from(refs.keys()).sort((a, b) => compareStrings(refs[a], refs[b]));
  const names = refs.map(nameOf);
  const byName = Int32Array.from(refs.keys()).sort(
    (a, b) => compareStrings(names[a], names[b]) || compareForShortName(refs[a], refs[b]),
  );
  const sections: Record<string, Buffer> = {
    byRef: int32Bytes(byRef),
    byName: int32Bytes(byName),
    refs: Buffer.from(refs.join('\n')),
    nodeAttributes,
    callShapes: Buffer.from(JSON.stringify(shapes)),
    nodeOffsets: int32Bytes(nodeOffsets),
    relationSource: int32Bytes(Int32Array.from(relationSource)),
    relationTarget: int32Bytes(Int32Array.from(relationTarget)),
    relationTypes: int32Bytes(Int32Array.from(relationTypes)),
    callNode: int32Bytes(Int32Array.from(callRefs, (ref) => nodeIds.get(ref) as number)),
    callOffsets: int32Bytes(callOffsets),
    callTargets: int32Bytes(Int32Array.from(callTargets)),
    callShape: int32Bytes(Int32Array.from(callShape)),
  };
  // Int32 sections first, each at a multiple of 4 from the start of the body.
  const order = [...INT32_SECTIONS, ...TEXT_SECTIONS];
  const table: Record<string, [number, number]> = {};
  const parts: Buffer[] = [];
  let at = 0;
  for (const name of order) {
    const bytes = sections[name];
    table[name] = [at, bytes.length];
    parts.push(bytes);
    at += bytes.length;
  }
  const body = Buffer.concat(parts);
  const header: Header = {
    format: SAVED_INDEX_FORMAT,
    version: SAVED_INDEX_VERSION,
    endianness: endianness(),
    generation,
    nodes: refs.length,
    relationEdges: relationSource.length,
    callNodes: callRefs.length,
    callEdges: callTargets.length,
    typeSets,
    sections: table,
    crc32: crc32(body),
  };
  // The header line is padded so the body starts at a multiple of 8: the Int32 sections are then views of
  // the file's bytes, not copies.
  let line = JSON.stringify(header);
  const pad = (8 - ((Buffer.byteLength(line) + 1) % 8)) % 8;
  line += ' '.repeat(pad);
  return Buffer.concat([Buffer.from(`${line}\n`), body]);
}

function nameOf(ref: string): string {
  return ref.slice(ref.indexOf('/') + 1);
}

/** nameOf(a) compared with nameOf(b) as `<` and `>` compare strings, without making either name. */
export function compareNames(a: string, b: string): number {
  let i = a.indexOf('/') + 1;
  let j = b.indexOf('/') + 1;
  for (; i < a.length && j < b.length; i++, j++) {
    const d = a.charCodeAt(i) - b.charCodeAt(j);
    if (d !== 0) return d;
  }
  return a.length - i - (b.length - j);
}

/** The first position in `order` whose key is not below `key` (keys ascending along `order`). */
function lowerBound(order: Int32Array, keyAt: (id: number) => string, key: string): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyAt(order[mid]) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function int32Bytes(a: Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

class CorruptIndex extends Error {}

/** Reads a saved index; a file that is not one, or is damaged, is a problem to say, never half-read. */
export function decodeGraphIndex(bytes: Buffer): SavedIndex | SavedIndexProblem {
  try {
    return decode(bytes);
  } catch (err) {
    if (err instanceof CorruptIndex) return { kind: 'corrupt', message: err.message };
    if (err instanceof OldFormat) return { kind: 'old-format', message: err.message };
    return { kind: 'corrupt', message: `cannot be read (${(err as Error).message})` };
  }
}

class OldFormat extends Error {}

/** The header line, checked, and the body it describes (checksum verified). */
function readHeader(bytes: Buffer): { header: Header; body: Buffer } {
  const newline = bytes.indexOf(10);
  if (newline < 0) throw new CorruptIndex('has no header line');
  let header: Header;
  try {
    header = JSON.parse(bytes.toString('utf8', 0, newline));
  } catch {
    throw new CorruptIndex('has a header that is not JSON');
  }
  if (header === null || typeof header !== 'object' || header.format !== SAVED_INDEX_FORMAT)
    throw new CorruptIndex(`is not a saved graph index (no "format": "${SAVED_INDEX_FORMAT}")`);
  if (header.version !== SAVED_INDEX_VERSION)
    throw new OldFormat(
      `has format version ${JSON.stringify(header.version)}, this portal writes ${SAVED_INDEX_VERSION}`,
    );
  if (header.endianness !== endianness())
    throw new OldFormat(`was written on a ${header.endianness} machine, this one is ${endianness()}`);
  const body = bytes.subarray(newline + 1);
  if (crc32(body) !== header.crc32) throw new CorruptIndex('is damaged (its checksum does not match)');
  return { header, body };
}

function decode(bytes: Buffer): SavedIndex {
  const { header, body } = readHeader(bytes);
  const section = (name: string): Buffer => {
    const entry = header.sections?.[name];
    if (!Array.isArray(entry)) throw new CorruptIndex(`has no ${name} section`);
    const [at, length] = entry;
    if (
      !Number.isInteger(at) ||
      !Number.isInteger(length) ||
      at < 0 ||
      length < 0 ||
      at + length > body.length
    )
      throw new CorruptIndex(`has a ${name} section outside the file`);
    return body.subarray(at, at + length);
  };
  const ints = (name: string, count: number, below: number): Int32Array => {
    const b = section(name);
    if (b.length !== count * 4) throw new CorruptIndex(`has a ${name} section of the wrong size`);
    const array =
      b.byteOffset % 4 === 0
        ? new Int32Array(b.buffer, b.byteOffset, count)
        : new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    for (let i = 0; i < count; i++)
      if (!(array[i] >= 0 && array[i] <= below)) throw new CorruptIndex(`has ${name}[${i}] out of range`);
    return array;
  };

  const n = header.nodes;
  const refs = n === 0 ? [] : section('refs').toString('utf8').split('\n');
  if (refs.length !== n) throw new CorruptIndex(`lists ${refs.length} refs for ${n} nodes`);
  const attributeBytes = section('nodeAttributes');
  const nodeOffsets = ints('nodeOffsets', n + 1, attributeBytes.length);
  const relationSource = ints('relationSource', header.relationEdges, n - 1);
  const relationTarget = ints('relationTarget', header.relationEdges, n - 1);
  const typeSets = header.typeSets;
  if (!Array.isArray(typeSets) || typeSets.some((t) => !Array.isArray(t)))
    throw new CorruptIndex('has no relation type lists');
  const relationTypes = ints('relationTypes', header.relationEdges, typeSets.length - 1);
  const c = header.callNodes;
  const callNode = ints('callNode', c, n - 1);
  const callOffsets = ints('callOffsets', c + 1, header.callEdges);
  const callTargets = ints('callTargets', header.callEdges, c - 1);
  let shapes: [CallKind[], string[]][];
  try {
    shapes = JSON.parse(section('callShapes').toString('utf8'));
  } catch {
    throw new CorruptIndex('has call edge shapes that are not JSON');
  }
  const callShape = ints('callShape', header.callEdges, shapes.length - 1);
  for (let i = 0; i < c; i++) {
    if (callOffsets[i] > callOffsets[i + 1]) throw new CorruptIndex('has call edges out of order');
    for (let e = callOffsets[i] + 1; e < callOffsets[i + 1]; e++)
      if (callTargets[e - 1] >= callTargets[e]) throw new CorruptIndex('has call edges out of order');
  }

  const byRef = ints('byRef', n, n - 1);
  const byName = ints('byName', n, n - 1);
  const refAt = (i: number) => refs[i];
  const nameAt = (i: number) => nameOf(refs[i]);
  for (let i = 1; i < n; i++) {
    if (!(refs[byRef[i - 1]] < refs[byRef[i]])) throw new CorruptIndex('has refs out of order');
    if (compareNames(refs[byName[i - 1]], refs[byName[i]]) > 0)
      throw new CorruptIndex('has names out of order');
  }
  const nodeId = (ref: string): number | undefined => {
    const at = lowerBound(byRef, refAt, ref);
    return at < n && refs[byRef[at]] === ref ? byRef[at] : undefined;
  };
  const named = (name: string): string[] => {
    const out: string[] = [];
    for (let at = lowerBound(byName, nameAt, name); at < n && nameAt(byName[at]) === name; at++)
      out.push(refs[byName[at]]);
    return out;
  };
  const parsed: (NodeAttributes | undefined)[] = [];
  const attributesAt = (i: number): NodeAttributes => {
    let a = parsed[i];
    if (a === undefined) {
      const ref = refs[i];
      const colon = ref.indexOf(':');
      const slash = ref.indexOf('/', colon + 1);
      // Key order as a build makes them (ref, kind, namespace, name, present, …).
      a = {
        ref,
        kind: ref.slice(0, colon),
        namespace: ref.slice(colon + 1, slash),
        name: ref.slice(slash + 1),
        ...JSON.parse(attributeBytes.toString('utf8', nodeOffsets[i], nodeOffsets[i + 1])),
      } as NodeAttributes;
      parsed[i] = a;
    }
    return a;
  };

  const index = new GraphIndex({
    node(ref) {
      const i = nodeId(ref);
      return i === undefined ? undefined : attributesAt(i);
    },
    named,
    names() {
      const all = new Map<string, string[]>();
      for (let at = 0; at < n; at++) {
        const ref = refs[byName[at]];
        const name = nameOf(ref);
        const list = all.get(name);
        if (list) list.push(ref);
        else all.set(name, [ref]);
      }
      return all;
    },
    *make() {
      const graph = newRelationsGraph();
      for (let i = 0; i < n; i++) {
        graph.addNode(refs[i], attributesAt(i));
        if (i % MAKE_STEP === MAKE_STEP - 1) yield;
      }
      const apiProviders = new Map<string, Set<string>>();
      for (let e = 0; e < relationSource.length; e++) {
        const source = refs[relationSource[e]];
        const target = refs[relationTarget[e]];
        const types = typeSets[relationTypes[e]];
        graph.addDirectedEdgeWithKey(`${e}`, source, target, { types: [...types] });
        if (types.includes('providesApi')) {
          const providers = apiProviders.get(target);
          if (providers) providers.add(source);
          else apiProviders.set(target, new Set([source]));
        }
        if (e % MAKE_STEP === MAKE_STEP - 1) yield;
      }
      return { relations: graph, apiProviders, nextEdgeKey: relationSource.length };
    },
  });

  const callRefs = Array.from(callNode, (i) => refs[i]);
  const shapeAttributes = shapes.map(
    ([kinds, apis]): CallEdgeAttributes => ({ kinds, apis, sources: DECLARED_ONLY }),
  );
  try {
    index.calls.restore(callRefs, callOffsets, callTargets, (e) => shapeAttributes[callShape[e]]);
  } catch (err) {
    throw new CorruptIndex((err as Error).message);
  }
  index.version = 1;
  return { generation: header.generation, index };
}

// Every saved call edge is declared.
const DECLARED_ONLY: EdgeSource[] = ['declared'];
/** Nodes or edges added between the points where making the relations graph may pause (see make()). */
const MAKE_STEP = 2000;

/** Written to a temporary file and renamed over the old one: a reader sees the old file or the new, whole. */
export function writeGraphIndexFile(file: string, index: GraphIndex, generation: number): void {
  const bytes = encodeGraphIndex(index, generation);
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export function readGraphIndexFile(file: string): SavedIndex | SavedIndexProblem {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'corrupt', message: `cannot be read (${(err as Error).message})` };
  }
  return decodeGraphIndex(bytes);
}

export function isSavedIndex(s: SavedIndex | SavedIndexProblem): s is SavedIndex {
  return !('kind' in s);
}
