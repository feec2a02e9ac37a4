/**
 * The `${{ … }}` expression language: a small interpreter over plain data, never JavaScript. What it
 * can do is what the grammar below allows and nothing more:
 *
 *   expr    := or
 *   or      := and ('or' and)*
 *   and     := not ('and' not)*
 *   not     := 'not' not | compare
 *   compare := filtered (('==' | '!=' | '===' | '!==') filtered)?
 *   filtered:= member ('|' name ('(' expr (',' expr)* ')')?)*
 *   member  := primary ('.' name | '[' expr ']')*
 *   primary := name | 'string' | "string" | number | true | false | null | '(' expr ')' | '[' list ']'
 *
 * There are no calls other than filters from a fixed allow-list (filters.ts), member access reads only
 * own properties of plain data and refuses `__proto__`, `constructor` and `prototype`, and a rendered
 * value is never parsed again: a parameter holding `${{ … }}` stays those characters.
 */
import { FILTERS } from './filters.ts';

export class ExpressionError extends Error {
  /** The template field the expression came from, e.g. `spec.steps[0].input.values.name`. */
  field?: string;
  constructor(message: string, field?: string) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'ExpressionError';
    this.field = field;
  }
}

export const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_SOURCE = 2_000;
const MAX_DEPTH = 40;

export type Node =
  | { t: 'lit'; v: unknown }
  | { t: 'name'; name: string }
  | { t: 'member'; obj: Node; key: Node }
  | { t: 'list'; items: Node[] }
  | { t: 'filter'; input: Node; name: string; args: Node[] }
  | { t: 'not'; arg: Node }
  | { t: 'bin'; op: 'and' | 'or' | '==' | '!='; left: Node; right: Node };

type Tok = { k: 'name' | 'num' | 'str' | 'op'; v: string; at: number };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_$]/.test(src[j])) j++;
      out.push({ k: 'name', v: src.slice(i, j), at: i });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(src[i + 1] ?? '') && prevAllowsSign(out))) {
      let j = i + 1;
      while (j < src.length && /[0-9.]/.test(src[j])) j++;
      out.push({ k: 'num', v: src.slice(i, j), at: i });
      i = j;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) {
          const e = src[j + 1];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw new Error(`unterminated string starting at column ${i + 1}`);
      out.push({ k: 'str', v: s, at: i });
      i = j + 1;
      continue;
    }
    const three = src.slice(i, i + 3);
    const two = src.slice(i, i + 2);
    if (three === '===' || three === '!==') {
      out.push({ k: 'op', v: three.slice(0, 2), at: i });
      i += 3;
      continue;
    }
    if (two === '==' || two === '!=') {
      out.push({ k: 'op', v: two, at: i });
      i += 2;
      continue;
    }
    if ('.[](),|'.includes(c)) {
      out.push({ k: 'op', v: c, at: i });
      i++;
      continue;
    }
    throw new Error(
      `unexpected character "${c}" at column ${i + 1}; expressions are property paths, literals and filters`,
    );
  }
  return out;
}

function prevAllowsSign(out: Tok[]): boolean {
  const p = out[out.length - 1];
  return !p || (p.k === 'op' && p.v !== ')' && p.v !== ']');
}

/** Parse one expression (the text between `${{` and `}}`). Throws with a message naming the problem. */
export function parseExpression(src: string): Node {
  if (src.length > MAX_SOURCE) throw new Error(`expression is longer than ${MAX_SOURCE} characters`);
  const toks = tokenize(src);
  let pos = 0;
  let depth = 0;
  const peek = () => toks[pos];
  const isOp = (v: string) => toks[pos]?.k === 'op' && toks[pos].v === v;
  const isWord = (v: string) => toks[pos]?.k === 'name' && toks[pos].v === v;
  const expect = (v: string) => {
    if (!isOp(v)) throw new Error(`expected "${v}" ${where()}`);
    pos++;
  };
  const where = () => (pos < toks.length ? `at column ${toks[pos].at + 1}` : 'at the end');
  const enter = () => {
    if (++depth > MAX_DEPTH) throw new Error('expression is nested too deeply');
  };

  function expr(): Node {
    enter();
    let left = and();
    while (isWord('or')) {
      pos++;
      left = { t: 'bin', op: 'or', left, right: and() };
    }
    depth--;
    return left;
  }
  function and(): Node {
    let left = not();
    while (isWord('and')) {
      pos++;
      left = { t: 'bin', op: 'and', left, right: not() };
    }
    return left;
  }
  function not(): Node {
    if (isWord('not')) {
      pos++;
      enter();
      const arg = not();
      depth--;
      return { t: 'not', arg };
    }
    return compare();
  }
  function compare(): Node {
    const left = filtered();
    if (isOp('==') || isOp('!=')) {
      const op = toks[pos++].v as '==' | '!=';
      return { t: 'bin', op, left, right: filtered() };
    }
    return left;
  }
  function filtered(): Node {
    let node = member();
    while (isOp('|')) {
      pos++;
      const t = peek();
      if (t?.k !== 'name') throw new Error(`expected a filter name after "|" ${where()}`);
      pos++;
      if (!FILTERS.has(t.v)) {
        throw new Error(`unknown filter "${t.v}"; allowed filters: ${[...FILTERS.keys()].sort().join(', ')}`);
      }
      const args: Node[] = [];
      if (isOp('(')) {
        pos++;
        if (!isOp(')')) {
          args.push(expr());
          while (isOp(',')) {
            pos++;
            args.push(expr());
          }
        }
        expect(')');
      }
      node = { t: 'filter', input: node, name: t.v, args };
    }
    return node;
  }
  function member(): Node {
    let node = primary();
    for (;;) {
      if (isOp('.')) {
        pos++;
        const t = peek();
        if (!t || (t.k !== 'name' && t.k !== 'num'))
          throw new Error(`expected a property name after "." ${where()}`);
        pos++;
        node = { t: 'member', obj: node, key: { t: 'lit', v: t.v } };
      } else if (isOp('[')) {
        pos++;
        const key = expr();
        expect(']');
        node = { t: 'member', obj: node, key };
      } else if (isOp('(')) {
        throw new Error(`calls are not allowed ${where()}; use a filter, e.g. "x | lower"`);
      } else return node;
    }
  }
  function primary(): Node {
    const t = peek();
    if (!t) throw new Error('expression is empty or ends too early');
    pos++;
    if (t.k === 'str') return { t: 'lit', v: t.v };
    if (t.k === 'num') {
      const n = Number(t.v);
      if (!Number.isFinite(n)) throw new Error(`bad number "${t.v}"`);
      return { t: 'lit', v: n };
    }
    if (t.k === 'name') {
      if (t.v === 'true') return { t: 'lit', v: true };
      if (t.v === 'false') return { t: 'lit', v: false };
      if (t.v === 'null' || t.v === 'none') return { t: 'lit', v: null };
      if (FORBIDDEN_KEYS.has(t.v)) throw new Error(`"${t.v}" is not allowed in expressions`);
      return { t: 'name', name: t.v };
    }
    if (t.v === '(') {
      const e = expr();
      expect(')');
      return e;
    }
    if (t.v === '[') {
      const items: Node[] = [];
      if (!isOp(']')) {
        items.push(expr());
        while (isOp(',')) {
          pos++;
          items.push(expr());
        }
      }
      expect(']');
      return { t: 'list', items };
    }
    pos--;
    throw new Error(`unexpected "${t.v}" ${where()}`);
  }

  const node = expr();
  if (pos < toks.length) throw new Error(`unexpected "${toks[pos].v}" ${where()}`);
  // Statically forbidden keys, so a template cannot even mention them.
  checkStatic(node);
  return node;
}

function checkStatic(n: Node): void {
  switch (n.t) {
    case 'member':
      if (n.key.t === 'lit' && FORBIDDEN_KEYS.has(String(n.key.v))) {
        throw new Error(`property "${String(n.key.v)}" is not allowed in expressions`);
      }
      checkStatic(n.obj);
      checkStatic(n.key);
      return;
    case 'list':
      n.items.forEach(checkStatic);
      return;
    case 'filter':
      checkStatic(n.input);
      n.args.forEach(checkStatic);
      return;
    case 'not':
      checkStatic(n.arg);
      return;
    case 'bin':
      checkStatic(n.left);
      checkStatic(n.right);
      return;
    default:
      return;
  }
}

/** Read `key` of `obj`: own data properties of plain objects and arrays only. */
export function getMember(obj: unknown, key: unknown): unknown {
  if (obj === null || obj === undefined) return undefined;
  if (typeof key !== 'string' && typeof key !== 'number')
    throw new Error('property keys must be strings or numbers');
  const k = String(key);
  if (FORBIDDEN_KEYS.has(k)) throw new Error(`property "${k}" is not allowed in expressions`);
  if (Array.isArray(obj)) {
    if (!/^\d+$/.test(k)) return undefined;
    return obj[Number(k)];
  }
  if (typeof obj !== 'object') return undefined;
  const proto = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const desc = Object.getOwnPropertyDescriptor(obj, k);
  return desc && 'value' in desc ? desc.value : undefined;
}

export function evaluate(node: Node, scope: Readonly<Record<string, unknown>>): unknown {
  switch (node.t) {
    case 'lit':
      return node.v;
    case 'name':
      return getMember(scope, node.name);
    case 'member':
      return getMember(evaluate(node.obj, scope), evaluate(node.key, scope));
    case 'list':
      return node.items.map((i) => evaluate(i, scope));
    case 'not':
      return !truthy(evaluate(node.arg, scope));
    case 'bin': {
      if (node.op === 'and') {
        const l = evaluate(node.left, scope);
        return truthy(l) ? evaluate(node.right, scope) : l;
      }
      if (node.op === 'or') {
        const l = evaluate(node.left, scope);
        return truthy(l) ? l : evaluate(node.right, scope);
      }
      const eq = equal(evaluate(node.left, scope), evaluate(node.right, scope));
      return node.op === '==' ? eq : !eq;
    }
    case 'filter': {
      const f = FILTERS.get(node.name);
      if (!f) throw new Error(`unknown filter "${node.name}"`);
      return f(evaluate(node.input, scope), ...node.args.map((a) => evaluate(a, scope)));
    }
  }
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    return JSON.stringify(a) === JSON.stringify(b);
  }
  return false;
}

/** Backstage's `if`: false for false, undefined, null, "", 0 and []. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return !!v;
}
