import { createHash } from 'node:crypto';
import type { Entity, EntityRelation } from '@backstage/catalog-model';
import { STORED_RELATIONS, sortRelations } from '../model/relations.ts';
import type { PortalPrisma } from './prisma.ts';
import { openDriver, providerOfUrl, type SqlDriver, sqliteFile } from './sql.ts';

/** An entity as the store keeps it: the descriptor as ingested, where it came from, and whether it is stale. */
export interface StoredEntity {
  ref: string;
  /** The entity as ingested (metadata.namespace filled, uid and etag set), without relations. */
  entity: Entity;
  sourceFile: string | null;
  line: number | null;
  stale: boolean;
  staleReason: string | null;
}

export interface SourceFileRow {
  path: string;
  hash: string;
  entityRefs: string[];
  ok: boolean;
}

export interface IngestErrorRow {
  file: string;
  line: number;
  column: number;
  entityRef: string | null;
  message: string;
}

export type AuditOutcome = 'allowed' | 'denied' | 'failed';

export interface AuditRow {
  /** Absent until stored. */
  id?: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: string | null;
  outcome: AuditOutcome;
  client: string | null;
  userAgent: string | null;
  /** Null on rows written before the chain existed. */
  prevHash: string | null;
  hash: string | null;
}

export type AuditVerdict =
  | { ok: true; checked: number; unchained: number }
  | { ok: false; checked: number; unchained: number; broken: AuditRow; reason: string };

export interface SessionRow {
  /** sha256 of the cookie's secret. */
  id: string;
  userRef: string;
  via: 'dev' | 'oidc';
  expiresAt: string;
  client: string | null;
  userAgent: string | null;
}

export interface TokenRow {
  id: string;
  name: string;
  createdBy: string;
  createdAt: string;
  scopes: string[];
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface LocationRow {
  id: string;
  type: string;
  target: string;
  entityRef: string;
}

export interface CatalogSnapshot {
  entities: StoredEntity[];
  relations: Map<string, EntityRelation[]>;
  files: SourceFileRow[];
  errors: IngestErrorRow[];
  /** The catalogue's generation this snapshot is of: a write names it to prove nobody wrote since. */
  generation: number;
}

/**
 * What writes after a generation changed, read back for a portal that follows the store: entity rows (null:
 * removed), the stored side of relations per source ref, and file rows (null: removed).
 */
export interface CatalogDelta {
  generation: number;
  entities: Map<string, StoredEntity | null>;
  relations: Map<string, { type: string; targetRef: string }[]>;
  files: Map<string, SourceFileRow | null>;
}

/** A write that changes more keys than this logs `all`: its followers read the whole store again. */
const CHANGE_LOG_LIMIT = 5_000;
/** Writes whose changes are kept; a follower further behind reads the whole store again. */
const CHANGE_LOG_WRITES = 1_000;

/**
 * Another writer (a second portal on the same PostgreSQL, `portal ingest` beside a running portal) changed the
 * catalogue after this one read it: nothing was written; read the store again and redo the work.
 */
export class CatalogConflictError extends Error {
  constructor(expected: number) {
    super(
      `The catalogue changed while this ingest ran (another writer moved it on from generation ${expected}); nothing was written`,
    );
    this.name = 'CatalogConflictError';
  }
}

/** One ingest's changes, written in one transaction. */
export interface IngestWrite {
  upsert: StoredEntity[];
  remove: string[];
  /** Full relation lists for these source refs (replacing what was stored). */
  relations: Map<string, EntityRelation[]>;
  files: SourceFileRow[];
  removeFiles: string[];
  /**
   * Replaces the stored ingest errors of the files in `errorsFor` (as errors name files), or every stored
   * error when it is absent: an ingest that read one file says nothing about the others' problems.
   */
  errors: IngestErrorRow[];
  errorsFor?: string[];
}

/**
 * The catalogue's storage. Prisma owns the schema and migrations (catalog/prisma); reads and writes go
 * through the raw driver, because ingest writes tens of thousands of rows at a time.
 */
export class CatalogStore {
  readonly url: string;
  readonly provider;
  private sql: SqlDriver;
  private prismaClient: PortalPrisma | undefined;
  /** Audit appends waiting for the next batch, and the batch writer while it runs (see audit). */
  private auditPending: {
    entry: AuditEntry;
    resolve: (row: AuditRow) => void;
    reject: (err: unknown) => void;
  }[] = [];
  private auditFlushing: Promise<void> | undefined;
  /** The hash of the newest audit row as this process knows it; undefined: read it from the table. */
  private auditHead: string | undefined;

  private constructor(url: string) {
    this.url = url;
    this.provider = providerOfUrl(url);
    this.sql = openDriver(url);
  }

  /** Open the store at `url`, applying any pending migrations first. */
  static async open(url: string, opts: { migrate?: boolean } = {}): Promise<CatalogStore> {
    const store = new CatalogStore(url);
    if (opts.migrate !== false && !(await store.migrationsApplied())) {
      // The schema engine takes its own connection and needs the database to itself.
      await store.sql.close();
      // A new SQLite file takes the migrations as they are, without starting the engine (see fresh-sqlite.ts).
      const { migrateFreshSqlite } = await import('./migrate/fresh-sqlite.ts');
      if (store.provider !== 'sqlite' || !migrateFreshSqlite(sqliteFile(url))) {
        const { migrateDeploy } = await import('./migrate/index.ts');
        await migrateDeploy(url);
      }
      store.sql = openDriver(url);
    }
    return store;
  }

  /**
   * True when every migration in catalog/prisma/<provider>/migrations is recorded as finished: then start-up
   * skips the schema engine (it costs about a second). Anything else goes through `migrateDeploy`.
   */
  private async migrationsApplied(): Promise<boolean> {
    const { migrationNames, pathsFor } = await import('./migrate/migrations.ts');
    const wanted = migrationNames(pathsFor(this.provider).migrationsDir);
    try {
      const rows = await this.sql.query<{ migration_name: string }>(
        'SELECT "migration_name" FROM "_prisma_migrations" WHERE "finished_at" IS NOT NULL AND "rolled_back_at" IS NULL',
      );
      const applied = new Set(rows.map((r) => r.migration_name));
      return wanted.every((name) => applied.has(name));
    } catch {
      return false; // no migrations table yet: a fresh database
    }
  }

  /**
   * When this database was made: its first migration's start (Prisma's bookkeeping). Tells a cache written
   * for this store from one left by an earlier store at the same path, whose generations were the same
   * numbers. Undefined when it cannot be read.
   */
  async createdAt(): Promise<number | undefined> {
    try {
      const rows = await this.sql.query<{ at: string | Date | null }>(
        'SELECT MIN("started_at") AS "at" FROM "_prisma_migrations"',
      );
      const at = rows[0]?.at;
      const ms = at === null || at === undefined ? Number.NaN : new Date(at).getTime();
      return Number.isNaN(ms) ? undefined : ms;
    } catch {
      return undefined;
    }
  }

  /** The catalogue's current generation: it moves on with every write, by any process. */
  async generation(): Promise<number> {
    const rows = await this.sql.query<{ generation: number | string }>(
      'SELECT "generation" FROM "CatalogState" WHERE "id" = 1',
    );
    return Number(rows[0]?.generation ?? 0);
  }

  /**
   * Everything, as of one generation. Reads are not one transaction (SQLite would hold its WAL from
   * checkpointing for the whole read): the generation is read before and after, and a read that another
   * writer overlapped is done again.
   */
  async load(): Promise<CatalogSnapshot> {
    for (let attempt = 1; ; attempt++) {
      const before = await this.generation();
      const snap = await this.loadRows();
      const after = await this.generation();
      // A store written without pause for five reads running: generation -1 makes the next write fail, and the
      // writer reads again.
      if (before === after || attempt >= 5) return { ...snap, generation: before === after ? after : -1 };
    }
  }

  /**
   * What changed since generation `since`, read from the change log, if it can say: undefined when the
   * follower is too far behind or a write was too big to list (then load() everything).
   */
  async changesSince(since: number): Promise<CatalogDelta | undefined> {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const generation = await this.generation();
      if (generation === since) {
        return { generation, entities: new Map(), relations: new Map(), files: new Map() };
      }
      const log = await this.sql.query<{ generation: number | string; kind: string; key: string }>(
        'SELECT "generation", "kind", "key" FROM "CatalogChange" WHERE "generation" > ? AND "generation" <= ?',
        [since, generation],
      );
      const writes = new Set<number>();
      const refs = new Set<string>();
      const sources = new Set<string>();
      const paths = new Set<string>();
      for (const row of log) {
        if (row.kind === 'all') return undefined;
        if (row.kind === 'gen') writes.add(Number(row.generation));
        else if (row.kind === 'entity') refs.add(row.key);
        else if (row.kind === 'relations') sources.add(row.key);
        else if (row.kind === 'file') paths.add(row.key);
      }
      if (writes.size !== generation - since) return undefined; // pruned, or written before the log existed
      const delta: CatalogDelta = { generation, entities: new Map(), relations: new Map(), files: new Map() };
      for (const ref of refs) delta.entities.set(ref, null);
      for (const chunk of chunks([...refs], 500)) {
        const rows = await this.sql.query<EntityRow>(
          `SELECT ${ENTITY_COLUMNS} FROM "Entity" WHERE "ref" IN (${chunk.map(() => '?').join(',')})`,
          chunk,
        );
        for (const r of rows) delta.entities.set(r.ref, storedEntityOf(r));
      }
      for (const source of sources) delta.relations.set(source, []);
      for (const chunk of chunks([...sources], 500)) {
        const rows = await this.sql.query<{ sourceRef: string; type: string; targetRef: string }>(
          `SELECT "sourceRef", "type", "targetRef" FROM "Relation" WHERE "sourceRef" IN (${chunk.map(() => '?').join(',')})`,
          chunk,
        );
        for (const r of rows)
          delta.relations.get(r.sourceRef)?.push({ type: r.type, targetRef: r.targetRef });
      }
      for (const p of paths) delta.files.set(p, null);
      for (const chunk of chunks([...paths], 500)) {
        const rows = await this.sql.query<FileRow>(
          `SELECT "path", "hash", "entityRefs", "ok" FROM "SourceFile" WHERE "path" IN (${chunk.map(() => '?').join(',')})`,
          chunk,
        );
        for (const f of rows) delta.files.set(f.path, sourceFileOf(f));
      }
      // Rows read while another write landed may be newer than the log: read again.
      if ((await this.generation()) === generation) return delta;
    }
    return undefined;
  }

  private async loadRows(): Promise<Omit<CatalogSnapshot, 'generation'>> {
    // Rows are taken one at a time, as arrays (no object per row), and strings that repeat (refs, relation
    // types) are shared: at 100k entities the store's rows would otherwise be held twice, once as rows and
    // once as entities.
    const entities: StoredEntity[] = [];
    await this.sql.eachRow(`SELECT ${ENTITY_COLUMNS} FROM "Entity"`, [], (r) => {
      entities.push(storedEntityOfRow(r));
    });
    const refs = new Map(entities.map((e) => [e.ref, e.ref]));
    const types = new Map([...STORED_RELATIONS.keys()].map((t) => [t, t]));
    // One side of each relation pair is stored (STORED_RELATIONS): the other is derived here.
    const relations = new Map<string, EntityRelation[]>();
    const listOf = (ref: string) => {
      let list = relations.get(ref);
      if (!list) {
        list = [];
        relations.set(ref, list);
      }
      return list;
    };
    // A source's relations come as one text ("type<TAB>target" per line; refs and types hold neither): 125,000
    // rows instead of 500,000 at 35,000 services.
    const joined =
      this.provider === 'postgresql'
        ? `string_agg("type" || E'\\t' || "targetRef", E'\\n')`
        : `group_concat("type" || char(9) || "targetRef", char(10))`;
    await this.sql.eachRow(`SELECT "sourceRef", ${joined} FROM "Relation" GROUP BY "sourceRef"`, [], (r) => {
      const source = refs.get(r[0] as string) ?? (r[0] as string);
      const own = listOf(source);
      for (const line of (r[1] as string).split('\n')) {
        const tab = line.indexOf('\t');
        const stored = line.slice(0, tab);
        const type = types.get(stored) ?? stored;
        const targetText = line.slice(tab + 1);
        const target = refs.get(targetText) ?? targetText;
        own.push({ type, targetRef: target });
        const inverse = STORED_RELATIONS.get(type);
        if (inverse) listOf(target).push({ type: inverse, targetRef: source });
      }
    });
    for (const list of relations.values()) sortRelations(list);
    const files: SourceFileRow[] = [];
    await this.sql.each<FileRow>('SELECT "path", "hash", "entityRefs", "ok" FROM "SourceFile"', [], (f) => {
      files.push(sourceFileOf(f, refs));
    });
    const errors = await this.errors();
    return { entities, relations, files, errors };
  }

  async errors(): Promise<IngestErrorRow[]> {
    return this.sql.query<IngestErrorRow>(
      'SELECT "file", "line", "column", "entityRef", "message" FROM "IngestError" ORDER BY "file", "line", "column", "id"',
    );
  }

  /**
   * Write one ingest's changes in one transaction, if the catalogue is still at generation `expected` (what
   * the writer loaded); returns the new generation. Throws CatalogConflictError, writing nothing, otherwise.
   */
  async write(w: IngestWrite, expected: number): Promise<number> {
    await this.sql.transaction(async (tx) => {
      // First, so that a concurrent writer waits on this row (PostgreSQL) or the database (SQLite) and then
      // finds the generation moved on.
      const moved = await tx.exec(
        'UPDATE "CatalogState" SET "generation" = "generation" + 1 WHERE "id" = 1 AND "generation" = ?',
        [expected],
      );
      if (moved !== 1) throw new CatalogConflictError(expected);
      const generation = expected + 1;
      const sources = new Set([...w.relations.keys(), ...w.remove]);
      const keys: [string, string][] = [
        ...[...new Set([...w.remove, ...w.upsert.map((e) => e.ref)])].map((k): [string, string] => [
          'entity',
          k,
        ]),
        ...[...sources].map((k): [string, string] => ['relations', k]),
        ...[...new Set([...w.removeFiles, ...w.files.map((f) => f.path)])].map((k): [string, string] => [
          'file',
          k,
        ]),
      ];
      const logged: [string, string][] = keys.length > CHANGE_LOG_LIMIT ? [['all', '']] : keys;
      await tx.insertMany(
        'CatalogChange',
        ['generation', 'kind', 'key'],
        [[generation, 'gen', ''], ...logged.map(([kind, key]) => [generation, kind, key])],
      );
      await tx.exec('DELETE FROM "CatalogChange" WHERE "generation" <= ?', [generation - CHANGE_LOG_WRITES]);
      // Every delete before any insert: PostgreSQL plans a delete on a table it has no statistics for (a
      // fresh one) as a scan, which interleaved with inserts would read the growing table once per chunk.
      const deleteIn = async (table: string, column: string, keys: string[]) => {
        for (const chunk of chunks(keys, 500)) {
          await tx.exec(
            `DELETE FROM "${table}" WHERE "${column}" IN (${chunk.map(() => '?').join(',')})`,
            chunk,
          );
        }
      };
      await deleteIn('Entity', 'ref', [...new Set([...w.remove, ...w.upsert.map((e) => e.ref)])]);
      await deleteIn('Relation', 'sourceRef', [...w.relations.keys()]);
      await deleteIn('SourceFile', 'path', [...new Set([...w.removeFiles, ...w.files.map((f) => f.path)])]);
      if (w.errorsFor) await deleteIn('IngestError', 'file', [...new Set(w.errorsFor)]);
      else await tx.exec('DELETE FROM "IngestError"');

      // Rows are built a chunk at a time, so a 100k-entity ingest never holds every row twice.
      for (const chunk of chunks(w.upsert, 1000)) {
        await tx.insertMany(
          'Entity',
          [
            'ref',
            'kind',
            'namespace',
            'name',
            'uid',
            'etag',
            'body',
            'sourceFile',
            'line',
            'stale',
            'staleReason',
          ],
          chunk.map((e) => [
            e.ref,
            e.entity.kind.toLowerCase(),
            e.entity.metadata.namespace ?? 'default',
            e.entity.metadata.name,
            e.entity.metadata.uid,
            e.entity.metadata.etag,
            JSON.stringify(e.entity),
            e.sourceFile,
            e.line,
            e.stale,
            e.staleReason,
          ]),
        );
      }
      for (const chunk of chunks([...w.relations.keys()], 500)) {
        const relRows: unknown[][] = [];
        for (const source of chunk) {
          for (const r of w.relations.get(source) ?? []) {
            if (STORED_RELATIONS.has(r.type)) relRows.push([source, r.type, r.targetRef]);
          }
        }
        await tx.insertMany('Relation', ['sourceRef', 'type', 'targetRef'], relRows);
      }
      await tx.insertMany(
        'SourceFile',
        ['path', 'hash', 'entityRefs', 'ok'],
        w.files.map((f) => [f.path, f.hash, JSON.stringify(f.entityRefs), f.ok]),
      );
      await tx.insertMany(
        'IngestError',
        ['file', 'line', 'column', 'entityRef', 'message'],
        w.errors.map((e) => [e.file, e.line, e.column, e.entityRef, e.message]),
      );
    });
    // A big write leaves PostgreSQL's statistics behind (autovacuum catches up within a minute): refresh them
    // now, so the next ingest's deletes use the keys' indexes.
    if (this.provider === 'postgresql' && w.upsert.length + w.relations.size > 10_000) {
      await this.sql.exec('ANALYZE "Entity", "Relation", "SourceFile"');
    }
    return expected + 1;
  }

  /**
   * The raw driver, for plugins that keep their own tables in the catalogue's database (deploys): one
   * connection pool per store, and the same migrations.
   */
  get driver(): SqlDriver {
    return this.sql;
  }

  /** Throws a DatabaseUnavailableError when the database cannot answer a query (for /readyz). */
  async ping(): Promise<void> {
    await this.sql.query('SELECT 1');
  }

  /** Prisma Client for the low-volume tables, opened on first use. */
  private async prisma(): Promise<PortalPrisma> {
    if (!this.prismaClient) {
      const { openPrisma } = await import('./prisma.ts');
      this.prismaClient = openPrisma(this.url);
    }
    return this.prismaClient;
  }

  /**
   * Append a write attempt to the audit log, chained to the row before it (see AuditEvent in
   * models.prisma.part). Group commit: appends that arrive while a batch is being written wait for the
   * next one, and a batch is chained in memory and written by one INSERT (all rows or none), so a burst of
   * writes costs one round trip per batch, not two per row. Another process racing for the same
   * predecessor loses on the unique prevHash and retries its whole batch on the new head. The promise
   * resolves once the row is stored.
   */
  audit(
    actor: string,
    action: string,
    target: string,
    details?: unknown,
    more: { outcome?: AuditOutcome; client?: string | null; userAgent?: string | null } = {},
  ): Promise<AuditRow> {
    return new Promise<AuditRow>((resolve, reject) => {
      this.auditPending.push({
        entry: {
          actor,
          action,
          target,
          details: details === undefined ? null : JSON.stringify(details),
          outcome: more.outcome ?? 'allowed',
          client: more.client ?? null,
          userAgent: more.userAgent?.slice(0, 512) ?? null,
        },
        resolve,
        reject,
      });
      if (!this.auditFlushing) this.auditFlushing = this.flushAudit();
    });
  }

  private async flushAudit(): Promise<void> {
    // Let the requests of this turn of the event loop join the batch: on SQLite a single append is written
    // synchronously, so without this wait every batch would hold one row.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.auditPending.length > 0) {
        const batch = this.auditPending.splice(0, AUDIT_BATCH);
        try {
          const rows = await this.appendAudit(batch.map((b) => b.entry));
          for (const [i, b] of batch.entries()) b.resolve(rows[i]);
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.auditFlushing = undefined;
    }
  }

  /**
   * One batch: read the head, chain the rows to it and to each other, insert them in one statement (all
   * or none) on the store's own connection. Written as Prisma writes the table (SQLite keeps DateTime as
   * ISO text with "+00:00", PostgreSQL as a UTC TIMESTAMP(3)), so Prisma reads and verifies them as before.
   */
  private async appendAudit(entries: AuditEntry[]): Promise<AuditRow[]> {
    const columns = [
      'at',
      'actor',
      'action',
      'target',
      'details',
      'outcome',
      'client',
      'userAgent',
      'prevHash',
      'hash',
    ] as const;
    for (let attempt = 0; ; attempt++) {
      // The head this process last wrote is the head unless another process appended since: then its
      // first row already has that prevHash, our INSERT fails on the unique prevHash, and we read the head.
      if (this.auditHead === undefined) {
        const [head] = await this.sql.query<{ hash: string }>(
          'SELECT "hash" FROM "AuditEvent" WHERE "hash" IS NOT NULL ORDER BY "id" DESC LIMIT 1',
        );
        this.auditHead = head?.hash ?? '';
      }
      let prevHash = this.auditHead;
      const at = new Date().toISOString();
      const rows: AuditRow[] = entries.map((e) => {
        const row: AuditRow = { at, ...e, prevHash, hash: '' };
        row.hash = auditHash(row);
        prevHash = row.hash;
        return row;
      });
      const stored = this.provider === 'sqlite' ? at.replace(/Z$/, '+00:00') : at;
      const params = rows.flatMap((r) => columns.map((c) => (c === 'at' ? stored : r[c])));
      const values = rows.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
      try {
        // Ids are given in VALUES order (the chain order verifyAudit walks); matched back by hash.
        const created = await this.sql.query<{ id: number | string; hash: string }>(
          `INSERT INTO "AuditEvent" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${values} RETURNING "id", "hash"`,
          params,
        );
        const ids = new Map(created.map((c) => [c.hash, Number(c.id)]));
        this.auditHead = prevHash;
        return rows.map((r) => ({ ...r, id: ids.get(r.hash ?? '') }));
      } catch (err) {
        // Another process appended to the same head first (the unique prevHash): chain onto the new head.
        this.auditHead = undefined;
        const code = (err as { code?: string }).code;
        if ((code !== 'SQLITE_CONSTRAINT_UNIQUE' && code !== '23505') || attempt >= 20) throw err;
      }
    }
  }

  /** The newest audit rows first; `before` (an id) pages back. */
  async auditLog(limit = 100, opts: { before?: number } = {}): Promise<AuditRow[]> {
    const rows = await (await this.prisma()).auditEvent.findMany({
      where: opts.before === undefined ? {} : { id: { lt: opts.before } },
      orderBy: { id: 'desc' },
      take: limit,
    });
    return rows.map(auditRowOf);
  }

  /**
   * Walk the audit chain from the first row: the first row whose stored hash is not the hash of its content,
   * or whose prevHash is not the hash of the row before it, is where the log was tampered with. Rows written
   * before the chain existed (no hash) are counted, and may only come first.
   */
  async verifyAudit(): Promise<AuditVerdict> {
    const prisma = await this.prisma();
    let prev: string | null = null;
    let checked = 0;
    let unchained = 0;
    let after = 0;
    for (;;) {
      const rows = await prisma.auditEvent.findMany({
        where: { id: { gt: after } },
        orderBy: { id: 'asc' },
        take: 1000,
      });
      if (rows.length === 0) break;
      for (const r of rows) {
        after = r.id;
        const row = auditRowOf(r);
        if (row.hash === null || row.hash === '') {
          if (prev !== null)
            return {
              ok: false,
              checked,
              unchained,
              broken: row,
              reason: 'a row without a hash after chained rows',
            };
          unchained++;
          continue;
        }
        const expectedPrev: string = prev ?? '';
        if (row.prevHash !== expectedPrev)
          return {
            ok: false,
            checked,
            unchained,
            broken: row,
            reason: `its prevHash is not the hash of the row before it (a row was removed, inserted or edited)`,
          };
        if (auditHash(row) !== row.hash)
          return {
            ok: false,
            checked,
            unchained,
            broken: row,
            reason: 'its content does not match its hash (edited)',
          };
        prev = row.hash;
        checked++;
      }
    }
    return { ok: true, checked, unchained };
  }

  async addSession(s: SessionRow): Promise<void> {
    await (await this.prisma()).session.create({
      data: { ...s, expiresAt: new Date(s.expiresAt), revokedAt: null },
    });
  }

  /** The session with this id hash, if it is neither expired nor revoked. */
  async liveSession(id: string, now = new Date()): Promise<SessionRow | undefined> {
    const row = await (await this.prisma()).session.findFirst({
      where: { id, revokedAt: null, expiresAt: { gt: now } },
    });
    return row ? sessionRowOf(row) : undefined;
  }

  /** Revoke one session (by id hash) or every live session of a user; returns how many were revoked. */
  async revokeSessions(where: { id?: string; userRef?: string }): Promise<number> {
    if (where.id === undefined && where.userRef === undefined) return 0;
    const r = await (await this.prisma()).session.updateMany({
      where: { ...where, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    return r.count;
  }

  /**
   * Every ingest asks for these: read on the store's own connection, in Prisma's order (createdAt, id), so
   * that an ingest does not load Prisma Client (about half a second in a fresh process).
   */
  async locations(): Promise<LocationRow[]> {
    return this.sql.query<LocationRow>(
      'SELECT "id", "type", "target", "entityRef" FROM "Location" ORDER BY "createdAt" ASC, "id" ASC',
    );
  }

  async addLocation(loc: LocationRow): Promise<void> {
    await (await this.prisma()).location.create({ data: loc });
  }

  async removeLocation(id: string): Promise<boolean> {
    return (await (await this.prisma()).location.deleteMany({ where: { id } })).count > 0;
  }

  /** The token with this hash if it is neither revoked nor expired. */
  async tokenByHash(hash: string, now = new Date()): Promise<TokenRow | undefined> {
    const row = await (await this.prisma()).apiToken.findFirst({
      where: { hash, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
    });
    return row ? tokenRowOf(row) : undefined;
  }

  async addToken(t: {
    id: string;
    name: string;
    hash: string;
    createdBy: string;
    scopes?: readonly string[];
    expiresAt?: Date | null;
  }): Promise<void> {
    await (await this.prisma()).apiToken.create({
      data: { ...t, scopes: (t.scopes ?? []).join(' '), expiresAt: t.expiresAt ?? null },
    });
  }

  /** Every token issued, newest first, revoked and expired ones included (never their secret or hash). */
  async tokens(): Promise<TokenRow[]> {
    const rows = await (await this.prisma()).apiToken.findMany({
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
    });
    return rows.map(tokenRowOf);
  }

  /** Revoke the tokens whose id or name is `idOrName`; returns those revoked now. */
  async revokeToken(idOrName: string): Promise<TokenRow[]> {
    const prisma = await this.prisma();
    const where = { OR: [{ id: idOrName }, { name: idOrName }], revokedAt: null };
    const rows = await prisma.apiToken.findMany({ where });
    const at = new Date();
    await prisma.apiToken.updateMany({
      where: { id: { in: rows.map((r) => r.id) } },
      data: { revokedAt: at },
    });
    return rows.map((r) => tokenRowOf({ ...r, revokedAt: at }));
  }

  async close(): Promise<void> {
    // Appends already accepted are written before the connection goes.
    while (this.auditFlushing) await this.auditFlushing;
    await this.prismaClient?.$disconnect();
    await this.sql.close();
  }
}

/** The most audit rows one INSERT writes (10 columns each: well under SQLite's parameter limit). */
const AUDIT_BATCH = 64;

type AuditEntry = Omit<AuditRow, 'id' | 'at' | 'prevHash' | 'hash'>;

/** The hash that chains an audit row: over every column but id and hash, in a fixed order. */
export function auditHash(r: Omit<AuditRow, 'id' | 'hash'>): string {
  const content = JSON.stringify([
    r.prevHash ?? '',
    r.at,
    r.actor,
    r.action,
    r.target,
    r.details,
    r.outcome,
    r.client,
    r.userAgent,
  ]);
  return createHash('sha256').update(content).digest('hex');
}

interface AuditRecord {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string;
  details: string | null;
  outcome: string;
  client: string | null;
  userAgent: string | null;
  prevHash: string | null;
  hash: string | null;
}

function auditRowOf(r: AuditRecord): AuditRow {
  return {
    id: r.id,
    at: r.at.toISOString(),
    actor: r.actor,
    action: r.action,
    target: r.target,
    details: r.details,
    outcome: r.outcome as AuditOutcome,
    client: r.client,
    userAgent: r.userAgent,
    prevHash: r.prevHash,
    hash: r.hash,
  };
}

function sessionRowOf(r: {
  id: string;
  userRef: string;
  via: string;
  expiresAt: Date;
  client: string | null;
  userAgent: string | null;
}): SessionRow {
  return {
    id: r.id,
    userRef: r.userRef,
    via: r.via as SessionRow['via'],
    expiresAt: r.expiresAt.toISOString(),
    client: r.client,
    userAgent: r.userAgent,
  };
}

function tokenRowOf(r: {
  id: string;
  name: string;
  createdBy: string;
  createdAt: Date;
  scopes: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
}): TokenRow {
  return {
    id: r.id,
    name: r.name,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    scopes: r.scopes.split(' ').filter((s) => s !== ''),
    expiresAt: r.expiresAt?.toISOString() ?? null,
    revokedAt: r.revokedAt?.toISOString() ?? null,
  };
}

function* chunks<T>(list: T[], size: number): Generator<T[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}

const ENTITY_COLUMNS = '"ref", "body", "sourceFile", "line", "stale", "staleReason"';

interface EntityRow {
  ref: string;
  body: string;
  sourceFile: string | null;
  line: number | null;
  stale: number | boolean;
  staleReason: string | null;
}

interface FileRow {
  path: string;
  hash: string;
  entityRefs: string;
  ok: number | boolean;
}

/** storedEntityOf for a row as an array, in ENTITY_COLUMNS's order. */
function storedEntityOfRow(r: unknown[]): StoredEntity {
  return {
    ref: r[0] as string,
    entity: JSON.parse(r[1] as string) as Entity,
    sourceFile: r[2] as string | null,
    line: r[3] as number | null,
    stale: Boolean(r[4]),
    staleReason: r[5] as string | null,
  };
}

function storedEntityOf(r: EntityRow): StoredEntity {
  return {
    ref: r.ref,
    entity: JSON.parse(r.body) as Entity,
    sourceFile: r.sourceFile,
    line: r.line,
    stale: Boolean(r.stale),
    staleReason: r.staleReason,
  };
}

/** `refs` shares the strings of refs already loaded (see load). */
function sourceFileOf(f: FileRow, refs?: Map<string, string>): SourceFileRow {
  const entityRefs = (JSON.parse(f.entityRefs) as string[]).map((ref) => refs?.get(ref) ?? ref);
  return { path: f.path, hash: f.hash, entityRefs, ok: Boolean(f.ok) };
}
