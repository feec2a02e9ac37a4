// tsx catalog/src/store/migrate/cli.ts deploy|status|diff|dev --name x [--create-only] [--db URL]
// The database is --db, else DATABASE_URL, else file:<repo>/data/portal.db.
// Exit codes: 0 ok, 1 error, 2 status found problems (the CI drift check).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { redact } from './adapters.ts';
import { migrateDeploy, migrateDev, migrateDiff, migrateStatus } from './index.ts';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const usage = `usage: tsx catalog/src/store/migrate/cli.ts <command> [--db URL]
  deploy                        apply pending migrations
  status                        pending/failed/edited migrations, drift, unmigrated schema changes (exit 2)
  diff                          SQL from the migrations to schema.prisma
  dev --name x [--create-only]  create a migration from schema.prisma (and apply it)
database: --db, else DATABASE_URL, else file:${join(repo, 'data', 'portal.db')}`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      db: { type: 'string' },
      name: { type: 'string', short: 'n' },
      'create-only': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command] = positionals;
  if (values.help || !command) {
    console.log(usage);
    return values.help ? 0 : 1;
  }
  const url = values.db || process.env.DATABASE_URL || `file:${join(repo, 'data', 'portal.db')}`;
  const where = redact(url);
  switch (command) {
    case 'deploy': {
      const { applied } = await migrateDeploy(url);
      console.log(
        applied.length
          ? `Applied ${applied.length} migration(s) to ${where}:\n${applied.map((n) => `  ${n}`).join('\n')}`
          : `No pending migrations; ${where} is up to date.`,
      );
      return 0;
    }
    case 'status': {
      const { ok, problems } = await migrateStatus(url);
      if (ok) {
        console.log(`Database ${where} is up to date with its migrations and schema.prisma.`);
        return 0;
      }
      console.error(`Database ${where}:\n${problems.map((p) => `- ${p}`).join('\n')}`);
      return 2;
    }
    case 'diff': {
      const sql = await migrateDiff(url);
      console.log(sql || '-- No difference between the migrations and schema.prisma.');
      return 0;
    }
    case 'dev': {
      if (!values.name) throw new Error('dev needs --name <migration_name>');
      const createOnly = values['create-only'] === true;
      const { created, warnings } = await migrateDev(url, values.name, { createOnly });
      if (!created) {
        console.log('schema.prisma has no changes; no migration created.');
      } else if (warnings?.length) {
        console.log(
          `Created ${created} but did NOT apply it:\n${warnings.map((w) => `  ! ${w}`).join('\n')}`,
        );
        console.log('Review the migration, then run deploy.');
      } else {
        console.log(
          `Created ${created}${createOnly ? ' (not applied: --create-only)' : ` and applied it to ${where}`}.`,
        );
      }
      return 0;
    }
    default:
      console.error(usage);
      return 1;
  }
}

// Exit explicitly: nothing should linger, but a pg pool must never hold the process open.
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
