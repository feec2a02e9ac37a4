/**
 * `portal templates` and `portal scaffold <template> --set k=v … [--dry-run] [--json]`. The CLI runs the
 * engine in-process against the same catalogue and repository as the server, and prints at least
 * `{"dir", "entityRef", "files": []}` with --json.
 */
import os from 'node:os';
import type { CatalogService } from '@bank/plugin-catalog';
import { formatTable, printJson, UsageError } from '@bank/plugin-kit';
import type { Command } from 'commander';
import { Scaffolder, type ScaffoldResult, StepFailedError } from './engine.ts';
import { coerceSets, ParameterConflictError, ParameterError, type ParameterProblem } from './parameters.ts';
import { repoRootFor } from './server/router.ts';
import type { Template } from './template.ts';

interface Opts {
  json?: boolean;
  dryRun?: boolean;
  set?: string[];
  repo?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

async function scaffolderFor(
  open: () => Promise<CatalogService>,
  repo?: string,
): Promise<{ scaffolder: Scaffolder; catalog: CatalogService }> {
  const catalog = await open();
  const view = await catalog.view();
  // A fresh database: read the estate first, or every owner would be "unknown".
  if (view.size === 0) await catalog.ingest();
  return { scaffolder: new Scaffolder({ repoRoot: repo ?? repoRootFor(catalog), catalog }), catalog };
}

export function registerScaffolderCommands(program: Command, open: () => Promise<CatalogService>): void {
  registerTemplates(program, open);
  registerScaffold(program, open);
}

/** `portal templates`: each template with its version, type and parameters; broken ones on stderr. */
function registerTemplates(program: Command, open: () => Promise<CatalogService>): void {
  program
    .command('templates')
    .description('list the scaffolder templates (templates/*/template.yaml) and their parameters')
    .option('--repo <dir>', 'monorepo root (default: PORTAL_REPO_ROOT, else the parent of services/)')
    .option('--json', 'machine-readable output')
    .action(async (opts: Opts) => {
      const { scaffolder } = await scaffolderFor(open, opts.repo);
      const { templates, errors } = scaffolder.listTemplates();
      if (opts.json) {
        printJson({
          templates: templates.map((t) => ({
            name: t.name,
            title: t.title,
            version: t.version,
            type: t.type,
            description: t.description,
            parameters: t.parameters.flatMap((p) => Object.keys(p.properties)),
            required: t.parameters.flatMap((p) => p.required ?? []),
            missingActions: t.missingActions,
          })),
          errors: errors.map((e) => e.message),
        });
      } else {
        process.stdout.write(
          `${formatTable(
            ['TEMPLATE', 'VERSION', 'TYPE', 'PARAMETERS (* required)'],
            templates.map((t) => {
              const required = new Set(t.parameters.flatMap((p) => p.required ?? []));
              return [
                t.name,
                t.version,
                t.type,
                t.parameters
                  .flatMap((p) => Object.keys(p.properties).map((k) => (required.has(k) ? `${k}*` : k)))
                  .join(' '),
              ];
            }),
            90,
          )}\n`,
        );
        for (const e of errors) process.stderr.write(`broken template: ${e.message}\n`);
        for (const t of templates)
          for (const m of t.missingActions)
            process.stderr.write(
              `${t.name}: ${t.shownFile}:${m.line ?? '?'}: step "${m.stepId}" uses action "${m.action}", not available here (dry-run only)\n`,
            );
        process.stdout.write(
          '\nportal scaffold <template> --set name=… --set owner=… [--set dependsOn=a,b] [--dry-run]\n',
        );
      }
      process.exitCode = errors.length > 0 ? 1 : 0;
    });
}

/** `portal scaffold <template>`: validate, run the steps (progress on stderr), audit a real run, report. */
function registerScaffold(program: Command, open: () => Promise<CatalogService>): void {
  program
    .command('scaffold')
    .description(
      'create a service from a template: renders, validates its manifests, writes services/<name>, commits it on the checked-out branch and registers it',
    )
    .argument('<template>', 'template name, e.g. typescript-service (see portal templates)')
    .option(
      '--set <key=value>',
      'a parameter; repeat it; lists are comma-separated (dependsOn=ledger,accounts)',
      collect,
      [],
    )
    .option('--dry-run', 'render everything (files, manifests, catalogue diff) and write nothing')
    .option('--repo <dir>', 'monorepo root (default: PORTAL_REPO_ROOT, else the parent of services/)')
    .option('--json', 'machine-readable output: {"dir","entityRef","files":[…],…}')
    .action(async (templateName: string, opts: Opts) => {
      if (!templateName)
        throw new UsageError('portal scaffold <template> --set name=… (see portal templates)');
      const { scaffolder, catalog } = await scaffolderFor(open, opts.repo);
      const template = scaffolder.template(templateName);
      const raw = coerceSets(template, opts.set ?? []);
      const actor = { kind: 'user', id: `cli:${os.userInfo().username}` };
      const progress = !opts.json && process.stderr.isTTY !== undefined;
      let result: ScaffoldResult;
      try {
        const values = await scaffolder.parameters(template, raw);
        result = await scaffolder.execute(template, values, {
          actor,
          dryRun: opts.dryRun,
          onEvent: (e) => {
            if (progress && e.type === 'step' && e.status !== 'processing') {
              process.stderr.write(
                `  ${e.status === 'completed' ? '✓' : e.status === 'skipped' ? '-' : '✗'} ${e.name}${e.ms !== undefined ? ` (${e.ms} ms)` : ''}\n`,
              );
            }
          },
        });
      } catch (err) {
        if (err instanceof ParameterError || err instanceof ParameterConflictError) {
          reportProblems(err.problems, opts.json);
          process.exitCode = 1;
          return;
        }
        if (err instanceof StepFailedError) {
          if (opts.json) printJson({ error: err.message, step: err.stepId, rolledBack: true });
          else
            process.stderr.write(
              `portal: ${err.message}\nnothing was left behind: every step before it was rolled back\n`,
            );
          process.exitCode = 1;
          return;
        }
        throw err;
      }
      if (!opts.dryRun) {
        await catalog.store
          .audit(actor.id, 'scaffolder.create', result.entityRef ?? template.name, {
            template: template.name,
            version: template.version,
            dir: result.dir,
            branch: result.branch,
            commit: result.commitHash,
          })
          .catch(() => undefined);
      }
      if (opts.json) {
        printJson({
          dir: result.dir,
          entityRef: result.entityRef,
          files: result.files,
          dryRun: result.dryRun,
          template: result.template,
          branch: result.branch,
          commitHash: result.commitHash,
          modified: result.modified?.map((m) => m.path),
          manifests: result.manifests,
          catalogDiff: result.catalogDiff,
          durationMs: result.durationMs,
        });
        return;
      }
      process.stdout.write(`${describeResult(result, template, opts.dryRun === true).join('\n')}\n`);
    });
}

/** What a scaffold made (or would make): files, manifests, callees changed, the catalogue diff, the commit. */
function describeResult(result: ScaffoldResult, template: Template, dryRun: boolean): string[] {
  const out: string[] = [];
  out.push(
    `${dryRun ? 'Would create' : 'Created'} ${result.entityRef ?? '(no entity)'} in ${result.dir ?? '(workspace)'} from ${template.name} ${template.version} in ${result.durationMs} ms`,
  );
  out.push('', 'Files:', ...result.files.map((f) => `  ${f}`));
  out.push('', 'Kubernetes manifests (validated offline):');
  for (const m of result.manifests)
    out.push(
      `  ${m.errors.length ? '✗' : '✓'} ${m.kind}/${m.name} (${m.file})${m.errors.length ? `: ${m.errors.join('; ')}` : ''}`,
    );
  if (result.modified?.length) {
    out.push(
      '',
      `${dryRun ? 'Would update' : 'Updated'} (callees admitting the new caller):`,
      ...result.modified.map((m) => `  ${m.path}`),
    );
  }
  if (result.catalogDiff) {
    out.push('', 'Catalogue:');
    for (const a of result.catalogDiff.added)
      out.push(`  + ${a.ref}`, ...a.relations.map((r) => `      ${r.type} ${r.targetRef}`));
    for (const r of result.catalogDiff.relationsAdded) out.push(`  ~ ${r.source} ${r.type} ${r.targetRef}`);
  }
  if (result.branch)
    out.push(
      '',
      `Git: ${dryRun ? 'would commit on' : `committed ${result.commitHash?.slice(0, 12)} on`} branch ${result.branch}`,
      ...(result.repoUrl && result.commitHash && !dryRun
        ? [`  ${result.repoUrl}/commit/${result.commitHash}`]
        : []),
    );
  for (const t of result.output.text)
    if (!dryRun && t.content) out.push('', `${t.title ?? ''}:`, t.content.trim());
  return out;
}

function reportProblems(problems: ParameterProblem[], json?: boolean): void {
  if (json) {
    printJson({ error: 'invalid parameters; nothing was written', problems });
    return;
  }
  process.stderr.write('portal: invalid parameters; nothing was written\n');
  for (const p of problems) process.stderr.write(`  --set ${p.field}: ${p.message}\n`);
}
