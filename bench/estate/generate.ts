/**
 * The bank's estate as data: services, call edges, storage, org chart. Pure and deterministic; writing
 * files is write.ts's job. Above 350 services the base estate is replicated (`-s2`, `-s3`, …), each replica
 * with its own org and its own draw of edges, plus a few calls into the first replica so the graph is one.
 */
import {
  CANONICAL_CHAINS,
  CHAIN_CYCLE,
  COLLECTIVES,
  DELIBERATE_CYCLES,
  DOMAINS,
  FIRST_NAMES,
  HUBS,
  LAST_NAMES,
  LIBRARIES,
  PADDING_SUFFIXES,
  WEBSITES,
} from './bank.ts';
import { cumulate, gaussian, pickCumulative, type Rng, rngFor, unitHash } from './random.ts';

export const BASE_SERVICES = 350;
export const BASE_EDGES = 2150;
export const INTRA_COLLECTIVE_TARGET = 0.7;
/** Share of a replica's edges that call into the first replica instead of their own. */
const CROSS_REPLICA_SHARE = 0.03;
const STATEFUL_TARGET = 0.65;

export type ComponentType = 'service' | 'website' | 'library';
export type Lifecycle = 'production' | 'experimental' | 'deprecated';
export type Language = 'go' | 'typescript' | 'python' | 'java';
export type ResourceType =
  | 'cassandra-keyspace'
  | 'postgres-database'
  | 'kafka-topic'
  | 'queue'
  | 's3-bucket'
  | 'elasticsearch-index';
export type EdgeVia = 'dependsOn' | 'consumesApi';

export interface EstateService {
  name: string;
  /** Name in the base estate (without the replica suffix). */
  baseName: string;
  replica: number;
  title: string;
  description: string;
  type: ComponentType;
  lifecycle: Lifecycle;
  tier: 1 | 2 | 3 | 4;
  language: Language;
  collective: string;
  squad: string;
  system: string;
  /** Names of the Resources this service owns. */
  resources: string[];
  version: string;
  replicas: number;
  cpuRequestMillis: number;
  memoryRequestMi: number;
  memoryLimitMi: number;
}

export interface EstateResource {
  name: string;
  type: ResourceType;
  /** The keyspace, database, topic, queue, bucket or index as the storage system knows it. */
  dataName: string;
  owner: string;
  squad: string;
  system: string;
}

export interface CallEdge {
  from: string;
  to: string;
  via: EdgeVia;
}

export interface EstateUser {
  name: string;
  displayName: string;
  email: string;
  role: 'engineer' | 'product-manager' | 'designer' | 'data-scientist' | 'engineering-manager';
  memberOf: string[];
}

export interface EstateSquad {
  name: string;
  baseName: string;
  title: string;
  collective: string;
  engineeringManager: string;
  productManager?: string;
  engineers: string[];
  others: string[];
  slackChannel: string;
  oncallRota: string;
}

export interface EstateCollective {
  name: string;
  title: string;
  squads: string[];
}

export interface EstateSystem {
  name: string;
  title: string;
  description: string;
  collective: string;
  squad: string;
}

export interface Estate {
  seed: number;
  services: EstateService[];
  edges: CallEdge[];
  resources: EstateResource[];
  collectives: EstateCollective[];
  squads: EstateSquad[];
  users: EstateUser[];
  systems: EstateSystem[];
}

export interface GenerateOptions {
  services?: number;
  seed?: number;
}

export const NAME_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;

// ---------------------------------------------------------------------------------------------------------
// The base estate (350 services): names, storage and structural facts. None of it depends on the seed.

interface BaseStorage {
  type: ResourceType;
  dataName: string;
  name: string;
}

interface BaseService {
  index: number;
  name: string;
  domain: string;
  collective: string;
  squad: string;
  padded: boolean;
  type: ComponentType;
  storage: BaseStorage[];
}

interface Base {
  services: BaseService[];
  byName: Map<string, number>;
  collectiveOf: Int32Array;
  /** Position in the call order: edges go from a lower rank to a higher one, except inside cycles. */
  rank: Int32Array;
  fixedEdges: [number, number][];
  chainMembers: Set<string>;
  moneyChainMembers: Set<string>;
  calleeWeight: Float64Array;
  callerRole: Float64Array;
  collectiveMembers: number[][];
  collectiveCumulative: Float64Array[];
  globalCumulative: Float64Array;
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** Shell brace expansion, enough for the page: `ledger{,-writer}` → ledger, ledger-writer. */
export function expandBraces(text: string): string[] {
  const open = text.indexOf('{');
  if (open < 0) return [text];
  const close = text.indexOf('}', open);
  const head = text.slice(0, open);
  const tail = expandBraces(text.slice(close + 1));
  const out: string[] = [];
  for (const option of text.slice(open + 1, close).split(',')) {
    for (const rest of tail) out.push(head + option + rest);
  }
  return out;
}

function expandList(text: string): string[] {
  const cleaned = text.replace(/\s*\([^)]*\)/g, '');
  return splitTopLevel(cleaned).flatMap(expandBraces);
}

const norm = (s: string): string => s.replace(/[-.]/g, '_');

/** Which service of a domain owns a piece of storage, by the naming rules of the page. */
function matchOwner(key: string, names: string[]): number {
  const k = norm(key);
  const n = names.map(norm);
  let i = n.indexOf(k);
  if (i >= 0) return i;
  i = n.findIndex((x) => x.startsWith(k));
  if (i >= 0) return i;
  let best = -1;
  for (let j = 0; j < n.length; j++) {
    if (k.startsWith(n[j]) && (best < 0 || n[j].length > n[best].length)) best = j;
  }
  if (best >= 0) return best;
  return n.findIndex((x) => x.includes(k));
}

const STORAGE_CODES: Record<string, ResourceType | 'lock'> = {
  K: 'cassandra-keyspace',
  P: 'postgres-database',
  T: 'kafka-topic',
  Q: 'queue',
  S3: 's3-bucket',
  ES: 'elasticsearch-index',
  L: 'lock',
};

const RESOURCE_PREFIX: Record<ResourceType, string> = {
  'cassandra-keyspace': 'cassandra',
  'postgres-database': 'postgres',
  'kafka-topic': 'kafka',
  queue: 'queue',
  's3-bucket': 's3',
  'elasticsearch-index': 'elasticsearch',
};

export function resourceName(type: ResourceType, dataName: string): string {
  return `${RESOURCE_PREFIX[type]}-${dataName.replace(/[._]/g, '-')}`;
}

let cachedBase: Base | undefined;

function buildBase(): Base {
  if (cachedBase) return cachedBase;
  const services: BaseService[] = [];
  const byName = new Map<string, number>();
  const takenResources = new Set<string>();
  const collectiveIds = COLLECTIVES.map((c) => c.id);

  const addStorage = (svc: BaseService, type: ResourceType, dataName: string, domain: string): boolean => {
    let data = dataName;
    let name = resourceName(type, data);
    if (takenResources.has(name)) {
      // Two domains name the same keyspace (fraud's and identity's `device`): one owner each, so prefix.
      data = type === 'cassandra-keyspace' ? `${norm(domain)}_${dataName}` : `${domain}-${dataName}`;
      name = resourceName(type, data);
      if (takenResources.has(name)) return false;
    }
    takenResources.add(name);
    svc.storage.push({ type, dataName: data, name });
    return true;
  };

  for (const domain of DOMAINS) {
    const listed = expandList(domain.services);
    if (listed.length > domain.count) throw new Error(`domain ${domain.id} lists more than ${domain.count}`);
    const names = [...listed];
    let suffix = 0;
    let padIndex = 0;
    while (names.length < domain.count) {
      const core = listed[padIndex % Math.min(3, listed.length)];
      let candidate = '';
      do {
        const s = PADDING_SUFFIXES[suffix % PADDING_SUFFIXES.length];
        const round = Math.floor(suffix / PADDING_SUFFIXES.length);
        candidate = round === 0 ? `${core}-${s}` : `${core}-${s}${round + 1}`;
        suffix++;
      } while (byName.has(candidate) || names.includes(candidate));
      names.push(candidate);
      padIndex++;
    }
    const domainServices: BaseService[] = [];
    names.forEach((name, i) => {
      if (byName.has(name)) throw new Error(`duplicate service name ${name}`);
      const svc: BaseService = {
        index: services.length,
        name,
        domain: domain.id,
        collective: domain.collective,
        squad: domain.squad,
        padded: i >= listed.length,
        type: LIBRARIES.includes(name) ? 'library' : WEBSITES.includes(name) ? 'website' : 'service',
        storage: [],
      };
      byName.set(name, svc.index);
      services.push(svc);
      domainServices.push(svc);
    });

    let hasTopic = false;
    const storageText = domain.storage.replace(/\s*\([^)]*\)/g, '');
    for (const part of storageText.split(';')) {
      const m = /^\s*(K|P|T|Q|S3|ES|L)\b\s*(.*)$/.exec(part);
      if (!m) continue;
      const code = STORAGE_CODES[m[1]];
      // etcd locks are not catalogue entities.
      if (code === 'lock') continue;
      for (const item of splitTopLevel(m[2]).flatMap(expandBraces)) {
        let owner = -1;
        if (code === 'kafka-topic' || code === 'queue') {
          owner = code === 'kafka-topic' ? matchOwner(item, listed) : -1;
          if (owner < 0) owner = matchOwner(item.split('.')[0], listed);
          if (code === 'kafka-topic') hasTopic = true;
        } else {
          owner = matchOwner(item, listed);
        }
        addStorage(domainServices[Math.max(owner, 0)], code, item, domain.id);
      }
    }
    // The page expects ~45 topics but names ~18: every business domain also publishes `<domain>.updated`.
    if (!hasTopic && domain.storage !== '' && domain.collective !== 'platform') {
      addStorage(domainServices[0], 'kafka-topic', `${domain.id}.updated`, domain.id);
    }
  }
  if (services.length !== BASE_SERVICES) throw new Error(`base estate has ${services.length} services`);

  // About 65 % of services are stateful: stateless ones outside the edge get their own keyspace.
  const statefulTarget = Math.round(STATEFUL_TARGET * services.length);
  let stateful = services.filter((s) => s.storage.length > 0).length;
  const candidates = services
    .filter((s) => s.storage.length === 0 && s.type === 'service' && s.domain !== 'edge-api')
    .sort((a, b) => unitHash(`stateful:${a.name}`) - unitHash(`stateful:${b.name}`));
  for (const svc of candidates) {
    if (stateful >= statefulTarget) break;
    if (addStorage(svc, 'cassandra-keyspace', norm(svc.name), svc.domain)) stateful++;
  }

  const collectiveOf = new Int32Array(services.map((s) => collectiveIds.indexOf(s.collective)));
  const idx = (name: string): number => {
    const i = byName.get(name);
    if (i === undefined) throw new Error(`unknown service ${name} in bank.ts`);
    return i;
  };

  const chainMembers = new Set<string>();
  const moneyChainMembers = new Set<string>();
  const fixed = new Map<string, [number, number]>();
  const addFixed = (a: string, b: string): void => {
    fixed.set(`${a}>${b}`, [idx(a), idx(b)]);
  };
  for (const chain of CANONICAL_CHAINS) {
    const money = chain.name !== 'onboarding' && chain.name !== 'feed read';
    for (const [a, b] of chain.edges) {
      addFixed(a, b);
      chainMembers.add(a);
      chainMembers.add(b);
      if (money) {
        moneyChainMembers.add(a);
        moneyChainMembers.add(b);
      }
    }
  }
  for (const cycle of DELIBERATE_CYCLES) {
    for (let i = 0; i < cycle.length; i++) addFixed(cycle[i], cycle[(i + 1) % cycle.length]);
  }
  const fixedEdges = [...fixed.values()];

  const rank = callOrder(services, fixedEdges, idx);

  const hubSet = new Set(HUBS);
  const calleeWeight = new Float64Array(services.length);
  const callerRole = new Float64Array(services.length);
  for (const s of services) {
    let w = 1;
    if (hubSet.has(s.name)) w = s.collective === 'platform' ? 26 : 16;
    else if (s.name === 'api') w = 0;
    else if (s.domain === 'edge-api') w = 0.05;
    else if (s.type === 'website') w = 0.1;
    else if (s.type === 'library') w = 0.6;
    else if (s.padded) w = 0.5;
    calleeWeight[s.index] = w;

    let role = 1;
    if (s.name === 'api') role = 5;
    else if (s.domain === 'edge-api') role = 2.5;
    else if (['payment-orchestrator', 'onboarding', 'card-processing', 'account-opening'].includes(s.name))
      role = 3;
    else if (hubSet.has(s.name)) role = 0.4;
    else if (s.type === 'library') role = 0;
    callerRole[s.index] = role;
  }
  const collectiveMembers = collectiveIds.map((_, c) =>
    services.filter((s) => collectiveOf[s.index] === c).map((s) => s.index),
  );
  const collectiveCumulative = collectiveMembers.map((members) =>
    cumulate(members.map((i) => calleeWeight[i])),
  );
  const globalCumulative = cumulate(calleeWeight);

  cachedBase = {
    services,
    byName,
    collectiveOf,
    rank,
    fixedEdges,
    chainMembers,
    moneyChainMembers,
    calleeWeight,
    callerRole,
    collectiveMembers,
    collectiveCumulative,
    globalCumulative,
  };
  return cachedBase;
}

/**
 * A total order of the services that every non-cycle edge follows, so random edges add no cycles beyond
 * the intended ones. Callers come early (edge, gateways, products), the widely called late (core banking,
 * platform, hubs). Each cycle is one block, its members adjacent.
 */
function callOrder(
  services: BaseService[],
  fixedEdges: [number, number][],
  idx: (n: string) => number,
): Int32Array {
  const n = services.length;
  const group = new Int32Array(n).map((_, i) => i);
  const blocks = new Map<number, number[]>();
  for (const cycle of [CHAIN_CYCLE, ...DELIBERATE_CYCLES]) {
    const members = cycle.map(idx);
    for (const m of members) group[m] = members[0];
    blocks.set(members[0], members);
  }
  const collectiveScore: Record<string, number> = {
    'personal-banking': 0.3,
    cops: 0.25,
    'business-banking': 0.3,
    borrowing: 0.4,
    payments: 0.45,
    'financial-crime': 0.5,
    money: 0.55,
    'core-banking': 0.65,
    platform: 0.8,
  };
  const score = new Float64Array(n);
  for (const s of services) {
    let v = collectiveScore[s.collective] + (unitHash(`order:${s.name}`) - 0.5) * 0.3;
    if (s.name === 'api') v = -1;
    else if (s.domain === 'edge-api') v = -0.5;
    else if (s.name.endsWith('-gateway')) v -= 0.2;
    if (HUBS.includes(s.name)) v = 1 + HUBS.indexOf(s.name) * 0.001;
    score[s.index] = v;
  }
  const succ = new Map<number, Set<number>>();
  const indegree = new Int32Array(n);
  for (const [a, b] of fixedEdges) {
    const ga = group[a];
    const gb = group[b];
    if (ga === gb) continue;
    let set = succ.get(ga);
    if (!set) {
      set = new Set();
      succ.set(ga, set);
    }
    if (!set.has(gb)) {
      set.add(gb);
      indegree[gb]++;
    }
  }
  const groupScore = (g: number): number => {
    const members = blocks.get(g) ?? [g];
    return members.reduce((sum, m) => sum + score[m], 0) / members.length;
  };
  const available: number[] = [];
  for (let i = 0; i < n; i++) if (group[i] === i && indegree[i] === 0) available.push(i);
  const rank = new Int32Array(n).fill(-1);
  let next = 0;
  while (available.length > 0) {
    let best = 0;
    for (let j = 1; j < available.length; j++) {
      const a = groupScore(available[j]);
      const b = groupScore(available[best]);
      if (a < b || (a === b && available[j] < available[best])) best = j;
    }
    const g = available.splice(best, 1)[0];
    for (const m of blocks.get(g) ?? [g]) rank[m] = next++;
    for (const s of succ.get(g) ?? []) {
      indegree[s]--;
      if (indegree[s] === 0) available.push(s);
    }
  }
  if (next !== n) throw new Error('the canonical chains and cycles do not admit a call order');
  return rank;
}

// ---------------------------------------------------------------------------------------------------------
// Descriptive facts.

const ACRONYMS: Record<string, string> = {
  api: 'API',
  fps: 'FPS',
  aml: 'AML',
  kyc: 'KYC',
  isa: 'ISA',
  sepa: 'SEPA',
  swift: 'SWIFT',
  chaps: 'CHAPS',
  p2p: 'P2P',
  '3ds': '3DS',
  sca: 'SCA',
  pep: 'PEP',
  pii: 'PII',
  hsm: 'HSM',
  rpc: 'RPC',
  fscs: 'FSCS',
  scv: 'SCV',
  boe: 'BoE',
  hmrc: 'HMRC',
  fx: 'FX',
  atm: 'ATM',
  ob: 'OB',
  sar: 'SAR',
  apns: 'APNs',
  fcm: 'FCM',
  sms: 'SMS',
  oauth2: 'OAuth2',
  aisp: 'AISP',
  pisp: 'PISP',
};

export function titleOf(name: string): string {
  return name
    .split('-')
    .map((w) => ACRONYMS[w] ?? w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

const SPECIAL_DESCRIPTIONS: Record<string, string> = {
  api: 'Edge gateway for the mobile and web apps: authenticates requests and routes them to the api-* services.',
  shipper: 'Deploys services to Kubernetes and writes their secrets to Vault.',
  response: 'Incident bot: opens incident channels, pages the on-call and records the timeline.',
  config: 'Runtime configuration every service reads at start-up and on change.',
  'feature-flags': 'Feature flags and staged rollouts for every service.',
  ledger: 'The double-entry ledger: the source of truth for every movement of money.',
  account: 'Customer accounts: the account record, its state and its owners.',
  user: 'The customer record: identity, status and the accounts they hold.',
  transactions: 'Transactions as customers see them in the app, built from ledger entries.',
  balance: 'Current and available balances, projected from the ledger.',
  notifications: 'Sends push, email and SMS notifications according to customer preferences.',
  'audit-trail': 'Tamper-evident record of staff and system actions.',
  'rpc-permissions': 'Checks caller-side RPC permissions between services and for staff.',
  'card-processing': 'Processes card authorisations from the card network end to end.',
  'payment-orchestrator': 'Orchestrates a payment across limits, fraud checks, the ledger and the scheme.',
};

const SUFFIX_DESCRIPTIONS: Record<string, (core: string) => string> = {
  worker: (c) => `Background worker for ${c}: processes its queued jobs.`,
  consumer: (c) => `Consumes events for ${c} and applies them to its state.`,
  cron: (c) => `Scheduled jobs for ${c}.`,
  backfill: (c) => `Backfills historical data for ${c}.`,
  reconciler: (c) => `Reconciles ${c} against its upstream sources and reports breaks.`,
  projector: (c) => `Projects ${c} events into read models.`,
  admin: (c) => `Staff administration for ${c}.`,
  exporter: (c) => `Exports ${c} data to the warehouse.`,
  migrator: (c) => `Runs data migrations for ${c}.`,
  poller: (c) => `Polls external providers on behalf of ${c}.`,
  gateway: (c) => `Gateway to the external ${c} provider or scheme.`,
};

function describe(s: BaseService): string {
  const special = SPECIAL_DESCRIPTIONS[s.name];
  if (special) return special;
  const parts = s.name.split('-');
  const last = parts[parts.length - 1];
  const core = titleOf(parts.slice(0, -1).join('-'));
  const suffixed = SUFFIX_DESCRIPTIONS[last];
  if (suffixed && parts.length > 1) return suffixed(core);
  if (s.domain === 'edge-api')
    return `Edge API behind the app's ${titleOf(parts.slice(1).join('-'))} screens.`;
  const domain = DOMAINS.find((d) => d.id === s.domain);
  const collective = COLLECTIVES.find((c) => c.id === s.collective);
  return `${titleOf(s.name)} in the ${domain ? titleOf(domain.id) : s.domain} domain of ${collective?.title ?? s.collective}.`;
}

function tierOf(s: BaseService, base: Base, hash: number): 1 | 2 | 3 | 4 {
  if (base.moneyChainMembers.has(s.name)) return 1;
  if (HUBS.includes(s.name)) return ['feature-flags', 'audit-trail'].includes(s.name) ? 2 : 1;
  let tier: number;
  if (s.collective === 'platform') {
    tier = s.domain === 'service-framework' || s.domain === 'security' ? 2 : hash < 0.6 ? 3 : 4;
  } else if (s.collective === 'payments' || s.collective === 'core-banking') tier = hash < 0.25 ? 1 : 2;
  else if (s.collective === 'financial-crime' || base.chainMembers.has(s.name)) tier = 2;
  else tier = hash < 0.5 ? 2 : 3;
  if (s.padded && /-(admin|exporter|migrator|backfill)$/.test(s.name)) tier++;
  return Math.min(4, tier) as 1 | 2 | 3 | 4;
}

function languageOf(s: BaseService, base: Base, hash: number): Language {
  if (s.domain === 'edge-api' || s.type === 'website' || s.name === 'internal-tools-api') return 'typescript';
  if (
    s.domain === 'data-platform' ||
    ['fraud-scoring', 'fraud-features', 'credit-score-insights'].includes(s.name)
  )
    return 'python';
  if (
    ['bacs-gateway', 'swift-gateway', 'mastercard-gateway', 'chaps-gateway', 'hsm-gateway'].includes(s.name)
  )
    return 'java';
  // The money-moving core and the hubs are Go, like the bootstrap template.
  if (base.chainMembers.has(s.name) || HUBS.includes(s.name)) return 'go';
  if (hash < 0.06) return 'typescript';
  if (hash < 0.09) return 'python';
  if (hash < 0.11) return 'java';
  return 'go';
}

function lifecycleOf(s: BaseService, base: Base, hash: number): Lifecycle {
  if (base.chainMembers.has(s.name) || HUBS.includes(s.name)) return 'production';
  if (/-(migrator|poller)$/.test(s.name) || s.name === 'waitlist') return 'experimental';
  if (hash < 0.04) return 'experimental';
  if (hash > 0.965 || s.domain === 'chaps') return 'deprecated';
  return 'production';
}

// ---------------------------------------------------------------------------------------------------------
// Generation.

const suffixFor = (replica: number): string => (replica === 1 ? '' : `-s${replica}`);

function userName(first: string, last: string): string {
  return `${first}-${last}`.toLowerCase().replace(/[^a-z0-9-]/g, '');
}

function buildOrg(replica: number, out: Estate): void {
  const sfx = suffixFor(replica);
  let person = 0;
  const nextPerson = (): { name: string; displayName: string; email: string } => {
    const i = person++;
    const first = FIRST_NAMES[i % FIRST_NAMES.length];
    const last = LAST_NAMES[(i * 7 + Math.floor(i / FIRST_NAMES.length)) % LAST_NAMES.length];
    const base = userName(first, last);
    return {
      name: `${base}${sfx}`,
      displayName: `${first} ${last}`,
      email: `${base.replace('-', '.')}${sfx.replace('-', '.')}@bank.example`,
    };
  };
  const otherRoles = ['product-manager', 'designer', 'data-scientist'] as const;
  for (const collective of COLLECTIVES) {
    const engineers = collective.squads.reduce((n, s) => n + s.engineers, 0);
    // One engineering manager per 6–8 engineers, each matrixed across 2–3 neighbouring squads.
    const managers = Math.max(1, Math.round(engineers / 7));
    const chunks: string[][] = [];
    const squadIds = collective.squads.map((s) => s.id);
    let start = 0;
    for (let m = 0; m < managers; m++) {
      const size = Math.ceil((squadIds.length - start) / (managers - m));
      chunks.push(squadIds.slice(start, start + size));
      start += size;
    }
    const managerOf = new Map<string, string>();
    for (const chunk of chunks) {
      const p = nextPerson();
      const memberOf = chunk.map((s) => `${s}${sfx}`);
      out.users.push({ ...p, role: 'engineering-manager', memberOf });
      for (const s of chunk) managerOf.set(s, p.name);
    }
    const squadNames: string[] = [];
    for (const spec of collective.squads) {
      const squadName = `${spec.id}${sfx}`;
      squadNames.push(squadName);
      const engineersOf: string[] = [];
      const othersOf: string[] = [];
      for (let e = 0; e < spec.engineers; e++) {
        const p = nextPerson();
        out.users.push({ ...p, role: 'engineer', memberOf: [squadName] });
        engineersOf.push(p.name);
      }
      for (let o = 0; o < spec.others; o++) {
        const p = nextPerson();
        out.users.push({ ...p, role: otherRoles[o % otherRoles.length], memberOf: [squadName] });
        othersOf.push(p.name);
      }
      out.squads.push({
        name: squadName,
        baseName: spec.id,
        title: `${titleOf(spec.id)}${replica === 1 ? '' : ` (s${replica})`}`,
        collective: `${collective.id}${sfx}`,
        engineeringManager: managerOf.get(spec.id) ?? '',
        productManager: othersOf[0],
        engineers: engineersOf,
        others: othersOf,
        slackChannel: `#squad-${squadName}`,
        oncallRota: `${collective.id}-${spec.id}${sfx}`,
      });
    }
    out.collectives.push({
      name: `${collective.id}${sfx}`,
      title: `${collective.title}${replica === 1 ? '' : ` (s${replica})`}`,
      squads: squadNames,
    });
  }
  for (const domain of DOMAINS) {
    const collective = COLLECTIVES.find((c) => c.id === domain.collective);
    out.systems.push({
      name: `${domain.id}${sfx}`,
      title: `${titleOf(domain.id)}${replica === 1 ? '' : ` (s${replica})`}`,
      description: `The ${titleOf(domain.id)} domain of ${collective?.title ?? domain.collective}, owned by the ${titleOf(domain.squad)} squad.`,
      collective: `${domain.collective}${sfx}`,
      squad: `${domain.squad}${sfx}`,
    });
  }
}

function buildServices(replica: number, count: number, seed: number, base: Base, out: Estate): void {
  const sfx = suffixFor(replica);
  for (let b = 0; b < count; b++) {
    const s = base.services[b];
    const name = `${s.name}${sfx}`;
    const hash = unitHash(`facts:${name}`);
    const tier = tierOf(s, base, unitHash(`tier:${name}`));
    const deploy = rngFor(seed, 'deploy', name);
    const resources: string[] = [];
    for (const st of s.storage) {
      const resName = `${st.name}${sfx}`;
      const dataName =
        replica === 1
          ? st.dataName
          : st.type === 'cassandra-keyspace' || st.type === 'postgres-database'
            ? `${st.dataName}_s${replica}`
            : `${st.dataName}-s${replica}`;
      resources.push(resName);
      out.resources.push({
        name: resName,
        type: st.type,
        dataName,
        owner: name,
        squad: `${s.squad}${sfx}`,
        system: `${s.domain}${sfx}`,
      });
    }
    const memoryRequestMi = [64, 128, 128, 256][Math.floor(deploy() * 4)];
    out.services.push({
      name,
      baseName: s.name,
      replica,
      title: `${titleOf(s.name)}${replica === 1 ? '' : ` (s${replica})`}`,
      description: describe(s),
      type: s.type,
      lifecycle: lifecycleOf(s, base, hash),
      tier,
      language: languageOf(s, base, unitHash(`language:${name}`)),
      collective: `${s.collective}${sfx}`,
      squad: `${s.squad}${sfx}`,
      system: `${s.domain}${sfx}`,
      resources,
      version: `v1.${Math.floor(deploy() * 40)}.${Math.floor(deploy() * 20)}`,
      replicas: tier === 1 ? (deploy() < 0.5 ? 5 : 3) : tier === 4 ? 2 : 3,
      cpuRequestMillis: [50, 100, 100, 200, 250][Math.floor(deploy() * 5)],
      memoryRequestMi,
      memoryLimitMi: memoryRequestMi * (deploy() < 0.5 ? 2 : 4),
    });
  }
}

/** Call edges of one replica, as [from, to] in global service indices. */
function buildEdges(replica: number, count: number, seed: number, base: Base, out: Estate): void {
  const rng: Rng = rngFor(seed, 'edges', replica);
  const offset = (replica - 1) * BASE_SERVICES;
  const names = out.services;
  const seen = new Set<number>();
  const key = (from: number, to: number): number => from * 1_000_000 + to;
  let total = 0;
  let intra = 0;
  const add = (fromB: number, toGlobal: number, isIntra: boolean): void => {
    const from = offset + fromB;
    seen.add(key(from, toGlobal));
    const callee = names[toGlobal];
    const via: EdgeVia = callee.type === 'service' && rng() < 0.55 ? 'consumesApi' : 'dependsOn';
    out.edges.push({ from: names[from].name, to: callee.name, via });
    total++;
    if (isIntra) intra++;
  };
  for (const [a, b] of base.fixedEdges) {
    if (a < count && b < count) add(a, offset + b, base.collectiveOf[a] === base.collectiveOf[b]);
  }
  const target = Math.round((count * BASE_EDGES) / BASE_SERVICES);
  // Heavy-tailed out-degree: log-normal appetite per caller, scaled by its role (the edge fans out most).
  const appetite = new Float64Array(count);
  for (let b = 0; b < count; b++) appetite[b] = base.callerRole[b] * Math.exp(0.9 * gaussian(rng));
  const callerCumulative = cumulate(appetite);
  let attempts = 0;
  while (total < target && attempts < target * 60) {
    attempts++;
    const caller = pickCumulative(callerCumulative, rng);
    const collective = base.collectiveOf[caller];
    const wantIntra = intra < INTRA_COLLECTIVE_TARGET * (total + 1);
    let callee: number;
    if (wantIntra) {
      const members = base.collectiveMembers[collective];
      callee = members[pickCumulative(base.collectiveCumulative[collective], rng)];
    } else {
      callee = pickCumulative(base.globalCumulative, rng);
      if (base.collectiveOf[callee] === collective) continue;
    }
    if (callee >= count || callee === caller || base.rank[callee] <= base.rank[caller]) continue;
    let target_ = offset + callee;
    let isIntra = wantIntra;
    if (replica > 1 && rng() < CROSS_REPLICA_SHARE) {
      target_ = callee;
      isIntra = false;
    }
    if (seen.has(key(offset + caller, target_))) continue;
    add(caller, target_, isIntra);
  }
}

export function generateEstate(options: GenerateOptions = {}): Estate {
  const count = options.services ?? BASE_SERVICES;
  const seed = options.seed ?? 42;
  if (!Number.isInteger(count) || count < 1) throw new Error('services must be a positive integer');
  const base = buildBase();
  const estate: Estate = {
    seed,
    services: [],
    edges: [],
    resources: [],
    collectives: [],
    squads: [],
    users: [],
    systems: [],
  };
  const replicas = Math.ceil(count / BASE_SERVICES);
  for (let r = 1; r <= replicas; r++) {
    const n = Math.min(BASE_SERVICES, count - (r - 1) * BASE_SERVICES);
    buildOrg(r, estate);
    buildServices(r, n, seed, base, estate);
  }
  for (let r = 1; r <= replicas; r++) {
    const n = Math.min(BASE_SERVICES, count - (r - 1) * BASE_SERVICES);
    buildEdges(r, n, seed, base, estate);
  }
  return estate;
}

// ---------------------------------------------------------------------------------------------------------
// Shape figures, printed by the CLI and checked by the tests.

export interface EstateSummary {
  services: number;
  edges: number;
  meanOutDegree: number;
  maxOutDegree: { name: string; degree: number };
  intraCollectiveShare: number;
  maxInDegree: { name: string; degree: number };
  hubInDegree: Record<string, number>;
  cycles: string[][];
  statefulShare: number;
  resourcesByType: Record<string, number>;
  squads: number;
  collectives: number;
  users: number;
  systems: number;
}

/** Strongly connected components with more than one member (iterative Tarjan). */
export function findCycles(names: string[], edges: CallEdge[]): string[][] {
  const index = new Map(names.map((n, i) => [n, i]));
  const adj: number[][] = names.map(() => []);
  for (const e of edges) {
    const a = index.get(e.from);
    const b = index.get(e.to);
    if (a !== undefined && b !== undefined) adj[a].push(b);
  }
  const n = names.length;
  const idx = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const out: string[][] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (idx[root] >= 0) continue;
    const work: [number, number][] = [[root, 0]];
    idx[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [v, i] = frame;
      if (i < adj[v].length) {
        frame[1]++;
        const w = adj[v][i];
        if (idx[w] < 0) {
          idx[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          work.push([w, 0]);
        } else if (onStack[w]) low[v] = Math.min(low[v], idx[w]);
      } else {
        work.pop();
        if (work.length > 0) {
          const parent = work[work.length - 1][0];
          low[parent] = Math.min(low[parent], low[v]);
        }
        if (low[v] === idx[v]) {
          const component: number[] = [];
          let w: number;
          do {
            w = stack.pop() as number;
            onStack[w] = 0;
            component.push(w);
          } while (w !== v);
          if (component.length > 1) out.push(component.map((c) => names[c]).sort());
        }
      }
    }
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

export function summarise(estate: Estate): EstateSummary {
  const collectiveOf = new Map(estate.services.map((s) => [s.name, s.collective]));
  const inDegree = new Map<string, number>();
  const outDegree = new Map<string, number>();
  let intra = 0;
  for (const e of estate.edges) {
    inDegree.set(e.to, (inDegree.get(e.to) ?? 0) + 1);
    outDegree.set(e.from, (outDegree.get(e.from) ?? 0) + 1);
    if (collectiveOf.get(e.from) === collectiveOf.get(e.to)) intra++;
  }
  const max = (m: Map<string, number>): { name: string; degree: number } => {
    let best = { name: '', degree: 0 };
    for (const [name, degree] of m) if (degree > best.degree) best = { name, degree };
    return best;
  };
  const resourcesByType: Record<string, number> = {};
  for (const r of estate.resources) resourcesByType[r.type] = (resourcesByType[r.type] ?? 0) + 1;
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    services: estate.services.length,
    edges: estate.edges.length,
    meanOutDegree: round(estate.edges.length / estate.services.length),
    maxOutDegree: max(outDegree),
    intraCollectiveShare: round(intra / estate.edges.length),
    maxInDegree: max(inDegree),
    hubInDegree: Object.fromEntries(HUBS.map((h) => [h, inDegree.get(h) ?? 0])),
    cycles: findCycles(
      estate.services.map((s) => s.name),
      estate.edges,
    ),
    statefulShare: round(
      estate.services.filter((s) => s.resources.length > 0).length / estate.services.length,
    ),
    resourcesByType,
    squads: estate.squads.length,
    collectives: estate.collectives.length,
    users: estate.users.length,
    systems: estate.systems.length,
  };
}
