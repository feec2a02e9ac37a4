/** Terminal helpers shared by plugins' CLI commands. */

import { shortRef } from '@bank/catalog/model';

/** Refs as people write them (catalog/src/model/ref.ts), for the plugins' tables. */
export { shortRef };

/** Exit codes of the `portal` CLI: 0 ok, 1 error, 2 usage. */
export const EXIT = { ok: 0, error: 1, usage: 2 } as const;

/** A usage error: wrong arguments. The CLI prints it with the command's help hint and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Columns aligned with spaces; long cells are cut with an ellipsis so rows stay on one line. */
export function formatTable(
  headers: string[],
  rows: (string | number | undefined)[][],
  maxWidth = 48,
): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined ? '' : String(c))))].map((r) =>
    r.map((c) => (c.length > maxWidth ? `${c.slice(0, maxWidth - 1)}…` : c)),
  );
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r, ri) => {
      const line = r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
      return ri === 0 ? `${line}\n${widths.map((w) => '─'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * The "did you mean" line for an unknown name, or undefined when the error's message already names the
 * suggestions (most do: "unknown ref 'card-apu'; closest: card-api"), so a typo is answered once.
 */
export function didYouMean(message: string, suggestions: readonly string[] | undefined): string | undefined {
  if (!suggestions?.length) return undefined;
  const named = (s: string) =>
    message.includes(s) ||
    message.includes(shortRef(s)) ||
    message.includes(s.replace(/^[^:]+:default\//, ''));
  if (suggestions.every(named)) return undefined;
  return `did you mean: ${suggestions.map(shortRef).join(', ')}`;
}
