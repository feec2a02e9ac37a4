import type { IngestError } from '@bank/catalog';

/**
 * The server's log of an ingest's problems: one line per file, its first problem (`file:line:column`, as
 * editors and `portal errors` show them) and how many more it has, errors before warnings. A person
 * reading the log learns which files to open; `portal errors` and the UI list every problem.
 */
type Problem = Pick<IngestError, 'file' | 'line' | 'column' | 'message' | 'severity'>;

export function ingestProblemLines(errors: readonly Problem[]): string[] {
  const byFile = new Map<string, Problem[]>();
  for (const e of errors) {
    const list = byFile.get(e.file);
    if (list) list.push(e);
    else byFile.set(e.file, [e]);
  }
  const lines: string[] = [];
  for (const [file, list] of [...byFile].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...list].sort(
      (a, b) =>
        Number(a.severity === 'warning') - Number(b.severity === 'warning') ||
        a.line - b.line ||
        a.column - b.column,
    );
    const first = sorted[0];
    const errorCount = list.filter((e) => e.severity !== 'warning').length;
    const warningCount = list.length - errorCount;
    const counts = [
      errorCount ? `${errorCount} ${errorCount === 1 ? 'error' : 'errors'}` : '',
      warningCount ? `${warningCount} ${warningCount === 1 ? 'warning' : 'warnings'}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(
      `${first.severity === 'warning' ? 'warning' : 'error'} ${file}:${first.line}:${first.column}: ${first.message.split('\n')[0]} [${counts}]`,
    );
  }
  return lines;
}
