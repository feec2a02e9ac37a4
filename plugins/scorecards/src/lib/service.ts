/**
 * Scorecards as the portal runs them: the definitions read from the repo's scorecards/ folder (the last
 * good version of a broken file stays in force, marked stale), every service scored against each, and
 * re-scored incrementally: a changed manifest re-scores its service, a changed scorecard the services it
 * applies to, a catalogue change the services whose facts it touches (and their callers and callees).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Entity } from '@bank/catalog';
import { cycles, forEachCallOf, type GraphIndex } from '@bank/graph';
import { NotFoundError } from '@bank/plugin-kit';
import { builtinActions, loadTemplates } from '@bank/plugin-scaffolder';
import { parseScorecard, type Scorecard, type ScorecardError } from './definition.ts';
import type { DeployRow, LiveDeployFacts } from './deploys.ts';
import {
  type DeployFacts,
  type EntityScore,
  forgetDescriptor,
  type ScoringFacts,
  scoreEntity,
  type TemplateVersion,
} from './evaluate.ts';
import { descriptorFile, digest, ManifestCache, manifestFolder } from './facts.ts';

export interface LoadedScorecard {
  scorecard: Scorecard;
  /** True when its file now has errors and this is its last good version. */
  stale: boolean;
  errors: ScorecardError[];
}

export interface ScorecardsOptions {
  /** The folder of scorecard files (`scorecards/` at the repo root). */
  dir: string;
  /** Paths in results are shown relative to it. */
  repoRoot: string;
  /** The scaffolder's templates (`templates/` at the repo root): their current versions, for template-current. */
  templatesDir?: string;
  now?: () => number;
}

/** What a re-score changed: for the store (history) and for callers that want to know. */
export interface RescoreResult {
  rescored: number;
  changed: EntityScore[];
  removed: { scorecard: string; entity: string }[];
}

export class ScorecardService {
  private readonly byFile = new Map<string, LoadedScorecard>();
  /** Errors of files that never had a good version. */
  private readonly brokenFiles = new Map<string, ScorecardError[]>();
  readonly manifests = new ManifestCache();
  private entities = new Map<string, Entity>();
  private index: GraphIndex | undefined;
  private inCycle = new Set<string>();
  private cyclesMemo: { index: GraphIndex; version: number; members: Set<string> } | undefined;
  private folderRefs = new Map<string, string[]>();
  private deploys: DeployFacts | LiveDeployFacts | undefined;
  private templates = new Map<string, TemplateVersion>();
  /** scorecard name → entity ref → score. */
  private readonly scores = new Map<string, Map<string, EntityScore>>();
  private readonly listeners: Array<(r: RescoreResult) => void> = [];
  /** Bumped by every re-score that changed a result: what caches of levels key on. */
  private version = 0;
  /** Bumped whenever a stored score object is added, replaced or removed (see scoresVersion). */
  private scoresChanged = 0;
  private levelsMemo: { version: number; levels: Map<string, string> } | undefined;
  readonly now: () => number;

  constructor(readonly opts: ScorecardsOptions) {
    this.now = opts.now ?? Date.now;
  }

  onRescore(fn: (r: RescoreResult) => void): void {
    this.listeners.push(fn);
  }

  /** Read every scorecard file of the folder. Returns the errors (a broken file keeps its last good version). */
  loadDefinitions(): ScorecardError[] {
    let names: string[] = [];
    try {
      names = readdirSync(this.opts.dir).filter((n) => /\.ya?ml$/.test(n));
    } catch {
      // no scorecards folder: no scorecards
    }
    const present = new Set(names.map((n) => path.join(this.opts.dir, n)));
    for (const f of [...this.byFile.keys()]) if (!present.has(f)) this.byFile.delete(f);
    for (const f of [...this.brokenFiles.keys()]) if (!present.has(f)) this.brokenFiles.delete(f);
    for (const f of [...present].sort()) this.readDefinition(f);
    this.readTemplates();
    return this.errors();
  }

  /** The templates' current versions (read with the scaffolder's own loader; a template that does not load is left out). */
  private readTemplates(): void {
    const dir = this.opts.templatesDir;
    this.templates = new Map();
    if (!dir) return;
    const actions = new Set(builtinActions().map((a) => a.id));
    for (const t of loadTemplates(dir, actions).templates)
      this.templates.set(t.name, { version: t.version, file: this.rel(t.file) });
  }

  private isTemplateFile(file: string): boolean {
    const dir = this.opts.templatesDir;
    if (!dir) return false;
    const rel = path.relative(path.resolve(dir), path.resolve(file));
    return !rel.startsWith('..') && !path.isAbsolute(rel) && path.basename(file) === 'template.yaml';
  }

  private readDefinition(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      this.byFile.delete(file);
      this.brokenFiles.delete(file);
      return;
    }
    const shown = this.rel(file);
    const parsed = parseScorecard(text, shown);
    if (parsed.ok) {
      const clash = [...this.byFile.entries()].find(
        ([f, l]) => f !== file && l.scorecard.name === parsed.scorecard.name,
      );
      if (clash) {
        const errors = [
          {
            ...parsed.scorecard.at,
            scorecard: parsed.scorecard.name,
            message: `scorecard "${parsed.scorecard.name}" is already defined in ${this.rel(clash[0])}`,
          },
        ];
        this.markBroken(file, errors);
        return;
      }
      this.byFile.set(file, { scorecard: parsed.scorecard, stale: false, errors: [] });
      this.brokenFiles.delete(file);
    } else this.markBroken(file, parsed.errors);
  }

  private markBroken(file: string, errors: ScorecardError[]): void {
    const last = this.byFile.get(file);
    if (last) {
      this.byFile.set(file, { scorecard: last.scorecard, stale: true, errors });
      this.brokenFiles.delete(file);
    } else this.brokenFiles.set(file, errors);
  }

  /** Every problem in the scorecard files, file:line:column. */
  errors(): ScorecardError[] {
    return [...[...this.byFile.values()].flatMap((l) => l.errors), ...[...this.brokenFiles.values()].flat()];
  }

  scorecards(): LoadedScorecard[] {
    return [...this.byFile.values()].sort((a, b) => a.scorecard.name.localeCompare(b.scorecard.name));
  }

  scorecard(name: string): LoadedScorecard {
    const l = [...this.byFile.values()].find((x) => x.scorecard.name === name);
    if (!l)
      throw new NotFoundError(
        `No scorecard "${name}"; there are: ${this.scorecards()
          .map((s) => s.scorecard.name)
          .join(', ')}`,
      );
    return l;
  }

  /** The graph the scores were computed on. */
  get graph(): GraphIndex {
    if (!this.index) throw new Error('scorecards: scoreAll must run first');
    return this.index;
  }

  setDeploys(deploys: DeployFacts | LiveDeployFacts | undefined): void {
    this.deploys = deploys;
  }

  /**
   * A deploy was stored: the service it touches is re-scored when it changed what runs there. The first
   * deploy the portal ever sees re-scores every service (deploy checks stop being n/a for all of them).
   */
  deployRecorded(deploy: DeployRow & { status: string }): RescoreResult {
    const facts = this.deploys;
    if (!facts || !('add' in facts) || !this.index) return { rescored: 0, changed: [], removed: [] };
    const wasEmpty = facts.empty;
    if (!facts.add(deploy)) return { rescored: 0, changed: [], removed: [] };
    if (wasEmpty) return this.rescore([...this.entities.keys()], this.cards());
    return this.entities.has(deploy.service)
      ? this.rescore([deploy.service], this.cards())
      : { rescored: 0, changed: [], removed: [] };
  }

  /** Score everything afresh from this catalogue and graph. */
  scoreAll(entities: Iterable<Entity>, index: GraphIndex): RescoreResult {
    const before = this.beginScoreAll(entities, index);
    return this.rescore([...this.entities.keys()], this.cards(), before);
  }

  /**
   * scoreAll, a slice of services at a time, giving the event loop back between slices (`yieldEvery` ms):
   * a server scoring 35,000 services at start keeps answering meanwhile. The scores at the end are
   * scoreAll's; listeners hear of each slice's changes. Nothing else may re-score until it has finished.
   * With `signal` aborted (the server stops), it stops after the current slice.
   */
  async scoreAllInSlices(
    entities: Iterable<Entity>,
    index: GraphIndex,
    opts: { yieldEvery?: number; signal?: AbortSignal } = {},
  ): Promise<RescoreResult> {
    const yieldEvery = opts.yieldEvery ?? 20;
    const before = this.beginScoreAll(entities, index);
    const refs = [...this.entities.keys()];
    const cards = this.cards();
    const total: RescoreResult = { rescored: 0, changed: [], removed: [] };
    // Slices sized to take about `yieldEvery` ms each, from how long the last one took per service.
    let size = 16;
    for (let i = 0; i < refs.length && !opts.signal?.aborted; ) {
      const started = performance.now();
      const slice = refs.slice(i, i + size);
      i += slice.length;
      merge(total, this.rescore(slice, cards, before));
      const perService = (performance.now() - started) / slice.length;
      size = Math.max(1, Math.min(2000, Math.floor(yieldEvery / Math.max(perService, 0.001))));
      if (i < refs.length) await new Promise((resolve) => setImmediate(resolve));
    }
    return total;
  }

  private beginScoreAll(
    entities: Iterable<Entity>,
    index: GraphIndex,
  ): Map<string, Map<string, EntityScore>> {
    this.entities = new Map();
    this.folderRefs = new Map();
    for (const e of entities) this.addEntity(e);
    this.index = index;
    this.inCycle = this.cycleMembers(index);
    // The old results move aside whole (rescore fills new maps), to tell what changed.
    const before = new Map(this.scores);
    this.scores.clear();
    // Services gone from the catalogue are simply not scored again: count it as a change.
    this.scoresChanged++;
    return before;
  }

  /** The members of cycles of declared calls, found once per graph version (a full re-score reuses them). */
  private cycleMembers(index: GraphIndex): Set<string> {
    const memo = this.cyclesMemo;
    if (memo && memo.index === index && memo.version === index.version) return memo.members;
    const members = cycleMembers(index);
    this.cyclesMemo = { index, version: index.version, members };
    return members;
  }

  private addEntity(e: Entity): void {
    const ref = digest(e).ref;
    this.entities.set(ref, e);
    const folder = manifestFolder(e);
    if (folder) {
      const refs = this.folderRefs.get(folder);
      if (refs) {
        if (!refs.includes(ref)) refs.push(ref);
      } else this.folderRefs.set(folder, [ref]);
    }
  }

  private removeEntity(ref: string): void {
    const e = this.entities.get(ref);
    if (!e) return;
    this.entities.delete(ref);
    const folder = manifestFolder(e);
    if (folder) {
      const refs = (this.folderRefs.get(folder) ?? []).filter((r) => r !== ref);
      if (refs.length) this.folderRefs.set(folder, refs);
      else this.folderRefs.delete(folder);
    }
  }

  private cards(): Scorecard[] {
    return this.scorecards().map((l) => l.scorecard);
  }

  private facts(): ScoringFacts {
    if (!this.index) throw new Error('scorecards: scoreAll must run before a partial re-score');
    return {
      index: this.index,
      entities: this.entities,
      manifests: this.manifests,
      repoRoot: this.opts.repoRoot,
      inCycle: this.inCycle,
      deploys: this.deploys,
      templates: this.templates,
      now: this.now(),
    };
  }

  private rescore(
    refs: Iterable<string>,
    cards: Scorecard[],
    before?: Map<string, Map<string, EntityScore>>,
  ): RescoreResult {
    const facts = this.facts();
    const result: RescoreResult = { rescored: 0, changed: [], removed: [] };
    for (const card of cards) {
      let scores = this.scores.get(card.name);
      if (!scores) {
        scores = new Map();
        this.scores.set(card.name, scores);
      }
      const old = before?.get(card.name);
      for (const ref of refs) {
        const previous = old ? old.get(ref) : scores.get(ref);
        const s = scoreEntity(card, ref, facts, previous);
        result.rescored++;
        if (s) {
          scores.set(ref, s);
          if (s !== previous) {
            this.scoresChanged++;
            if (!previous || !sameScore(previous, s)) result.changed.push(s);
          }
        } else if (scores.delete(ref) || previous) {
          this.scoresChanged++;
          result.removed.push({ scorecard: card.name, entity: ref });
        }
      }
    }
    if (result.changed.length || result.removed.length) this.version++;
    for (const fn of this.listeners) fn(result);
    return result;
  }

  /**
   * Files changed on disk (the watcher's batch): scorecard files are read again and re-score everything
   * they apply to; a manifest re-scores the services of its folder. Descriptors come through the
   * catalogue's own change (see catalogueChanged).
   */
  filesChanged(files: string[]): RescoreResult {
    const dir = path.resolve(this.opts.dir);
    const cardFiles = files.filter((f) => path.dirname(path.resolve(f)) === dir && /\.ya?ml$/.test(f));
    const templateFiles = files.filter((f) => this.isTemplateFile(f));
    const refs = new Set<string>();
    if (templateFiles.length) {
      // A template's new version re-scores every service that records a template.
      this.readTemplates();
      for (const [ref, e] of this.entities) if (digest(e).annotations.get('bank.io/template')) refs.add(ref);
    }
    for (const f of files) {
      forgetDescriptor(f);
      if (cardFiles.includes(f) || templateFiles.includes(f)) continue;
      this.manifests.forget(f);
      for (const r of this.folderRefs.get(path.dirname(path.resolve(f))) ?? []) refs.add(r);
    }
    const total: RescoreResult = { rescored: 0, changed: [], removed: [] };
    if (cardFiles.length) {
      const beforeNames = new Set(this.cards().map((c) => c.name));
      for (const f of cardFiles) this.readDefinition(path.resolve(f));
      // A file that is gone takes its scorecard with it.
      this.loadDefinitions();
      const now = new Set(this.cards().map((c) => c.name));
      for (const name of beforeNames)
        if (!now.has(name)) {
          for (const entity of this.scores.get(name)?.keys() ?? [])
            total.removed.push({ scorecard: name, entity });
          this.scores.delete(name);
          this.version++;
          this.scoresChanged++;
        }
      const changedCards = this.cards().filter((c) =>
        cardFiles.some((f) => path.resolve(f) === this.abs(c.file)),
      );
      merge(total, this.rescore(this.entities.keys(), changedCards));
    }
    if (refs.size) merge(total, this.rescore(refs, this.cards()));
    return total;
  }

  /**
   * The catalogue changed: re-score what changed, what lost or gained relations, and the neighbours whose
   * facts read them (callers see a callee's tier; a callee's NetworkPolicy sees its callers).
   */
  catalogueChanged(
    change: { upserted: string[]; removed: string[]; relationsChanged: string[] },
    lookup: (ref: string) => Entity | undefined,
    index: GraphIndex,
  ): RescoreResult {
    this.index = index;
    const touched = new Set<string>();
    const neighbours = (ref: string) => {
      forEachCallOf(index, ref, 'in', (_a, n) => touched.add(n));
      forEachCallOf(index, ref, 'out', (_a, n) => touched.add(n));
    };
    for (const ref of change.removed) {
      neighbours(ref);
      this.removeEntity(ref);
    }
    for (const ref of [...change.upserted, ...change.relationsChanged]) {
      const e = lookup(ref);
      if (!e) continue;
      const old = this.entities.get(ref);
      if (old) {
        const f = descriptorFile(old);
        if (f) forgetDescriptor(f);
        this.removeEntity(ref);
      }
      this.addEntity(e);
      touched.add(ref);
      neighbours(ref);
    }
    if (change.relationsChanged.length || change.removed.length) {
      const was = this.inCycle;
      this.inCycle = this.cycleMembers(index);
      for (const r of was) if (!this.inCycle.has(r)) touched.add(r);
      for (const r of this.inCycle) if (!was.has(r)) touched.add(r);
    }
    for (const r of change.removed) touched.add(r);
    return this.rescore(touched, this.cards());
  }

  /** One service's scores, every scorecard. */
  entity(ref: string): { scorecard: LoadedScorecard; score: EntityScore }[] {
    const out: { scorecard: LoadedScorecard; score: EntityScore }[] = [];
    for (const l of this.scorecards()) {
      const s = this.scores.get(l.scorecard.name)?.get(ref);
      if (s) out.push({ scorecard: l, score: s });
    }
    return out;
  }

  /** The bank's default scorecard: production-readiness, else the first by name (none without scorecards). */
  defaultScorecard(): LoadedScorecard | undefined {
    const cards = this.scorecards();
    return cards.find((l) => l.scorecard.name === 'production-readiness') ?? cards[0];
  }

  levelsVersion(): number {
    return this.version;
  }

  /**
   * Changes whenever a stored score is added, replaced or removed, whatever changed in it (an owner, a
   * check's evidence): while it and a scorecard's loaded file are the same, so is its rollup.
   */
  scoresVersion(): number {
    return this.scoresChanged;
  }

  /**
   * Each scored service's level in the bank's default scorecard (production-readiness, else the first by
   * name): the level's name, or `none` below the lowest. For the catalogue's level column and filter.
   */
  levels(): ReadonlyMap<string, string> {
    if (this.levelsMemo?.version === this.version) return this.levelsMemo.levels;
    const card = this.defaultScorecard();
    const levels = new Map<string, string>();
    for (const s of card ? (this.scores.get(card.scorecard.name)?.values() ?? []) : [])
      levels.set(s.entity, s.level ?? 'none');
    this.levelsMemo = { version: this.version, levels };
    return levels;
  }

  results(scorecard: string): EntityScore[] {
    this.scorecard(scorecard);
    return [...(this.scores.get(scorecard)?.values() ?? [])];
  }

  allResults(): EntityScore[] {
    return [...this.scores.values()].flatMap((m) => [...m.values()]);
  }

  private rel(file: string): string {
    const r = path.relative(this.opts.repoRoot, file);
    return r.startsWith('..') ? file : r.split(path.sep).join('/');
  }

  private abs(shown: string): string {
    return path.isAbsolute(shown) ? shown : path.resolve(this.opts.repoRoot, shown);
  }
}

function merge(into: RescoreResult, r: RescoreResult): void {
  into.rescored += r.rescored;
  into.changed.push(...r.changed);
  into.removed.push(...r.removed);
}

/** Same level and the same checks with the same outcome and reason (what history records a change of). */
function sameScore(a: EntityScore, b: EntityScore): boolean {
  if (a.level !== b.level || a.checks.length !== b.checks.length) return false;
  for (let i = 0; i < a.checks.length; i++) {
    const x = a.checks[i];
    const y = b.checks[i];
    if (x === y) continue;
    if (x.check !== y.check || x.status !== y.status || x.why !== y.why) return false;
  }
  return true;
}

function cycleMembers(index: GraphIndex): Set<string> {
  const members = new Set<string>();
  for (const c of cycles(index, { via: 'declared' }).cycles) for (const m of c.members) members.add(m.ref);
  return members;
}
