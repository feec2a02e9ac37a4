import jsYaml from 'js-yaml';
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, visit } from 'yaml';

/** Where a problem is: 1-based line and column, as editors show them. */
export interface Position {
  line: number;
  column: number;
}

export interface ParsedDocument {
  /** The document as plain data (never with prototype-polluting keys). */
  data: unknown;
  /** Position of the document's start. */
  position: Position;
  /** Position of the node at `path`, or of its deepest existing ancestor. */
  positionOf(path: readonly (string | number)[]): Position;
}

export interface ParseProblem extends Position {
  message: string;
}

export interface ParsedFile {
  documents: ParsedDocument[];
  problems: ParseProblem[];
}

/**
 * Descriptor files are small; the largest honest ones are org charts (about 4 MB for 18,000 people).
 * Anything over this is a mistake or an attack.
 */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;
/** Enough for any honest descriptor; an alias bomb needs thousands. */
export const MAX_ALIAS_COUNT = 50;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAYBE_FORBIDDEN = /__proto__|constructor|prototype/;

/**
 * Parse a catalog-info.yaml (multi-document) into plain data with positions. Never throws: every problem
 * comes back with a line and column, and good documents in the same file are still returned.
 */
export function parseDescriptor(bytes: Uint8Array): ParsedFile {
  if (bytes.byteLength > MAX_FILE_BYTES) {
    return {
      documents: [],
      problems: [
        {
          line: 1,
          column: 1,
          message: `File is ${(bytes.byteLength / 1024 / 1024).toFixed(1)} MB; descriptor files are limited to ${MAX_FILE_BYTES / 1024 / 1024} MB. Split it, or point a Location at smaller files`,
        },
      ],
    };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    return {
      documents: [],
      problems: [{ ...at, message: 'File is not valid UTF-8 text; save it as UTF-8' }],
    };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return (!NEEDS_CAREFUL_PARSE.test(text) && fastParse(text)) || carefulParse(text);
}

/**
 * Anything that could make a document bigger than its text (anchors, aliases, merge keys), tags, or keys
 * that touch prototypes goes to the careful parser, which limits and reports them. So do files that the
 * fast parser rejects.
 */
const NEEDS_CAREFUL_PARSE = /(^|[\s[{,:-])[&*!][^\s]|<<|__proto__|constructor|prototype/m;

/**
 * The common case, about five times faster: js-yaml (YAML 1.2 core schema, so no dates or custom types) for
 * the data; the start line of each document from a scan of `---` markers; exact positions of fields only
 * when a problem needs one (the careful parse, done then).
 */
function fastParse(text: string): ParsedFile | undefined {
  let docs: unknown[];
  try {
    docs = jsYaml.loadAll(text, undefined, { schema: jsYaml.CORE_SCHEMA, json: false });
  } catch {
    return undefined;
  }
  const nonEmpty = docs.filter((d) => d !== null && d !== undefined);
  const starts = documentStarts(text);
  if (starts.length !== nonEmpty.length) return undefined;
  let careful: ParsedFile | undefined;
  const documents: ParsedDocument[] = nonEmpty.map((data, index) => ({
    data,
    position: starts[index],
    positionOf: (path) => {
      careful ??= carefulParse(text);
      const doc = careful.documents.length === nonEmpty.length ? careful.documents[index] : undefined;
      return doc ? doc.positionOf(path) : starts[index];
    },
  }));
  return { documents, problems: [] };
}

/** Where each non-empty document's content starts: its first line that is not blank, a comment or a marker. */
function documentStarts(text: string): Position[] {
  const lines = text.split('\n');
  const starts: Position[] = [];
  let hasContent = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^---(\s|$)/.test(line)) {
      hasContent = false;
      const rest = line.slice(3).trim();
      if (rest && !rest.startsWith('#')) {
        starts.push({ line: i + 1, column: 5 });
        hasContent = true;
      }
      continue;
    }
    if (/^\.\.\.(\s|$)/.test(line) || line.startsWith('%')) continue;
    const trimmed = line.trimStart();
    if (hasContent || trimmed === '' || trimmed.startsWith('#')) continue;
    starts.push({ line: i + 1, column: line.length - trimmed.length + 1 });
    hasContent = true;
  }
  return starts;
}

/** What to do about the YAML errors people make most in descriptors (by the yaml package's error code). */
const YAML_HINTS: Partial<Record<string, string>> = {
  TAB_AS_INDENT: '; indent with spaces',
  BAD_INDENT: '; check the indentation of this line against the lines above it',
  BLOCK_AS_IMPLICIT_KEY: "; a value containing ': ' must be quoted, or this line's indentation is off",
  MULTILINE_IMPLICIT_KEY:
    "; a key needs ': ' after it on the same line (check for a missing ':' or a stray quote)",
  MISSING_CHAR: '; a quote or bracket is not closed',
  DUPLICATE_KEY: '; each key may appear once',
};

function carefulParse(text: string): ParsedFile {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: false });
  const docList = Array.isArray(docs) ? docs : [];
  const problems: ParseProblem[] = [];
  const documents: ParsedDocument[] = [];
  const pos = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line, column: col };
  };
  for (const doc of docList) {
    if (doc.errors.length > 0) {
      // One mistake (a tab, a misindented line) makes the parser report every line after it; the first
      // error is the one to fix, so it is the one reported, with how many followed it.
      const first = [...doc.errors].sort((a, b) => a.pos[0] - b.pos[0])[0];
      const more = doc.errors.length - 1;
      const hint = YAML_HINTS[first.code] ?? '';
      problems.push({
        ...pos(first.pos[0]),
        message: `Malformed YAML: ${firstLine(first.message)}${hint}${more ? ` (${more} more ${more === 1 ? 'error follows' : 'errors follow'} in this document, most likely from this one)` : ''}`,
      });
      continue;
    }
    if (doc.contents === null) continue; // an empty document (e.g. a trailing `---`)
    // Walking the tree costs; only do it when the text could hold such a key at all.
    const forbidden = MAYBE_FORBIDDEN.test(text) ? findForbiddenKey(doc) : undefined;
    if (forbidden) {
      problems.push({
        ...pos(forbidden.offset),
        message: `Key "${forbidden.key}" is not allowed in a descriptor (it could alter object prototypes); rename or remove it`,
      });
      continue;
    }
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      problems.push({
        ...pos(doc.range[0]),
        message: /alias/i.test(message)
          ? `Too many YAML aliases (more than ${MAX_ALIAS_COUNT} expansions): the document looks like an alias bomb and was not read`
          : `Malformed YAML: ${firstLine(message)}`,
      });
      continue;
    }
    documents.push({
      data,
      position: pos(doc.contents?.range?.[0] ?? doc.range[0]),
      positionOf: (path) => pos(offsetOf(doc, path)),
    });
  }
  return { documents, problems };
}

function offsetOf(doc: Document.Parsed, path: readonly (string | number)[]): number {
  let node: unknown = doc.contents;
  let best = doc.contents?.range?.[0] ?? doc.range[0];
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) break;
      const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
      if (keyRange) best = keyRange[0];
      node = pair.value;
      const valueRange = (node as { range?: [number, number, number] } | null)?.range;
      if (valueRange && !isMap(node) && !isSeq(node)) best = valueRange[0];
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as { range?: [number, number, number] } | undefined;
      if (!item) break;
      if (item.range) best = item.range[0];
      node = item;
    } else {
      break;
    }
  }
  return best;
}

function findForbiddenKey(doc: Document.Parsed): { key: string; offset: number } | undefined {
  let found: { key: string; offset: number } | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (isPair(pair) && isScalar(pair.key) && FORBIDDEN_KEYS.has(String(pair.key.value))) {
        found = { key: String(pair.key.value), offset: pair.key.range?.[0] ?? 0 };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function firstInvalidUtf8(bytes: Uint8Array): Position {
  let line = 1;
  let lineStart = 0;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const len = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0;
    if (len === 0) break;
    try {
      decoder.decode(bytes.subarray(i, i + len));
    } catch {
      break;
    }
    if (b === 0x0a) {
      line++;
      lineStart = i + 1;
    }
    i += len;
  }
  return { line, column: i - lineStart + 1 };
}

function firstLine(message: string): string {
  return message.split('\n')[0].trim();
}
