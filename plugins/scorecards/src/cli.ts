import { EXIT, formatTable, shortRef, UsageError } from '@bank/plugin-kit';
import type { Command } from 'commander';
import type { CheckResult } from './lib/evaluate.ts';
import {
  type EntityReport,
  entityReport,
  levelParam,
  rollups,
  type TeamReport,
  teamReport,
} from './lib/queries.ts';
import type { ScorecardRollup } from './lib/rollup.ts';
import type { ScorecardService } from './lib/service.ts';

export interface ScoreIo {
  stdout(text: string): void;
  stderr(text: string): void;
  setExitCode(code: number): void;
  /** Resolves when what was written is out (the CLI exits right after a command; a pipe must not be cut). */
  flush?(): Promise<void>;
}

const processIo: ScoreIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  setExitCode: (c) => {
    process.exitCode = c;
  },
  flush: () => new Promise<void>((resolve) => process.stdout.write('', () => resolve())),
};

interface ScoreOptions {
  team?: string;
  scorecard?: string;
  level?: string;
  json?: boolean;
}

/**
 * `portal score [<ref>…] [--team <squad>] [--level <name>] [--json]`: a service's level and failing checks
 * (exit 1 when a named service is below the level asked, so CI can gate on it), a team's services, or the
 * pass rates by collective and squad.
 */
export function registerScorecardsCommands(
  program: Command,
  load: () => Promise<ScorecardService>,
  io: ScoreIo = processIo,
): void {
  program
    .command('score')
    .description(
      "production readiness by the bank's scorecards (scorecards/*.yaml): a service's level and failing checks, a team's services, or pass rates by team",
    )
    .argument('[refs...]', 'services to score; exit 1 when one is below the level asked')
    .option('--team <squad>', "a squad's (or collective's) services, worst first")
    .option('--scorecard <name>', 'only this scorecard')
    .option('--level <name>', 'the level a named service must reach (default: each scorecard’s lowest)')
    .option('--json', 'the same JSON as /api/scorecards')
    .action(async (refs: string[], opts: ScoreOptions) => {
      if (refs.length && opts.team) throw new UsageError('score: name services or a --team, not both');
      const level = levelParam(opts.level);
      const svc = await load();
      for (const e of svc.errors())
        io.stderr(
          `portal score: ${e.file}:${e.line}:${e.column} ${e.message}${e.scorecard ? ' (last good version in force, stale)' : ''}\n`,
        );
      if (refs.length) {
        const reports = refs.map((r) => entityReport(svc, r, level));
        const only = (r: EntityReport) =>
          opts.scorecard
            ? { ...r, scorecards: r.scorecards.filter((s) => s.scorecard === opts.scorecard) }
            : r;
        const shown = reports.map(only).map((r) => ({ ...r, passes: r.scorecards.every((s) => s.passes) }));
        io.stdout(
          opts.json
            ? `${JSON.stringify(shown.length === 1 ? shown[0] : shown, null, 2)}\n`
            : shown.map(renderEntity).join('\n'),
        );
        io.setExitCode(shown.every((r) => r.passes) ? EXIT.ok : EXIT.error);
        await io.flush?.();
        return;
      }
      if (opts.team) {
        const report = teamReport(svc, opts.team);
        if (opts.scorecard)
          report.scorecards = report.scorecards.filter((s) => s.scorecard === opts.scorecard);
        io.stdout(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderTeam(report));
        io.setExitCode(EXIT.ok);
        await io.flush?.();
        return;
      }
      const all = rollups(svc, opts.scorecard);
      io.stdout(opts.json ? `${JSON.stringify(all, null, 2)}\n` : all.map(renderRollup).join('\n'));
      io.setExitCode(EXIT.ok);
      await io.flush?.();
    });
}

const mark = (c: CheckResult) => (c.status === 'pass' ? '✓' : c.status === 'fail' ? '✗' : '–');

function renderEntity(r: EntityReport): string {
  const out: string[] = [];
  if (r.scorecards.length === 0) return `${shortRef(r.entity)}: no scorecard applies\n`;
  for (const s of r.scorecards) {
    out.push(
      `${shortRef(r.entity)} · ${s.title}${s.stale ? ' (stale scorecard)' : ''}: ${s.level ?? 'no level'}${s.passes ? '' : ` — below ${s.required}, FAILS`}`,
    );
    if (s.next) out.push(`  next: ${s.next.level} needs ${s.next.failing.join(', ')}`);
    for (const c of s.checks) {
      out.push(`  ${mark(c)} ${c.title} [${c.level ?? '-'}]: ${c.why}`);
      if (c.status === 'fail') {
        out.push(`      fix: ${c.fix}`);
        if (c.evidence)
          out.push(`      see: ${c.evidence.file}${c.evidence.line ? `:${c.evidence.line}` : ''}`);
        out.push(`      decided by: ${c.definedAt.file}:${c.definedAt.line}:${c.definedAt.column}`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}

function renderTeam(r: TeamReport): string {
  const out: string[] = [];
  for (const s of r.scorecards) {
    out.push(`${shortRef(r.team)} · ${s.scorecard}: ${s.services.length} services`);
    out.push(
      formatTable(
        ['service', 'tier', 'level', 'failing'],
        s.services.map((x) => [
          shortRef(x.entity),
          x.tier ?? '',
          x.level ?? '-',
          x.checks
            .filter((c) => c.status === 'fail')
            .map((c) => c.check)
            .join(', '),
        ]),
        80,
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

function renderRollup(r: ScorecardRollup): string {
  const pct = (n: number) => `${Math.round(n * 100)}%`;
  const head = `${r.title}: ${r.services} services; ${r.levels.map((l) => `${l} ${pct(r.services ? r.atLeast[l] / r.services : 0)}`).join(', ')}`;
  const table = formatTable(
    ['collective', 'services', ...r.levels, 'most failing'],
    r.collectives.map((c) => [
      shortRef(c.team),
      c.services,
      ...r.levels.map((l) => pct(c.services ? c.atLeast[l] / c.services : 0)),
      c.topFailing
        .slice(0, 3)
        .map((f) => `${f.check} (${f.services})`)
        .join(', '),
    ]),
    60,
  );
  return `${head}\n${table}\n`;
}
