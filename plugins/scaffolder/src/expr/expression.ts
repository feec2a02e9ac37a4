/**
 * The `${{ … }}` expression language: the expression grammar Nunjucks gives Backstage templates, as a
 * hand-written parser and an interpreter over plain data, never JavaScript (Nunjucks itself compiles
 * templates to JS source, which is what Backstage's RCE advisories were about). The grammar follows
 * Nunjucks 3.2's parser, precedence lowest first:
 *
 *   expr     := or ('if' or ('else' expr)?)?           inline if: `x if c else y`
 *   or       := and ('or' and)*
 *   and      := not ('and' not)*
 *   not      := 'not' not | in
 *   in       := is (('not')? 'in' is)*
 *   is       := compare ('is' 'not'? test ('(' args ')')?)?
 *   compare  := concat (('==' | '===' | '!=' | '!==' | '<' | '>' | '<=' | '>=') concat)*
 *   concat   := add ('~' add)*
 *   add      := sub ('+' sub)*       sub := mul ('-' mul)*       mul := div ('*' div)*
 *   div      := fdiv ('/' fdiv)*     fdiv := mod ('//' mod)*     mod := pow ('%' pow)*
 *   pow      := unary ('**' unary)*
 *   unary    := '-' unary | '+' unary | postfix filters
 *   filters  := ('|' name ('(' args ')')?)*
 *   postfix  := primary ('.' name | '[' expr ']' | '[' slice ']' | '(' args ')')*
 *   primary  := name | string | number | true | false | none | null | '(' expr ')' | '[' list ']' | '{' dict '}'
 *
 * Operators keep Nunjucks' (that is, JavaScript's) meaning on plain values: `+` adds numbers and joins
 * strings, `==` is loose, `and`/`or` return an operand. What is deliberately not there: calls other than
 * the filters and tests of fixed allow-lists, `range()`, and a few string/list methods implemented here
 * (never a property of the value called as a function); member access reads own data properties of
 * plain objects and arrays only (`length` of strings and lists too) and refuses `__proto__`,
 * `constructor` and `prototype`; every string and list an expression builds is size-capped; a rendered
 * value is never parsed again.
 */
import { FILTERS, jsString, MAX_LIST, MAX_STRING, TESTS, toJson } from './filters.ts';

export class ExpressionError extends Error {
  /** The template field or file the expression came from, e.g. `spec.steps[0].input.values.name`. */
  field?: string;
  constructor(message: string, field?: string) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'ExpressionError';
    this.field = field;
  }
}

/** A syntax problem at `offset` characters into the source that was parsed. */
export class SyntaxProblem extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'SyntaxProblem';
  }
}

export const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_SOURCE = 10_000;
/** How deep the tree may be: nesting, and chains (`a ~ b ~ c`, `x | f | g`, `a.b.c`) count too. */
const MAX_DEPTH = 100;

type BinOp =
  | 'and'
  | 'or'
  | '=='
  | '!='
  | '==='
  | '!=='
  | '<'
  | '>'
  | '<='
  | '>='
  | '+'
  | '-'
  | '*'
  | '/'
  | '//'
  | '%'
  | '**'
  | '~'
  | 'in';

export type Node =
  | { t: 'lit'; v: unknown; at: number }
  | { t: 'name'; name: string; at: number }
  | { t: 'member'; obj: Node; key: Node; at: number }
  | { t: 'slice'; obj: Node; start?: Node; stop?: Node; step?: Node; at: number }
  | { t: 'list'; items: Node[]; at: number }
  | { t: 'dict'; entries: [Node, Node][]; at: number }
  | { t: 'filter'; input: Node; name: string; args: Node[]; at: number }
  | { t: 'test'; input: Node; name: string; args: Node[]; negate: boolean; at: number }
  | { t: 'call'; callee: Node; args: Node[]; at: number }
  | { t: 'not'; arg: Node; at: number }
  | { t: 'neg' | 'pos'; arg: Node; at: number }
  | { t: 'bin'; op: BinOp; left: Node; right: Node; at: number }
  | { t: 'cond'; cond: Node; yes: Node; no?: Node; at: number };

export type Tok = { k: 'name' | 'num' | 'str' | 'op'; v: string; at: number };

const OPS3 = ['===', '!=='];
const OPS2 = ['==', '!=', '<=', '>=', '//', '**'];
const OPS1 = '.[](){},|:~+-*/%<>=';

/** Split an expression into tokens; `at` is the offset in `src`. */
export function tokenize(src: string): Tok[] {
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
    if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[0-9]/.test(src[j])) j++;
      // A fraction only when a digit follows the dot, so `xs.0.name` stays member access.
      if (src[j] === '.' && /[0-9]/.test(src[j + 1] ?? '') && out[out.length - 1]?.v !== '.') {
        j++;
        while (j < src.length && /[0-9]/.test(src[j])) j++;
      }
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
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw new SyntaxProblem(`unterminated string`, i);
      out.push({ k: 'str', v: s, at: i });
      i = j + 1;
      continue;
    }
    const three = src.slice(i, i + 3);
    if (OPS3.includes(three)) {
      out.push({ k: 'op', v: three, at: i });
      i += 3;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (OPS2.includes(two)) {
      out.push({ k: 'op', v: two, at: i });
      i += 2;
      continue;
    }
    if (OPS1.includes(c)) {
      out.push({ k: 'op', v: c, at: i });
      i++;
      continue;
    }
    throw new SyntaxProblem(
      `unexpected character "${c}"; expressions are Nunjucks expressions (paths, literals, operators, filters)`,
      i,
    );
  }
  return out;
}

const COMPARE_OPS = new Set(['==', '===', '!=', '!==', '<', '>', '<=', '>=']);
/** Global functions a template may call (Nunjucks' `range`). */
const GLOBALS = new Set(['range']);

/**
 * A parser over one token list. Template tags use it to read their headers (`for a, b in xs`), so the
 * expression inside a tag is parsed by exactly the same grammar.
 */
export class Parser {
  pos = 0;
  private depth = 0;
  constructor(
    readonly toks: Tok[],
    readonly srcLength: number,
  ) {}

  static of(src: string): Parser {
    if (src.length > MAX_SOURCE)
      throw new SyntaxProblem(`expression is longer than ${MAX_SOURCE} characters`, 0);
    return new Parser(tokenize(src), src.length);
  }

  peek(): Tok | undefined {
    return this.toks[this.pos];
  }
  done(): boolean {
    return this.pos >= this.toks.length;
  }
  here(): number {
    return this.toks[this.pos]?.at ?? this.srcLength;
  }
  isOp(v: string): boolean {
    const t = this.toks[this.pos];
    return t?.k === 'op' && t.v === v;
  }
  isWord(v: string): boolean {
    const t = this.toks[this.pos];
    return t?.k === 'name' && t.v === v;
  }
  fail(m: string, at = this.here()): never {
    throw new SyntaxProblem(m, at);
  }
  expect(v: string): void {
    if (!this.isOp(v)) this.fail(`expected "${v}" but found ${this.describe()}`);
    this.pos++;
  }
  describe(): string {
    const t = this.peek();
    return t ? `"${t.k === 'str' ? JSON.stringify(t.v) : t.v}"` : 'the end';
  }
  /** A plain identifier (a loop or `set` variable). */
  identifier(): string {
    const t = this.peek();
    if (t?.k !== 'name') this.fail(`expected a name but found ${this.describe()}`);
    if (FORBIDDEN_KEYS.has(t.v) || t.v === 'loop') this.fail(`"${t.v}" cannot be a variable name`, t.at);
    this.pos++;
    return t.v;
  }
  end(): void {
    if (!this.done()) this.fail(`unexpected ${this.describe()}`);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH)
      this.fail(`expression is nested too deeply (more than ${MAX_DEPTH} levels)`);
  }

  expression(): Node {
    this.enter();
    const at = this.here();
    let node = this.or();
    if (this.isWord('if')) {
      this.pos++;
      const cond = this.or();
      let other: Node | undefined;
      if (this.isWord('else')) {
        this.pos++;
        other = this.expression();
      }
      node = { t: 'cond', cond, yes: node, no: other, at };
    }
    this.depth--;
    return node;
  }
  private or(): Node {
    let left = this.and();
    const d = this.depth;
    while (this.isWord('or')) {
      const at = this.here();
      this.pos++;
      this.enter();
      left = { t: 'bin', op: 'or', left, right: this.and(), at };
    }
    this.depth = d;
    return left;
  }
  private and(): Node {
    let left = this.not();
    const d = this.depth;
    while (this.isWord('and')) {
      const at = this.here();
      this.pos++;
      this.enter();
      left = { t: 'bin', op: 'and', left, right: this.not(), at };
    }
    this.depth = d;
    return left;
  }
  private not(): Node {
    if (this.isWord('not')) {
      const at = this.here();
      this.pos++;
      this.enter();
      const arg = this.not();
      this.depth--;
      return { t: 'not', arg, at };
    }
    return this.in();
  }
  private in(): Node {
    let node = this.is();
    const d = this.depth;
    for (;;) {
      const at = this.here();
      if (this.isWord('in') || this.isWord('not')) this.enter();
      if (this.isWord('not') && this.toks[this.pos + 1]?.k === 'name' && this.toks[this.pos + 1].v === 'in') {
        this.pos += 2;
        node = { t: 'not', arg: { t: 'bin', op: 'in', left: node, right: this.is(), at }, at };
      } else if (this.isWord('in')) {
        this.pos++;
        node = { t: 'bin', op: 'in', left: node, right: this.is(), at };
      } else {
        this.depth = d;
        return node;
      }
    }
  }
  private is(): Node {
    const node = this.compare();
    if (!this.isWord('is')) return node;
    const at = this.here();
    this.pos++;
    let negate = false;
    if (this.isWord('not')) {
      this.pos++;
      negate = true;
    }
    const t = this.peek();
    // `none`, `null`, `true` and `false` are names of tests too.
    if (t?.k !== 'name') this.fail(`expected a test name after "is" but found ${this.describe()}`);
    this.pos++;
    if (!TESTS.has(t.v)) {
      this.fail(`unknown test "${t.v}"; known tests: ${[...TESTS.keys()].sort().join(', ')}`, t.at);
    }
    const args = this.isOp('(') ? this.args() : [];
    return { t: 'test', input: node, name: t.v, args, negate, at };
  }
  private compare(): Node {
    let left = this.concat();
    const d = this.depth;
    while (this.peek()?.k === 'op' && COMPARE_OPS.has(this.peek()?.v ?? '')) {
      const tok = this.toks[this.pos++];
      this.enter();
      left = { t: 'bin', op: tok.v as BinOp, left, right: this.concat(), at: tok.at };
    }
    this.depth = d;
    return left;
  }
  private binary(op: BinOp, next: () => Node): Node {
    let left = next();
    const d = this.depth;
    while (this.isOp(op)) {
      const at = this.here();
      this.pos++;
      this.enter();
      left = { t: 'bin', op, left, right: next(), at };
    }
    this.depth = d;
    return left;
  }
  private concat = (): Node => this.binary('~', this.add);
  private add = (): Node => this.binary('+', this.sub);
  private sub = (): Node => this.binary('-', this.mul);
  private mul = (): Node => this.binary('*', this.div);
  private div = (): Node => this.binary('/', this.fdiv);
  private fdiv = (): Node => this.binary('//', this.mod);
  private mod = (): Node => this.binary('%', this.pow);
  private pow = (): Node => this.binary('**', this.unaryWithFilters);
  private unaryWithFilters = (): Node => this.unary(false);

  private unary(noFilters: boolean): Node {
    const at = this.here();
    let node: Node;
    if (this.isOp('-') || this.isOp('+')) {
      const op = this.toks[this.pos++].v;
      this.enter();
      node = { t: op === '-' ? 'neg' : 'pos', arg: this.unary(true), at };
      this.depth--;
    } else node = this.postfix();
    return noFilters ? node : this.filters(node);
  }

  private filters(input: Node): Node {
    let node = input;
    const d = this.depth;
    while (this.isOp('|')) {
      this.pos++;
      this.enter();
      const t = this.peek();
      if (t?.k !== 'name') this.fail(`expected a filter name after "|" but found ${this.describe()}`);
      this.pos++;
      if (!FILTERS.has(t.v)) {
        this.fail(`unknown filter "${t.v}"; allowed filters: ${[...FILTERS.keys()].sort().join(', ')}`, t.at);
      }
      const args = this.isOp('(') ? this.args() : [];
      node = { t: 'filter', input: node, name: t.v, args, at: t.at };
    }
    this.depth = d;
    return node;
  }

  /** `(a, b, …)`: positional arguments only. */
  private args(): Node[] {
    this.expect('(');
    const args: Node[] = [];
    while (!this.isOp(')')) {
      if (args.length) this.expect(',');
      if (this.isOp(')')) break;
      if (
        this.peek()?.k === 'name' &&
        this.toks[this.pos + 1]?.k === 'op' &&
        this.toks[this.pos + 1].v === '='
      )
        this.fail('keyword arguments are not supported; pass the arguments in order');
      args.push(this.expression());
    }
    this.expect(')');
    return args;
  }

  private postfix(): Node {
    let node = this.primary();
    const d = this.depth;
    for (;;) {
      const at = this.here();
      if (this.isOp('.') || this.isOp('[') || this.isOp('(')) this.enter();
      if (this.isOp('.')) {
        this.pos++;
        const t = this.peek();
        if (!t || (t.k !== 'name' && t.k !== 'num'))
          this.fail(`expected a property name after "." but found ${this.describe()}`);
        this.pos++;
        this.forbid(t.v, t.at);
        node = { t: 'member', obj: node, key: { t: 'lit', v: t.v, at: t.at }, at };
      } else if (this.isOp('[')) {
        this.pos++;
        node = this.subscript(node, at);
      } else if (this.isOp('(')) {
        node = this.call(node, at);
      } else {
        this.depth = d;
        return node;
      }
    }
  }

  private subscript(obj: Node, at: number): Node {
    const part = (): Node | undefined => (this.isOp(':') || this.isOp(']') ? undefined : this.expression());
    const start = part();
    if (!this.isOp(':')) {
      if (!start) this.fail('expected an index inside "[ ]"');
      this.expect(']');
      if (start.t === 'lit') this.forbid(String(start.v), start.at);
      return { t: 'member', obj, key: start, at };
    }
    this.pos++;
    const stop = part();
    let step: Node | undefined;
    if (this.isOp(':')) {
      this.pos++;
      step = part();
    }
    this.expect(']');
    return { t: 'slice', obj, start, stop, step, at };
  }

  private call(callee: Node, at: number): Node {
    const ok =
      (callee.t === 'name' && GLOBALS.has(callee.name)) ||
      (callee.t === 'member' && callee.key.t === 'lit' && METHODS.has(String(callee.key.v)));
    if (!ok) {
      this.fail(
        `calls are not allowed here; use a filter (e.g. "x | lower"), range(), or one of the methods ${[...METHODS.keys()].sort().join(', ')}`,
        at,
      );
    }
    return { t: 'call', callee, args: this.args(), at };
  }

  private forbid(key: string, at: number): void {
    if (FORBIDDEN_KEYS.has(key)) this.fail(`property "${key}" is not allowed in expressions`, at);
  }

  private primary(): Node {
    const t = this.peek();
    if (!t) this.fail('expression is empty or ends too early');
    this.pos++;
    const at = t.at;
    if (t.k === 'str') return { t: 'lit', v: t.v, at };
    if (t.k === 'num') {
      const n = Number(t.v);
      if (!Number.isFinite(n)) this.fail(`bad number "${t.v}"`, at);
      return { t: 'lit', v: n, at };
    }
    if (t.k === 'name') {
      if (t.v === 'true' || t.v === 'True') return { t: 'lit', v: true, at };
      if (t.v === 'false' || t.v === 'False') return { t: 'lit', v: false, at };
      if (t.v === 'null' || t.v === 'none' || t.v === 'None') return { t: 'lit', v: null, at };
      if (FORBIDDEN_KEYS.has(t.v)) this.fail(`"${t.v}" is not allowed in expressions`, at);
      return { t: 'name', name: t.v, at };
    }
    if (t.v === '(') {
      this.enter();
      const e = this.expression();
      // A tuple `(a, b)` is a list, as Nunjucks' arrays are.
      if (this.isOp(',')) {
        const items = [e];
        while (this.isOp(',')) {
          this.pos++;
          if (this.isOp(')')) break;
          items.push(this.expression());
        }
        this.expect(')');
        this.depth--;
        return { t: 'list', items, at };
      }
      this.expect(')');
      this.depth--;
      return e;
    }
    if (t.v === '[') {
      this.enter();
      const items: Node[] = [];
      while (!this.isOp(']')) {
        if (items.length) this.expect(',');
        if (this.isOp(']')) break;
        items.push(this.expression());
      }
      this.expect(']');
      this.depth--;
      return { t: 'list', items, at };
    }
    if (t.v === '{') {
      this.enter();
      const entries: [Node, Node][] = [];
      while (!this.isOp('}')) {
        if (entries.length) this.expect(',');
        if (this.isOp('}')) break;
        const kt = this.peek();
        let key: Node;
        // A bare name as a key is the name itself, as in Nunjucks (`{ owner: x }`).
        if (kt?.k === 'name' || kt?.k === 'str' || kt?.k === 'num') {
          this.pos++;
          key = { t: 'lit', v: kt.v, at: kt.at };
          this.forbid(kt.v, kt.at);
        } else key = this.fail(`expected a key in "{ }" but found ${this.describe()}`);
        this.expect(':');
        entries.push([key, this.expression()]);
      }
      this.expect('}');
      this.depth--;
      return { t: 'dict', entries, at };
    }
    this.pos--;
    this.fail(`unexpected ${this.describe()}`);
  }
}

/** Parse one expression (the text between `${{` and `}}`). Throws a SyntaxProblem naming the column. */
export function parseExpression(src: string): Node {
  try {
    const p = Parser.of(src);
    const node = p.expression();
    p.end();
    return node;
  } catch (err) {
    if (err instanceof SyntaxProblem) throw withColumn(err, src);
    throw err;
  }
}

/** The message of a syntax problem with its 1-based column (and line when the source spans lines). */
export function withColumn(err: SyntaxProblem, src: string, base = { line: 1, column: 1 }): Error {
  const before = src.slice(0, err.offset);
  const nl = before.lastIndexOf('\n');
  const line = base.line + (before.match(/\n/g)?.length ?? 0);
  const column = nl === -1 ? base.column + err.offset : err.offset - nl;
  const where = base.line > 1 || line > 1 ? `line ${line}, column ${column}` : `column ${column}`;
  const e = new Error(`${where}: ${err.message}`);
  return Object.assign(e, { line, column });
}

// ---------------------------------------------------------------------------------------------------
// Evaluation

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Read `key` of `obj`: own data properties of plain objects and arrays, `length` of lists and strings. */
export function getMember(obj: unknown, key: unknown): unknown {
  if (obj === null || obj === undefined) return undefined;
  if (typeof key !== 'string' && typeof key !== 'number')
    throw new Error('property keys must be strings or numbers');
  const k = String(key);
  if (FORBIDDEN_KEYS.has(k)) throw new Error(`property "${k}" is not allowed in expressions`);
  if (Array.isArray(obj) || typeof obj === 'string') {
    if (k === 'length') return obj.length;
    if (typeof key === 'number' && Number.isInteger(key) && key < 0) return obj[obj.length + key];
    if (!/^\d+$/.test(k)) return undefined;
    return obj[Number(k)];
  }
  if (!isPlainObject(obj)) return undefined;
  const desc = Object.getOwnPropertyDescriptor(obj, k);
  return desc && 'value' in desc ? desc.value : undefined;
}

/** Nunjucks' (JavaScript's) truthiness, used inside expressions and by `{% if %}`. */
export function jsTruthy(v: unknown): boolean {
  return !!v;
}

/** Backstage's step and output `if`: false for false, undefined, null, "", 0 and []. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return !!v;
}

function capString(s: string): string {
  if (s.length > MAX_STRING) throw new Error(`an expression produced more than ${MAX_STRING} characters`);
  return s;
}

/** JavaScript's ToNumber on plain data, without calling anything of the value's. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === undefined) return Number.NaN;
  if (v === null || v === false) return 0;
  if (v === true) return 1;
  if (typeof v === 'string') return Number(v);
  return Number(jsString(v));
}

function isPrimitiveNumberish(v: unknown): boolean {
  return v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean';
}

/** JavaScript's `a + b` on plain data: numbers add, anything with a string (or a list/object) joins. */
function plus(a: unknown, b: unknown): unknown {
  if (isPrimitiveNumberish(a) && isPrimitiveNumberish(b)) return toNumber(a) + toNumber(b);
  return capString(jsString(a) + jsString(b));
}

function looseEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (a === null || a === undefined || b === null || b === undefined) return false;
  if (typeof a === 'object' && typeof b === 'object') return toJson(a) === toJson(b);
  if (typeof a === 'object' || typeof b === 'object') return false;
  if (typeof a === typeof b) return false;
  return toNumber(a) === toNumber(b);
}

function strictEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null)
    return toJson(a) === toJson(b);
  return false;
}

function relate(op: '<' | '>' | '<=' | '>=', a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') {
    return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
  }
  const x = toNumber(a);
  const y = toNumber(b);
  return op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
}

function contains(container: unknown, item: unknown): boolean {
  if (Array.isArray(container)) return container.some((x) => strictEqual(x, item));
  if (typeof container === 'string') return container.includes(jsString(item));
  if (isPlainObject(container)) {
    const k = jsString(item);
    return !FORBIDDEN_KEYS.has(k) && Object.hasOwn(container, k);
  }
  throw new Error(`"in" needs a list, a string or a mapping on its right, found ${typeName(container)}`);
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`;
}

type Method = (self: unknown, args: unknown[]) => unknown;
const strArg = (args: unknown[], i: number): string => jsString(args[i]);
const intArg = (args: unknown[], i: number): number | undefined =>
  args[i] === undefined ? undefined : Math.trunc(toNumber(args[i]));
const onString =
  (f: (s: string, args: unknown[]) => unknown): Method =>
  (self, args) => {
    if (typeof self !== 'string') throw new Error(`needs a string, found ${typeName(self)}`);
    return f(self, args);
  };

/**
 * Methods a template may call on a string or a list, implemented here: the value's own functions are
 * never looked up or called.
 */
const METHODS = new Map<string, Method>([
  [
    'split',
    onString((s, a) => {
      const parts = a[0] === undefined ? [s] : s.split(strArg(a, 0));
      if (parts.length > MAX_LIST) throw new Error(`split produced more than ${MAX_LIST} parts`);
      return a[1] === undefined ? parts : parts.slice(0, Math.max(0, intArg(a, 1) ?? 0));
    }),
  ],
  ['startsWith', onString((s, a) => s.startsWith(strArg(a, 0)))],
  ['endsWith', onString((s, a) => s.endsWith(strArg(a, 0)))],
  ['toLowerCase', onString((s) => s.toLowerCase())],
  ['toUpperCase', onString((s) => s.toUpperCase())],
  ['trim', onString((s) => s.trim())],
  ['substring', onString((s, a) => s.substring(intArg(a, 0) ?? 0, intArg(a, 1)))],
  ['replace', onString((s, a) => capString(s.replace(strArg(a, 0), () => strArg(a, 1))))],
  [
    'includes',
    (self, a) => {
      if (typeof self === 'string') return self.includes(strArg(a, 0));
      if (Array.isArray(self)) return self.some((x) => strictEqual(x, a[0]));
      throw new Error(`needs a string or a list, found ${typeName(self)}`);
    },
  ],
  [
    'indexOf',
    (self, a) => {
      if (typeof self === 'string') return self.indexOf(strArg(a, 0));
      if (Array.isArray(self)) return self.findIndex((x) => strictEqual(x, a[0]));
      throw new Error(`needs a string or a list, found ${typeName(self)}`);
    },
  ],
  [
    'slice',
    (self, a) => {
      if (typeof self === 'string' || Array.isArray(self)) return self.slice(intArg(a, 0), intArg(a, 1));
      throw new Error(`needs a string or a list, found ${typeName(self)}`);
    },
  ],
  [
    'join',
    (self, a) => {
      if (!Array.isArray(self)) throw new Error(`needs a list, found ${typeName(self)}`);
      return capString(self.map(jsString).join(a[0] === undefined ? ',' : strArg(a, 0)));
    },
  ],
]);

function range(args: unknown[]): number[] {
  const n = args.map(toNumber);
  const [start, stop, step] = n.length === 1 ? [0, n[0], 1] : [n[0], n[1], n[2] ?? 1];
  if (![start, stop, step].every(Number.isFinite) || step === 0)
    throw new Error('range() needs finite numbers and a step other than 0');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (out.length >= MAX_LIST) throw new Error(`range() would give more than ${MAX_LIST} numbers`);
    out.push(i);
  }
  return out;
}

function slice(v: unknown, start?: unknown, stop?: unknown, step?: unknown): unknown {
  if (v === undefined || v === null) return undefined;
  const isStr = typeof v === 'string';
  if (!isStr && !Array.isArray(v))
    throw new Error(`only lists and strings can be sliced, found ${typeName(v)}`);
  const items: unknown[] = isStr ? [...v] : v;
  const len = items.length;
  const st = step === undefined || step === null ? 1 : Math.trunc(toNumber(step));
  if (!Number.isFinite(st) || st === 0) throw new Error('slice step must be a number other than 0');
  const norm = (x: unknown, dflt: number) => {
    if (x === undefined || x === null) return dflt;
    const n = Math.trunc(toNumber(x));
    return n < 0 ? Math.max(n + len, st < 0 ? -1 : 0) : Math.min(n, st < 0 ? len - 1 : len);
  };
  const from = norm(start, st > 0 ? 0 : len - 1);
  const to = norm(stop, st > 0 ? len : -1);
  const out: unknown[] = [];
  for (let i = from; st > 0 ? i < to : i > to; i += st) out.push(items[i]);
  return isStr ? out.join('') : out;
}

export function evaluate(node: Node, scope: Readonly<Record<string, unknown>>): unknown {
  const ev = (n: Node) => evaluate(n, scope);
  switch (node.t) {
    case 'lit':
      return node.v;
    case 'name':
      return getMember(scope, node.name);
    case 'member': {
      const key = ev(node.key);
      return getMember(ev(node.obj), typeof key === 'boolean' || key === null ? String(key) : key);
    }
    case 'slice':
      return slice(
        ev(node.obj),
        node.start && ev(node.start),
        node.stop && ev(node.stop),
        node.step && ev(node.step),
      );
    case 'list':
      return node.items.map(ev);
    case 'dict': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of node.entries) {
        const key = jsString(ev(k));
        if (FORBIDDEN_KEYS.has(key)) throw new Error(`key "${key}" is not allowed`);
        out[key] = ev(v);
      }
      return out;
    }
    case 'not':
      return !jsTruthy(ev(node.arg));
    case 'neg':
      return -toNumber(ev(node.arg));
    case 'pos':
      return toNumber(ev(node.arg));
    case 'cond':
      return jsTruthy(ev(node.cond)) ? ev(node.yes) : node.no ? ev(node.no) : undefined;
    case 'bin':
      return binary(node.op, node.left, node.right, scope);
    case 'filter': {
      const f = FILTERS.get(node.name);
      if (!f) throw new Error(`unknown filter "${node.name}"`);
      try {
        return f(ev(node.input), ...node.args.map(ev));
      } catch (err) {
        throw prefixed(err, `filter "${node.name}"`);
      }
    }
    case 'test': {
      const test = TESTS.get(node.name);
      if (!test) throw new Error(`unknown test "${node.name}"`);
      const r = test(ev(node.input), ...node.args.map(ev));
      return node.negate ? !r : r;
    }
    case 'call': {
      const args = node.args.map(ev);
      if (node.callee.t === 'name') {
        if (node.callee.name === 'range') return range(args);
        throw new Error(`"${node.callee.name}" cannot be called`);
      }
      if (node.callee.t !== 'member' || node.callee.key.t !== 'lit') throw new Error('this cannot be called');
      const name = String(node.callee.key.v);
      const m = METHODS.get(name);
      if (!m) throw new Error(`method "${name}" is not allowed`);
      try {
        return m(ev(node.callee.obj), args);
      } catch (err) {
        throw prefixed(err, `.${name}()`);
      }
    }
  }
}

function prefixed(err: unknown, what: string): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  if (e.message.startsWith(what)) return e;
  return new Error(`${what}: ${e.message}`);
}

function binary(op: BinOp, l: Node, r: Node, scope: Readonly<Record<string, unknown>>): unknown {
  const left = evaluate(l, scope);
  if (op === 'and') return jsTruthy(left) ? evaluate(r, scope) : left;
  if (op === 'or') return jsTruthy(left) ? left : evaluate(r, scope);
  const right = evaluate(r, scope);
  switch (op) {
    case '==':
      return looseEqual(left, right);
    case '!=':
      return !looseEqual(left, right);
    case '===':
      return strictEqual(left, right);
    case '!==':
      return !strictEqual(left, right);
    case '<':
    case '>':
    case '<=':
    case '>=':
      return relate(op, left, right);
    case '+':
      return plus(left, right);
    case '~':
      return capString(jsString(left) + jsString(right));
    case '-':
      return toNumber(left) - toNumber(right);
    case '*':
      return toNumber(left) * toNumber(right);
    case '/':
      return toNumber(left) / toNumber(right);
    case '//':
      return Math.floor(toNumber(left) / toNumber(right));
    case '%':
      return toNumber(left) % toNumber(right);
    case '**':
      return toNumber(left) ** toNumber(right);
    case 'in':
      return contains(right, left);
  }
}
