/**
 * Rendering: template.yaml values (`${{ … }}` in strings) and skeleton files (the same expressions plus
 * Nunjucks' `{% for %}`, `{% if %}`, `{% set %}`, `{% raw %}` tags and `{# comments #}`). One pass over
 * the template's own text: what an expression returns is inserted as data and never scanned again.
 */
import {
  ExpressionError,
  evaluate,
  jsTruthy,
  type Node,
  Parser,
  parseExpression,
  SyntaxProblem,
  typeName,
} from './expression.ts';
import { dataEntries, toJson } from './filters.ts';

const OPEN = '${{';
const MAX_OUTPUT = 2 << 20;
const MAX_ITERATIONS = 10_000;
/** How deeply blocks may nest in one file. */
const MAX_BLOCK_DEPTH = 50;

export type Scope = Readonly<Record<string, unknown>>;

/** Find the `}}` that closes an expression opened at `from` (after `${{`), skipping quoted strings. */
function closeOf(s: string, from: number, close = '}}'): number {
  let quote = '';
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (s.startsWith(close, i)) return i;
  }
  return -1;
}

/** Line and column (1-based) of an offset. */
function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let j = 0; j < offset && j < text.length; j++) {
    if (text.charCodeAt(j) === 10) {
      line++;
      lineStart = j + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** `line 3, column 14` in a file or a multi-line value, `column 14` in a one-line value. */
function where(text: string, offset: number, file = true): string {
  const p = positionOf(text, offset);
  return file || text.includes('\n') ? `line ${p.line}, column ${p.column}` : `column ${p.column}`;
}

export function toText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return toJson(v);
}

const cache = new Map<string, Node>();
function parseCached(src: string): Node {
  let n = cache.get(src);
  if (!n) {
    const p = Parser.of(src);
    n = p.expression();
    p.end();
    if (cache.size > 5000) cache.clear();
    cache.set(src, n);
  }
  return n;
}

const compiledCache = new Map<string, CompiledTemplate>();
function compileCached(s: string, field: string): CompiledTemplate {
  const key = `${field}\u0000${s}`;
  let c = compiledCache.get(key);
  if (!c) {
    c = compileTemplate(s, field, { value: true });
    if (compiledCache.size > 2000) compiledCache.clear();
    compiledCache.set(key, c);
  }
  return c;
}

/** True when a template.yaml string needs the template compiler (block tags or comments). */
const hasBlocks = (s: string): boolean => s.includes('{%') || s.includes('{#');

/** The one expression a string consists of, exactly (`${{ x }}`), whose result keeps its type. */
function loneExpression(s: string): { src: string; offset: number } | undefined {
  if (!s.startsWith(OPEN) || !s.endsWith('}}')) return undefined;
  const end = closeOf(s, OPEN.length);
  if (end !== s.length - 2) return undefined;
  const inner = s.slice(OPEN.length, end);
  if (inner.startsWith('-') || inner.endsWith('-')) return undefined;
  return { src: inner, offset: OPEN.length };
}

/**
 * Render one string from template.yaml. Exactly one expression keeps its type (`${{ parameters.replicas }}`
 * stays a number); anything else (text, several expressions, `{% if %}` blocks) renders to a string.
 */
export function renderString(s: string, scope: Scope, field: string): unknown {
  if (!s.includes(OPEN) && !hasBlocks(s)) return s;
  const lone = hasBlocks(s) ? undefined : loneExpression(s);
  if (lone) {
    let node: Node;
    try {
      node = parseCached(lone.src);
    } catch (err) {
      throw new ExpressionError(syntaxMessage(err, s, lone.offset), field);
    }
    try {
      return evaluate(node, scope);
    } catch (err) {
      throw new ExpressionError((err as Error).message, field);
    }
  }
  return renderTemplate(compileCached(s, field), scope);
}

function syntaxMessage(err: unknown, text: string, base: number): string {
  if (err instanceof SyntaxProblem) return `${where(text, base + err.offset, false)}: ${err.message}`;
  return (err as Error).message;
}

/** Render every string inside a value (objects, arrays); keys whose value renders to undefined are left out. */
export function renderValue(v: unknown, scope: Scope, field: string): unknown {
  if (typeof v === 'string') return renderString(v, scope, field);
  if (Array.isArray(v)) return v.map((x, i) => renderValue(x, scope, `${field}[${i}]`));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const r = renderValue(x, scope, field ? `${field}.${k}` : k);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return v;
}

/** Parse every expression inside a value (without evaluating): template validation names the field. */
export function checkExpressions(v: unknown, field: string): void {
  if (typeof v === 'string') {
    if (v.includes(OPEN) || hasBlocks(v)) compileCached(v, field);
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => {
      checkExpressions(x, `${field}[${i}]`);
    });
  } else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) checkExpressions(x, `${field}.${k}`);
}

/** True when a string contains template syntax of any flavour (used to refuse it in parameter values). */
export function hasTemplateSyntax(s: string): string | undefined {
  for (const marker of ['${{', '{{', '{%', '{#']) if (s.includes(marker)) return marker;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Templates (skeleton files, and template.yaml strings with blocks)

type TNode =
  | { t: 'text'; v: string }
  | { t: 'expr'; node: Node; at: number }
  | { t: 'set'; name: string; value: Node; at: number }
  | { t: 'for'; names: string[]; iter: Node; body: TNode[]; empty: TNode[]; at: number }
  | { t: 'if'; branches: { cond: Node | undefined; body: TNode[]; at: number }[]; at: number };

export interface CompiledTemplate {
  nodes: TNode[];
  file: string;
  /** The source, for line and column in errors. */
  text: string;
  /** A template.yaml value rather than a file: a one-line value's errors name the column only. */
  value: boolean;
}

interface Tag {
  kind: 'expr' | 'block' | 'comment';
  start: number;
  end: number;
  /** The code between the delimiters and trim markers, and where it starts. */
  inner: string;
  innerAt: number;
  trimLeft: boolean;
  trimRight: boolean;
}

const ENDRAW = /\{%-?\s*endraw\s*-?%\}/g;

function scanTags(text: string): Tag[] {
  const tags: Tag[] = [];
  let i = 0;
  const fail = (m: string, at: number): never => {
    throw new SyntaxProblem(m, at);
  };
  while (i < text.length) {
    const e = text.indexOf(OPEN, i);
    const b = text.indexOf('{%', i);
    const c = text.indexOf('{#', i);
    const next = [e, b, c].filter((x) => x !== -1);
    if (next.length === 0) break;
    const at = Math.min(...next);
    if (at === c) {
      const end = text.indexOf('#}', at + 2);
      if (end === -1) fail('"{#" is never closed with "#}"', at);
      const trimLeft = text[at + 2] === '-';
      const trimRight = text[end - 1] === '-' && end - 1 > at + 2;
      tags.push({ kind: 'comment', start: at, end: end + 2, inner: '', innerAt: at, trimLeft, trimRight });
      i = end + 2;
      continue;
    }
    const isExpr = at === e;
    const openLen = isExpr ? 3 : 2;
    const close = isExpr ? '}}' : '%}';
    const trimLeft = text[at + openLen] === '-';
    const innerAt = at + openLen + (trimLeft ? 1 : 0);
    const end = closeOf(text, innerAt, close);
    if (end === -1) fail(`"${isExpr ? OPEN : '{%'}" is never closed with "${close}"`, at);
    const trimRight = text[end - 1] === '-' && end - 1 >= innerAt;
    const inner = text.slice(innerAt, trimRight ? end - 1 : end);
    tags.push({
      kind: isExpr ? 'expr' : 'block',
      start: at,
      end: end + 2,
      inner,
      innerAt,
      trimLeft,
      trimRight,
    });
    i = end + 2;
    if (!isExpr && /^\s*raw\s*$/.test(inner)) {
      // Everything up to {% endraw %} is text, tags included.
      ENDRAW.lastIndex = i;
      const m = ENDRAW.exec(text);
      if (!m) throw new SyntaxProblem('"raw" is never closed with "{% endraw %}"', at);
      const s = m.index;
      const endInner = m[0].slice(2, -2);
      tags.push({
        kind: 'block',
        start: s,
        end: s + m[0].length,
        inner: endInner.replace(/^-/, '').replace(/-$/, ''),
        innerAt: s + 2,
        trimLeft: endInner.startsWith('-'),
        trimRight: endInner.endsWith('-'),
      });
      i = s + m[0].length;
    }
  }
  return tags;
}

/**
 * Compile a template. A block tag (`{% … %}` or `{# … #}`) alone on its line takes the whole line with
 * it (Jinja's trim_blocks + lstrip_blocks), so loops do not leave blank lines; `{%-`, `-%}`, `${{-` and
 * `-}}` trim whitespace as in Nunjucks (and a tag carrying them is left to them).
 */
export function compileTemplate(
  text: string,
  file: string,
  opts: { value?: boolean } = {},
): CompiledTemplate {
  const value = opts.value === true;
  try {
    return compile(text, file, value);
  } catch (err) {
    if (err instanceof SyntaxProblem) {
      throw new ExpressionError(`${where(text, err.offset, !value)}: ${err.message}`, file);
    }
    throw err;
  }
}

function compile(text: string, file: string, value: boolean): CompiledTemplate {
  const tags = scanTags(text);
  takeWholeLines(text, tags);
  const blocks = new Blocks();
  let at = 0;
  let trimNext = false;
  for (const tag of tags) {
    let before = text.slice(at, tag.start);
    if (trimNext) before = before.replace(/^\s+/, '');
    if (tag.trimLeft) before = before.replace(/\s+$/, '');
    trimNext = tag.trimRight;
    if (before) blocks.current().push({ t: 'text', v: before });
    at = tag.end;
    if (tag.kind === 'comment') continue;
    // Problems inside a tag are reported at their place in the file.
    try {
      if (tag.kind === 'expr')
        blocks.current().push({ t: 'expr', node: parseCached(tag.inner), at: tag.innerAt });
      else blocks.tag(Parser.of(tag.inner), tag.start);
    } catch (err) {
      if (err instanceof SyntaxProblem) throw new SyntaxProblem(err.message, tag.innerAt + err.offset);
      throw err;
    }
  }
  blocks.assertClosed();
  let tail = text.slice(at);
  if (trimNext) tail = tail.replace(/^\s+/, '');
  if (tail) blocks.root.push({ t: 'text', v: tail });
  return { nodes: blocks.root, file, text, value };
}

/**
 * A block tag (not an expression, not trimmed by markers) alone on its line takes the whole line, newline
 * included, unless another tag shares the line.
 */
function takeWholeLines(text: string, tags: Tag[]): void {
  for (const tag of tags) {
    if (tag.kind === 'expr' || tag.trimLeft || tag.trimRight) continue;
    const lineStart = text.lastIndexOf('\n', tag.start - 1) + 1;
    const nl = text.indexOf('\n', tag.end);
    const lineEnd = nl === -1 ? text.length : nl + 1;
    if (
      /^[ \t]*$/.test(text.slice(lineStart, tag.start)) &&
      /^[ \t]*\r?\n?$/.test(text.slice(tag.end, lineEnd))
    ) {
      const overlaps = tags.some((o) => o !== tag && o.start < lineEnd && o.end > lineStart);
      if (!overlaps) {
        tag.start = lineStart;
        tag.end = lineEnd;
      }
    }
  }
}

/** A block still open while compiling, and the body its next nodes go into. */
type Open =
  | { tag: 'for'; node: TNode & { t: 'for' }; body: TNode[] }
  | { tag: 'if'; node: TNode & { t: 'if' }; body: TNode[]; hadElse: boolean }
  | { tag: 'raw'; at: number };

/** The tree being built from block tags: the open blocks, innermost last. */
class Blocks {
  readonly root: TNode[] = [];
  private readonly stack: Open[] = [];

  /** Where text and expressions go now: the innermost open block's body (raw blocks hold none). */
  current(): TNode[] {
    for (let k = this.stack.length - 1; k >= 0; k--) {
      const o = this.stack[k];
      if (o.tag !== 'raw') return o.body;
    }
    return this.root;
  }

  /** One `{% … %}` tag; `at` is where it starts in the text. Offsets in errors are within the tag. */
  tag(p: Parser, at: number): void {
    const word = p.peek();
    if (word?.k !== 'name') p.fail('expected a tag name, e.g. "if", "for", "set"', 0);
    p.pos++;
    const w = word.v;
    const o: Open | undefined = this.stack[this.stack.length - 1];
    if (o?.tag === 'raw' && w !== 'endraw') return;
    switch (w) {
      case 'for':
        this.openFor(p, at);
        return;
      case 'if':
        this.openIf(p, at);
        return;
      case 'elif':
      case 'elseif':
        this.elseIf(p, w, o, at);
        return;
      case 'else':
        this.elseBranch(p, o, at);
        return;
      case 'endif':
      case 'endfor': {
        p.end();
        const want = w === 'endif' ? 'if' : 'for';
        if (o?.tag !== want) {
          p.fail(`"${w}" without an open "${want}"${o ? ` (the open block is "${o.tag}")` : ''}`, 0);
        }
        this.stack.pop();
        return;
      }
      case 'set': {
        const name = p.identifier();
        if (!p.isOp('='))
          p.fail(`expected "=" but found ${p.describe()} (block "set … endset" is not supported)`);
        p.pos++;
        const value = p.expression();
        p.end();
        this.current().push({ t: 'set', name, value, at });
        return;
      }
      case 'raw':
        this.stack.push({ tag: 'raw', at });
        return;
      case 'endraw':
        if (o?.tag !== 'raw') p.fail('"endraw" without an open "raw"', 0);
        this.stack.pop();
        return;
      default:
        p.fail(
          `unknown tag "${w}"; the tags are for/else/endfor, if/elif/else/endif, set, raw/endraw (no include, import, extends, macro or call: a template reads data, nothing else)`,
          0,
        );
    }
  }

  /** Fails naming the first block left open at the end of the text. */
  assertClosed(): void {
    const open = this.stack[this.stack.length - 1];
    if (open) {
      throw new SyntaxProblem(`"${open.tag}" is never closed`, open.tag === 'raw' ? open.at : open.node.at);
    }
  }

  private openFor(p: Parser, at: number): void {
    const names = [p.identifier()];
    while (p.isOp(',')) {
      p.pos++;
      names.push(p.identifier());
    }
    if (!p.isWord('in')) p.fail(`expected "in" but found ${p.describe()}`);
    p.pos++;
    const iter = p.expression();
    p.end();
    const node: TNode & { t: 'for' } = { t: 'for', names, iter, body: [], empty: [], at };
    this.current().push(node);
    this.nest(p);
    this.stack.push({ tag: 'for', node, body: node.body });
  }

  private openIf(p: Parser, at: number): void {
    const cond = p.expression();
    p.end();
    const node: TNode & { t: 'if' } = { t: 'if', branches: [{ cond, body: [], at }], at };
    this.current().push(node);
    this.nest(p);
    this.stack.push({ tag: 'if', node, body: node.branches[0].body, hadElse: false });
  }

  private nest(p: Parser): void {
    if (this.stack.length >= MAX_BLOCK_DEPTH)
      p.fail(`blocks are nested more than ${MAX_BLOCK_DEPTH} deep`, 0);
  }

  private elseIf(p: Parser, w: string, o: Open | undefined, at: number): void {
    if (o?.tag !== 'if') p.fail(`"${w}" without an open "if"`, 0);
    if (o.hadElse) p.fail(`"${w}" after "else"`, 0);
    const cond = p.expression();
    p.end();
    const branch = { cond, body: [] as TNode[], at };
    o.node.branches.push(branch);
    o.body = branch.body;
  }

  /** `else` of an `if`, or the `else` of a `for` (its body when the list is empty). */
  private elseBranch(p: Parser, o: Open | undefined, at: number): void {
    p.end();
    if (o?.tag === 'if') {
      if (o.hadElse) p.fail('two "else" in one "if"', 0);
      const branch = { cond: undefined, body: [] as TNode[], at };
      o.node.branches.push(branch);
      o.body = branch.body;
      o.hadElse = true;
    } else if (o?.tag === 'for') {
      if (o.body === o.node.empty) p.fail('two "else" in one "for"', 0);
      o.body = o.node.empty;
    } else p.fail('"else" without an open "if" or "for"', 0);
  }
}

export function renderTemplate(tpl: CompiledTemplate, scope: Scope): string {
  const budget = { iterations: 0, size: 0 };
  const out: string[] = [];
  const emit = (s: string) => {
    budget.size += s.length;
    if (budget.size > MAX_OUTPUT) throw new Error(`rendered text is larger than ${MAX_OUTPUT} characters`);
    out.push(s);
  };
  const fail = (at: number, err: unknown): never => {
    if (err instanceof Located) throw err;
    throw new Located(`${where(tpl.text, at, !tpl.value)}: ${(err as Error).message}`);
  };
  const ev = (node: Node, sc: Scope, at: number): unknown => {
    try {
      return evaluate(node, sc);
    } catch (err) {
      return fail(at, err);
    }
  };
  const run = (nodes: TNode[], sc: Record<string, unknown>) => {
    for (const n of nodes) {
      if (n.t === 'text') emit(n.v);
      else if (n.t === 'expr') emit(toText(ev(n.node, sc, n.at)));
      else if (n.t === 'set') sc[n.name] = ev(n.value, sc, n.at);
      else if (n.t === 'if') {
        for (const b of n.branches) {
          if (b.cond === undefined || jsTruthy(ev(b.cond, sc, b.at))) {
            run(b.body, sc);
            break;
          }
        }
      } else {
        const items = ev(n.iter, sc, n.at);
        const rows = loopRows(items, n.names.length, (m) => fail(n.at, new Error(m)));
        if (rows.length === 0) {
          run(n.empty, sc);
          continue;
        }
        rows.forEach((row, i) => {
          if (++budget.iterations > MAX_ITERATIONS)
            fail(n.at, new Error(`more than ${MAX_ITERATIONS} loop iterations`));
          const loop = {
            index: i + 1,
            index0: i,
            revindex: rows.length - i,
            revindex0: rows.length - i - 1,
            first: i === 0,
            last: i === rows.length - 1,
            length: rows.length,
          };
          // Each iteration has its own frame: a `set` inside the loop stays inside it (as in Jinja).
          const frame: Record<string, unknown> = { ...sc, loop };
          n.names.forEach((name, k) => {
            frame[name] = row[k];
          });
          run(n.body, frame);
        });
      }
    }
  };
  try {
    run(tpl.nodes, { ...scope });
  } catch (err) {
    throw new ExpressionError((err as Error).message, tpl.file);
  }
  return out.join('');
}

class Located extends Error {}

/** The values each iteration binds: one per loop variable. */
function loopRows(items: unknown, vars: number, fail: (m: string) => never): unknown[][] {
  if (items === undefined || items === null) return [];
  if (typeof items === 'string')
    return vars === 1
      ? [...items].map((c) => [c])
      : fail('cannot unpack the characters of a string into several variables');
  if (Array.isArray(items)) {
    if (vars === 1) return items.map((x) => [x]);
    return items.map((x) =>
      Array.isArray(x)
        ? x.slice(0, vars)
        : fail(
            `"for" with ${vars} variables needs a list of lists or a mapping, found a list of ${typeName(x).replace(/^an? /, '')}s`,
          ),
    );
  }
  if (typeof items === 'object') {
    const proto = Object.getPrototypeOf(items);
    if (proto !== Object.prototype && proto !== null)
      fail(`"for" needs a list or a mapping, found ${typeName(items)}`);
    if (vars !== 2) fail('"for" over a mapping needs two variables: {% for key, value in mapping %}');
    return dataEntries(items);
  }
  return fail(`"for" needs a list or a mapping, found ${typeName(items)}`);
}

export { parseExpression };
