/**
 * Rendering: template.yaml values (`${{ … }}` in strings) and skeleton files (the same expressions plus
 * `{% for %}` / `{% if %}` blocks and `{# comments #}`). One pass over the template's own text: what an
 * expression returns is inserted as data and never scanned again.
 */
import { ExpressionError, evaluate, type Node, parseExpression, truthy } from './expression.ts';

const OPEN = '${{';
const MAX_OUTPUT = 2 << 20;
const MAX_ITERATIONS = 10_000;

export type Scope = Readonly<Record<string, unknown>>;

interface Piece {
  start: number;
  end: number;
  src: string;
}

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

function expressionsIn(s: string): Piece[] {
  const out: Piece[] = [];
  let i = s.indexOf(OPEN);
  while (i !== -1) {
    const end = closeOf(s, i + OPEN.length);
    if (end === -1) throw new Error(`"\${{" at column ${i + 1} is never closed with "}}"`);
    out.push({ start: i, end: end + 2, src: s.slice(i + OPEN.length, end) });
    i = s.indexOf(OPEN, end + 2);
  }
  return out;
}

export function toText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

const cache = new Map<string, Node>();
function parseCached(src: string): Node {
  let n = cache.get(src);
  if (!n) {
    n = parseExpression(src);
    if (cache.size > 5000) cache.clear();
    cache.set(src, n);
  }
  return n;
}

/**
 * Render one string from template.yaml. Exactly one expression keeps its type (`${{ parameters.replicas }}`
 * stays a number); anything else is interpolated into a string.
 */
export function renderString(s: string, scope: Scope, field: string): unknown {
  let pieces: Piece[];
  try {
    pieces = expressionsIn(s);
  } catch (err) {
    throw new ExpressionError((err as Error).message, field);
  }
  if (pieces.length === 0) return s;
  try {
    if (pieces.length === 1 && pieces[0].start === 0 && pieces[0].end === s.length) {
      return evaluate(parseCached(pieces[0].src.trim()), scope);
    }
    let out = '';
    let at = 0;
    for (const p of pieces) {
      out += s.slice(at, p.start) + toText(evaluate(parseCached(p.src.trim()), scope));
      at = p.end;
      if (out.length > MAX_OUTPUT) throw new Error(`rendered value is longer than ${MAX_OUTPUT} characters`);
    }
    return out + s.slice(at);
  } catch (err) {
    if (err instanceof ExpressionError) throw err;
    throw new ExpressionError((err as Error).message, field);
  }
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
    try {
      for (const p of expressionsIn(v)) parseCached(p.src.trim());
    } catch (err) {
      throw new ExpressionError((err as Error).message, field);
    }
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
// Skeleton files

type TNode =
  | { t: 'text'; v: string }
  | { t: 'expr'; node: Node; line: number }
  | { t: 'for'; name: string; iter: Node; body: TNode[]; line: number }
  | { t: 'if'; branches: { cond: Node | undefined; body: TNode[] }[]; line: number };

export interface CompiledTemplate {
  nodes: TNode[];
  file: string;
}

interface Tag {
  kind: 'expr' | 'block' | 'comment';
  start: number;
  end: number;
  inner: string;
}

function lineAt(text: string, i: number): number {
  let n = 1;
  for (let j = 0; j < i; j++) if (text.charCodeAt(j) === 10) n++;
  return n;
}

function scanTags(text: string): Tag[] {
  const tags: Tag[] = [];
  let i = 0;
  while (i < text.length) {
    const e = text.indexOf('${{', i);
    const b = text.indexOf('{%', i);
    const c = text.indexOf('{#', i);
    const next = [e, b, c].filter((x) => x !== -1);
    if (next.length === 0) break;
    const at = Math.min(...next);
    if (at === e) {
      const end = closeOf(text, at + 3);
      if (end === -1) throw new Error(`line ${lineAt(text, at)}: "\${{" is never closed with "}}"`);
      tags.push({ kind: 'expr', start: at, end: end + 2, inner: text.slice(at + 3, end) });
      i = end + 2;
    } else if (at === b) {
      const end = closeOf(text, at + 2, '%}');
      if (end === -1) throw new Error(`line ${lineAt(text, at)}: "{%" is never closed with "%}"`);
      tags.push({ kind: 'block', start: at, end: end + 2, inner: text.slice(at + 2, end) });
      i = end + 2;
    } else {
      const end = text.indexOf('#}', at + 2);
      if (end === -1) throw new Error(`line ${lineAt(text, at)}: "{#" is never closed with "#}"`);
      tags.push({ kind: 'comment', start: at, end: end + 2, inner: '' });
      i = end + 2;
    }
  }
  return tags;
}

/**
 * Compile a skeleton file. A block tag (`{% … %}` or `{# … #}`) alone on its line takes the whole line
 * with it (Jinja's trim_blocks + lstrip_blocks), so loops do not leave blank lines; `{%-` and `-%}` trim
 * whitespace as in Nunjucks.
 */
export function compileTemplate(text: string, file: string): CompiledTemplate {
  try {
    const tags = scanTags(text);
    // Widen standalone block tags to their whole line.
    for (const tag of tags) {
      if (tag.kind === 'expr') continue;
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
    const root: TNode[] = [];
    const stack: { node: TNode & { t: 'for' | 'if' }; body: TNode[]; tag: string }[] = [];
    const current = () => (stack.length ? stack[stack.length - 1].body : root);
    let at = 0;
    let trimNext = false;
    for (const tag of tags) {
      let before = text.slice(at, tag.start);
      if (trimNext) before = before.replace(/^\s+/, '');
      trimNext = false;
      const inner = tag.inner;
      if (tag.kind === 'block' && inner.startsWith('-')) before = before.replace(/\s+$/, '');
      if (before) current().push({ t: 'text', v: before });
      at = tag.end;
      const line = lineAt(text, tag.start);
      if (tag.kind === 'comment') continue;
      if (tag.kind === 'expr') {
        try {
          current().push({ t: 'expr', node: parseCached(inner.trim()), line });
        } catch (err) {
          throw new Error(`line ${line}: ${(err as Error).message}`);
        }
        continue;
      }
      let body = inner;
      if (body.startsWith('-')) body = body.slice(1);
      if (body.endsWith('-')) {
        body = body.slice(0, -1);
        trimNext = true;
      }
      body = body.trim();
      const word = /^(\w+)/.exec(body)?.[1] ?? '';
      const rest = body.slice(word.length).trim();
      const fail = (m: string) => new Error(`line ${line}: ${m}`);
      const parse = (src: string) => {
        try {
          return parseCached(src);
        } catch (err) {
          throw fail((err as Error).message);
        }
      };
      if (word === 'for') {
        const m = /^([A-Za-z_]\w*)\s+in\s+(.+)$/s.exec(rest);
        if (!m) throw fail('expected "{% for item in list %}"');
        if (['__proto__', 'constructor', 'prototype', 'loop'].includes(m[1]))
          throw fail(`"${m[1]}" cannot be a loop variable`);
        const node: TNode & { t: 'for' } = { t: 'for', name: m[1], iter: parse(m[2]), body: [], line };
        current().push(node);
        stack.push({ node, body: node.body, tag: 'for' });
      } else if (word === 'endfor') {
        if (stack[stack.length - 1]?.tag !== 'for') throw fail('"endfor" without an open "for"');
        stack.pop();
      } else if (word === 'if') {
        const node: TNode & { t: 'if' } = { t: 'if', branches: [{ cond: parse(rest), body: [] }], line };
        current().push(node);
        stack.push({ node, body: node.branches[0].body, tag: 'if' });
      } else if (word === 'elif' || word === 'elseif' || word === 'else') {
        const top = stack[stack.length - 1];
        if (top?.tag !== 'if' || top.node.t !== 'if') throw fail(`"${word}" without an open "if"`);
        const branch = { cond: word === 'else' ? undefined : parse(rest), body: [] as TNode[] };
        top.node.branches.push(branch);
        top.body = branch.body;
      } else if (word === 'endif') {
        if (stack[stack.length - 1]?.tag !== 'if') throw fail('"endif" without an open "if"');
        stack.pop();
      } else {
        throw fail(`unknown block "${word}"; only for/endfor, if/elif/else/endif are supported`);
      }
    }
    if (stack.length)
      throw new Error(
        `line ${stack[stack.length - 1].node.line}: "${stack[stack.length - 1].tag}" is never closed`,
      );
    let tail = text.slice(at);
    if (trimNext) tail = tail.replace(/^\s+/, '');
    if (tail) root.push({ t: 'text', v: tail });
    return { nodes: root, file };
  } catch (err) {
    throw new ExpressionError((err as Error).message, file);
  }
}

export function renderTemplate(tpl: CompiledTemplate, scope: Scope): string {
  const budget = { iterations: 0, size: 0 };
  const out: string[] = [];
  const emit = (s: string) => {
    budget.size += s.length;
    if (budget.size > MAX_OUTPUT) throw new Error(`rendered file is larger than ${MAX_OUTPUT} characters`);
    out.push(s);
  };
  const run = (nodes: TNode[], sc: Scope) => {
    for (const n of nodes) {
      if (n.t === 'text') emit(n.v);
      else if (n.t === 'expr') {
        try {
          emit(toText(evaluate(n.node, sc)));
        } catch (err) {
          throw new Error(`line ${n.line}: ${(err as Error).message}`);
        }
      } else if (n.t === 'if') {
        for (const b of n.branches) {
          let ok: boolean;
          try {
            ok = b.cond === undefined || truthy(evaluate(b.cond, sc));
          } catch (err) {
            throw new Error(`line ${n.line}: ${(err as Error).message}`);
          }
          if (ok) {
            run(b.body, sc);
            break;
          }
        }
      } else {
        let items: unknown;
        try {
          items = evaluate(n.iter, sc);
        } catch (err) {
          throw new Error(`line ${n.line}: ${(err as Error).message}`);
        }
        if (items === undefined || items === null) continue;
        if (!Array.isArray(items)) throw new Error(`line ${n.line}: "for" needs a list`);
        items.forEach((item, i) => {
          if (++budget.iterations > MAX_ITERATIONS)
            throw new Error(`more than ${MAX_ITERATIONS} loop iterations`);
          const loop = {
            index: i + 1,
            index0: i,
            first: i === 0,
            last: i === items.length - 1,
            length: items.length,
          };
          run(n.body, { ...sc, [n.name]: item, loop });
        });
      }
    }
  };
  try {
    run(tpl.nodes, scope);
  } catch (err) {
    throw new ExpressionError((err as Error).message, tpl.file);
  }
  return out.join('');
}
