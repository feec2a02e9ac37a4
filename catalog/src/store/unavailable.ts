import path from 'node:path';

/**
 * The catalogue's database cannot do what was asked for a reason outside the request: PostgreSQL is down
 * or refuses us, the SQLite file is read-only, the disk is full, another writer holds the lock. The HTTP
 * layer answers 503 with this message. The message names the database (the SQLite file, or the PostgreSQL
 * database's name) but never its host, port, user or password, and never the driver's own text, which
 * can carry them.
 */
export class DatabaseUnavailableError extends Error {
  readonly status = 503;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** "the catalogue database /srv/portal/data/portal.db" or "the PostgreSQL database \"portal\"". */
export function databaseLabel(url: string): string {
  if (/^postgres(ql)?:\/\//.test(url)) {
    let name = 'postgres';
    try {
      name = decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
    } catch {}
    return `the PostgreSQL database "${name}"`;
  }
  return `the catalogue database ${path.resolve(url.replace(/^file:/, ''))}`;
}

/** Every code and message in an error's chain (Prisma wraps the driver's error one or two levels deep). */
function facts(err: unknown): { codes: string[]; messages: string[]; names: string[] } {
  const codes: string[] = [];
  const messages: string[] = [];
  const names: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number) => {
    if (!e || typeof e !== 'object' || seen.has(e) || depth > 6) return;
    seen.add(e);
    const o = e as Record<string, unknown>;
    if (typeof o.code === 'string') codes.push(o.code);
    if (typeof o.errorCode === 'string') codes.push(o.errorCode);
    if (typeof o.originalCode === 'string') codes.push(o.originalCode);
    if (typeof o.message === 'string') messages.push(o.message);
    if (typeof o.name === 'string') names.push(o.name);
    if (typeof o.kind === 'string') names.push(o.kind);
    visit(o.cause, depth + 1);
    visit(o.meta, depth + 1);
    visit(o.driverAdapterError, depth + 1);
    if (Array.isArray(o.errors)) for (const x of o.errors) visit(x, depth + 1);
  };
  visit(err, 0);
  return { codes, messages, names };
}

const PG_UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'P1001',
  'P1002',
  'P1008',
  'P1017',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);

/**
 * The database-side reason for `err` as a DatabaseUnavailableError, or undefined when `err` is not about
 * the database being unavailable (a bug, a constraint violation: those stay what they are).
 */
export function databaseUnavailable(err: unknown, url: string): DatabaseUnavailableError | undefined {
  if (err instanceof DatabaseUnavailableError) return err;
  const what = databaseLabel(url);
  const { codes, messages, names } = facts(err);
  const has = (re: RegExp) => codes.some((c) => re.test(c));
  const says = (re: RegExp) => messages.some((m) => re.test(m));
  const nothing = 'Nothing was written.';
  if (has(/^SQLITE_READONLY/) || says(/attempt to write a readonly database/i)) {
    return new DatabaseUnavailableError(
      `${what} is read-only (the file, its folder or the disk does not allow writing). ${nothing} ` +
        'Make it writable by the user the portal runs as, or point --db / DATABASE_URL at a writable file.',
      { cause: err },
    );
  }
  if (has(/^SQLITE_FULL$/) || has(/^53100$/) || says(/database or disk is full|No space left on device/i)) {
    return new DatabaseUnavailableError(
      `The disk holding ${what} is full. ${nothing} Free some space and try again.`,
      { cause: err },
    );
  }
  if (has(/^SQLITE_BUSY/) || says(/is busy: another process/)) {
    const own = messages.find((m) => /is busy: another process/.test(m));
    return new DatabaseUnavailableError(
      own ?? `${what} is busy: another process is writing. ${nothing} Try again.`,
      {
        cause: err,
      },
    );
  }
  if (has(/^SQLITE_(CANTOPEN|IOERR|CORRUPT|NOTADB)/)) {
    return new DatabaseUnavailableError(
      `${what} cannot be opened or read (${codes.find((c) => c.startsWith('SQLITE_'))}). ${nothing} ` +
        'Check the file and the disk; restore it from a backup if it is damaged.',
      { cause: err },
    );
  }
  if (
    codes.some((c) => PG_UNREACHABLE_CODES.has(c) || /^08/.test(c)) ||
    names.includes('PrismaClientInitializationError') ||
    says(
      /Connection terminated|connection error and is not queryable|connection timeout|timeout exceeded when trying to connect|terminating connection|the database system is (shutting down|starting up)|Can't reach database server/i,
    )
  ) {
    return new DatabaseUnavailableError(
      `${what} is unreachable (the server is down, restarting, or refuses connections). ${nothing} ` +
        'Check that PostgreSQL is running and that DATABASE_URL / --db points at it; the portal reconnects by itself.',
      { cause: err },
    );
  }
  if (has(/^(28P01|28000)$/) || has(/^P1000$/)) {
    return new DatabaseUnavailableError(
      `${what} refused the portal's credentials. ${nothing} Check the user and password in DATABASE_URL.`,
      { cause: err },
    );
  }
  if (has(/^3D000$/) || has(/^P1003$/)) {
    return new DatabaseUnavailableError(
      `${what} does not exist. Create it, or fix the name in DATABASE_URL.`,
      {
        cause: err,
      },
    );
  }
  return undefined;
}

/** Rethrow `err` as a DatabaseUnavailableError when that is what it is. */
export function translateDatabaseError(err: unknown, url: string): unknown {
  return databaseUnavailable(err, url) ?? err;
}
