/**
 * The bank's estate as written in the team's estate reference page (bank-estate.md), kept as close to the page's
 * own notation (brace expansion, storage codes) as possible so the two can be compared line by line.
 */

export interface SquadSpec {
  id: string;
  engineers: number;
  /** Product, design and data people; the first one is the squad's product manager. */
  others: number;
}

export interface CollectiveSpec {
  id: string;
  title: string;
  squads: SquadSpec[];
}

export interface DomainSpec {
  id: string;
  collective: string;
  squad: string;
  count: number;
  /** Brace-expanded service list, comma separated; text in parentheses is a description. */
  services: string;
  /** Storage in the page's codes: `K a, b; P c; T d.e; Q f.g; S3 h; ES i; L`. Empty = stateless. */
  storage: string;
}

const sq = (id: string, engineers: number, others: number): SquadSpec => ({ id, engineers, others });

export const COLLECTIVES: CollectiveSpec[] = [
  {
    id: 'core-banking',
    title: 'Core Banking',
    squads: [sq('ledger', 4, 1), sq('accounts', 3, 2), sq('transactions', 3, 2), sq('savings', 3, 3)],
  },
  {
    id: 'payments',
    title: 'Payments',
    squads: [
      sq('card-issuing', 4, 2),
      sq('card-processing', 4, 1),
      sq('faster-payments', 3, 1),
      sq('bacs', 3, 1),
      sq('international', 3, 1),
      sq('open-banking', 2, 1),
    ],
  },
  {
    id: 'financial-crime',
    title: 'Financial Crime',
    squads: [sq('fraud', 4, 2), sq('aml', 3, 2), sq('kyc', 3, 2), sq('disputes', 2, 1)],
  },
  {
    id: 'personal-banking',
    title: 'Personal Banking',
    squads: [
      sq('onboarding', 3, 3),
      sq('app-experience', 4, 3),
      sq('notifications', 2, 1),
      sq('insights', 3, 3),
      sq('social', 2, 2),
    ],
  },
  {
    id: 'borrowing',
    title: 'Borrowing',
    squads: [sq('overdrafts', 3, 2), sq('lending', 3, 2), sq('credit-risk', 3, 2)],
  },
  {
    id: 'cops',
    title: 'Customer Operations',
    squads: [sq('support-chat', 3, 2), sq('ops-tooling', 3, 2), sq('complaints', 2, 1)],
  },
  {
    id: 'business-banking',
    title: 'Business Banking',
    squads: [sq('business-accounts', 3, 2), sq('business-tools', 2, 2)],
  },
  {
    id: 'money',
    title: 'Money',
    squads: [sq('treasury', 2, 1), sq('regulatory-reporting', 2, 1), sq('fees-billing', 2, 1)],
  },
  {
    id: 'platform',
    title: 'Platform',
    squads: [
      sq('infrastructure', 4, 0),
      sq('service-framework', 3, 0),
      sq('data-storage', 3, 0),
      sq('observability', 2, 0),
      sq('security', 4, 1),
      sq('developer-tooling', 2, 1),
      sq('data-platform', 2, 2),
    ],
  },
];

const d = (
  id: string,
  collective: string,
  squad: string | null,
  count: number,
  services: string,
  storage: string,
): DomainSpec => ({ id, collective, squad: squad ?? id, count, services, storage });

export const DOMAINS: DomainSpec[] = [
  // Core Banking (60)
  d(
    'ledger',
    'core-banking',
    null,
    12,
    'ledger{,-writer,-reader,-entries,-audit,-reconciler,-snapshot,-replay}',
    'K ledger{,_entries,_snapshot}; T ledger.entry-created; L',
  ),
  d(
    'balances',
    'core-banking',
    'ledger',
    6,
    'balance{,-projector,-history,-limits}, available-balance',
    'K balance{,_history}; T balance.updated',
  ),
  d(
    'accounts',
    'core-banking',
    null,
    9,
    'account{,-lifecycle,-closure,-restrictions,-number-allocator,-documents}, joint-account',
    'K account{,_restrictions}; T account.{created,closed}; S3 account-documents',
  ),
  d(
    'statements',
    'core-banking',
    'accounts',
    5,
    'statement{,-generator,-renderer}, annual-summary',
    'K statement; S3 statements',
  ),
  d(
    'transactions',
    'core-banking',
    null,
    9,
    'transactions, transaction-{search,metadata,notes,attachments,export}',
    'K transaction{,_metadata}; ES transactions; T transaction.{created,settled}',
  ),
  d(
    'pots',
    'core-banking',
    'savings',
    7,
    'pot{,-transfers,-rules,-images,-goals}',
    'K pot{,_rules}; S3 pot-images',
  ),
  d(
    'savings',
    'core-banking',
    null,
    7,
    'savings-{account,provider-gateway,withdrawals}, isa, fixed-term-savings',
    'K savings_account; P savings_ledger_export',
  ),
  d(
    'interest',
    'core-banking',
    'savings',
    5,
    'interest-{accrual,rates,payout,calculator}',
    'K interest_accrual; P interest_rates',
  ),
  // Payments (67)
  d(
    'cards',
    'payments',
    'card-issuing',
    11,
    'cards, card-{issuance,manufacturer-gateway,pin,controls,tokenisation,replacement}, virtual-cards',
    'K card{,_pin,_token} (card_pin HSM-wrapped); T card.{issued,frozen}',
  ),
  d(
    'card-processing',
    'payments',
    null,
    13,
    'card-{api,processing,authorisation,clearing,settlement,3ds,presentments}, mastercard-gateway, atm-withdrawals',
    'K card_processing, authorisation, presentment; T card.{authorisation,presentment}',
  ),
  d(
    'faster-payments',
    'payments',
    null,
    11,
    'faster-payments, fps-{gateway,inbound,outbound,returns}, payee, confirmation-of-payee, scheduled-payments, standing-orders',
    'K fps_payment, payee, standing_order; T fps.{inbound,outbound}; L',
  ),
  d(
    'bacs',
    'payments',
    null,
    9,
    'bacs{,-gateway,-file-processor,-credits,-returns}, direct-debit-mandates, direct-debits',
    'P bacs_files; K dd_mandate, direct_debit; S3 bacs-files; T bacs.debit-due',
  ),
  d(
    'chaps',
    'payments',
    'international',
    4,
    'chaps{,-gateway,-payments}',
    'K chaps_payment; P chaps_messages',
  ),
  d(
    'international',
    'payments',
    null,
    7,
    'international-transfers, sepa{,-gateway}, fx-rates, swift-gateway',
    'K intl_transfer; P fx_rates; T fx.rate-updated',
  ),
  d(
    'payments-core',
    'payments',
    'faster-payments',
    6,
    'payment-{orchestrator,limits,routing,idempotency}',
    'K payment{,_limits}, idempotency_key',
  ),
  d(
    'open-banking',
    'payments',
    null,
    6,
    'open-banking-{aisp,pisp,gateway}, ob-consents, third-party-providers',
    'K ob_consent, tpp; P ob_audit',
  ),
  // Financial Crime (34)
  d(
    'fraud',
    'financial-crime',
    null,
    10,
    'fraud-{scoring,rules,cases,features}, device-fingerprint, card-fraud-monitor, app-fraud',
    'K fraud_{case,features}, device; T fraud.decision',
  ),
  d(
    'aml',
    'financial-crime',
    null,
    7,
    'transaction-monitoring, aml-{alerts,cases}, sar-reporting, customer-risk-rating',
    'K aml_alert, risk_rating; P sar_reports',
  ),
  d(
    'sanctions',
    'financial-crime',
    'aml',
    4,
    '{sanctions,pep}-screening, watchlist-sync',
    'K screening_result; P watchlists',
  ),
  d(
    'kyc',
    'financial-crime',
    null,
    8,
    'kyc{,-refresh}, {identity,document,selfie,address}-verification',
    'K kyc_check, id_document; S3 kyc-documents',
  ),
  d(
    'disputes',
    'financial-crime',
    null,
    5,
    'disputes, chargebacks, mastercard-disputes-gateway, dispute-evidence',
    'K dispute, chargeback; S3 dispute-evidence',
  ),
  // Personal Banking (69)
  d(
    'onboarding',
    'personal-banking',
    null,
    7,
    'signup, onboarding, waitlist, application-review, referral, account-opening',
    'K signup, application, referral',
  ),
  d(
    'edge-api',
    'personal-banking',
    'app-experience',
    12,
    'api (edge gateway), api-{feed,accounts,cards,payments,pots,profile,insights,support}',
    '',
  ),
  d(
    'feed',
    'personal-banking',
    'app-experience',
    5,
    'feed{,-generator,-items,-backfill}',
    'K feed_item; T feed.item-created',
  ),
  d(
    'notifications',
    'personal-banking',
    null,
    8,
    'notifications, apns, fcm, email, sms, notification-preferences, in-app-messages',
    'K notification, push_token; T notifications.push; Q apns.push',
  ),
  d(
    'enrichment',
    'personal-banking',
    'insights',
    9,
    'transaction-enrichment, merchant{,-matching,-logos}, categorisation, emoji, geocoding',
    'K merchant{,_match}; ES merchants; T transaction.enriched',
  ),
  d(
    'insights',
    'personal-banking',
    null,
    7,
    'spending-insights, budgets, targets, summaries, {salary,bills}-detection',
    'K budget, summary',
  ),
  d(
    'social',
    'personal-banking',
    null,
    6,
    'p2p-payments, payment-requests, bill-split, contacts, shared-tabs',
    'K payment_request, contact, tab',
  ),
  d(
    'customer',
    'personal-banking',
    'onboarding',
    6,
    'user, profile, address, contact-details, preferences',
    'K user, profile, address',
  ),
  d(
    'identity',
    'personal-banking',
    'app-experience',
    9,
    'auth, oauth2, session, login, device, sca-challenge, passcode',
    'K session, device, oauth_token; L',
  ),
  // Borrowing (28)
  d('overdrafts', 'borrowing', null, 5, 'overdraft{,-eligibility,-interest,-limits}', 'K overdraft'),
  d(
    'loans',
    'borrowing',
    'lending',
    6,
    'loans, loan-{quotes,disbursement,repayments,schedules}',
    'K loan{,_schedule}; P loan_book',
  ),
  d(
    'credit-cards',
    'borrowing',
    'lending',
    6,
    'credit-card{,-statements,-repayments}, flex, credit-limits',
    'K credit_account, flex_plan',
  ),
  d(
    'credit-decisioning',
    'borrowing',
    'credit-risk',
    6,
    'credit-{decisioning,bureau-gateway,policy,score-insights}, affordability',
    'K credit_decision; P credit_policy',
  ),
  d(
    'collections',
    'borrowing',
    'credit-risk',
    5,
    'collections, arrears, repayment-plans, debt-recovery-gateway',
    'K arrears, repayment_plan',
  ),
  // Customer Operations (20)
  d(
    'support',
    'cops',
    'support-chat',
    8,
    'chat{,-routing}, help-articles, callback, agent-presence, api-support-internal',
    'K chat_message, conversation; ES help',
  ),
  d(
    'ops-tooling',
    'cops',
    null,
    8,
    'cases, ops-{actions,queue}, customer-timeline, internal-tools-api, staff-directory',
    'P cases; K ops_action',
  ),
  d(
    'complaints',
    'cops',
    null,
    4,
    'complaints, vulnerability-flags, bereavement',
    'P complaints; K vulnerability',
  ),
  // Business Banking (12)
  d(
    'business-accounts',
    'business-banking',
    null,
    6,
    'business-{account,users,onboarding}, company-verification, companies-house-gateway',
    'K business_{account,user}',
  ),
  d(
    'business-tools',
    'business-banking',
    null,
    6,
    'invoicing, accounting-integrations, bulk-payments, receipts-matching, tax-pots',
    'K invoice, bulk_payment; S3 receipts',
  ),
  // Money (18)
  d(
    'treasury',
    'money',
    null,
    7,
    'treasury, safeguarding, {scheme,settlement}-reconciliation, nostro-accounts, general-ledger',
    'P general_ledger, reconciliation',
  ),
  d(
    'regulatory-reporting',
    'money',
    null,
    6,
    'regulatory-reporting, fscs-scv, boe-returns, hmrc-interest-reporting, data-retention',
    'P reg_reports; S3 returns',
  ),
  d(
    'fees-billing',
    'money',
    null,
    5,
    'fees, subscriptions, billing, pricing',
    'K subscription, fee; P billing',
  ),
  // Platform (42)
  d(
    'service-framework',
    'platform',
    null,
    8,
    'config, feature-flags, cron, distributed-lock, idempotency-keys, outbox-relay, rate-limiter',
    'K config, feature_flag; L',
  ),
  d(
    'developer-tooling',
    'platform',
    null,
    7,
    'shipper (deployer), build-pipeline, service-catalog, code-owners, dev-portal, migration-runner',
    'P deployments, catalog',
  ),
  // The page says "∅ / P" and "∅ / S3": most are stateless, one or two hold a database or bucket.
  d(
    'data-storage',
    'platform',
    null,
    6,
    '{cassandra,kafka,postgres}-admin, schema-registry, backup-manager',
    'P schema_registry, backup_catalog',
  ),
  d(
    'observability',
    'platform',
    null,
    7,
    'tracing-collector, metrics-gateway, log-shipper, alert-router, response (incident bot), status-page',
    'P incidents',
  ),
  d(
    'security',
    'platform',
    null,
    8,
    'staff-auth, rpc-permissions, secrets-broker, hsm-gateway, network-policy-generator, audit-trail, pii-tokenisation',
    'K audit_event, pii_token',
  ),
  d(
    'data-platform',
    'platform',
    null,
    6,
    'event-exporter, analytics-events, warehouse-loader, feature-store, model-serving',
    'S3 analytics-events, warehouse-staging',
  ),
];

/** Padding suffixes, in the order the page gives them. */
export const PADDING_SUFFIXES = [
  'worker',
  'consumer',
  'cron',
  'backfill',
  'reconciler',
  'projector',
  'admin',
  'exporter',
  'migrator',
  'poller',
];

/** Every edge of the six canonical call chains. */
export const CANONICAL_CHAINS: { name: string; edges: [string, string][] }[] = [
  {
    name: 'card authorisation',
    edges: [
      ['api', 'card-api'],
      ['card-api', 'card-processing'],
      ['card-processing', 'cards'],
      ['cards', 'transactions'],
      ['transactions', 'balance'],
      ['balance', 'transaction-enrichment'],
      ['transaction-enrichment', 'merchant'],
      ['merchant', 'feed-generator'],
      ['feed-generator', 'feed'],
      ['feed', 'apns'],
      ['card-processing', 'fraud-scoring'],
      ['card-processing', 'ledger'],
      ['card-processing', 'card-controls'],
    ],
  },
  {
    name: 'faster payments inbound',
    edges: [
      ['fps-gateway', 'fps-inbound'],
      ['fps-inbound', 'payment-orchestrator'],
      ['payment-orchestrator', 'account'],
      ['account', 'sanctions-screening'],
      ['sanctions-screening', 'ledger'],
      ['ledger', 'transactions'],
      ['transactions', 'feed-generator'],
      ['feed-generator', 'notifications'],
      ['notifications', 'apns'],
      ['notifications', 'fcm'],
    ],
  },
  {
    name: 'outbound payment',
    edges: [
      ['api', 'api-payments'],
      ['api-payments', 'payment-orchestrator'],
      ['payment-orchestrator', 'payment-limits'],
      ['payment-orchestrator', 'payee'],
      ['payment-orchestrator', 'confirmation-of-payee'],
      ['payment-orchestrator', 'fraud-scoring'],
      ['payment-orchestrator', 'fps-outbound'],
      ['fps-outbound', 'fps-gateway'],
      // The ledger is written twice (hold, settle): one call edge.
      ['payment-orchestrator', 'ledger'],
    ],
  },
  {
    name: 'onboarding',
    edges: [
      ['api', 'signup'],
      ['signup', 'onboarding'],
      ['onboarding', 'identity-verification'],
      ['onboarding', 'document-verification'],
      ['onboarding', 'selfie-verification'],
      ['onboarding', 'sanctions-screening'],
      ['onboarding', 'pep-screening'],
      ['onboarding', 'kyc'],
      ['kyc', 'account-opening'],
      ['account-opening', 'account'],
      ['account-opening', 'card-issuance'],
      ['account-opening', 'user'],
    ],
  },
  {
    name: 'feed read',
    edges: [
      ['api', 'api-feed'],
      ['api-feed', 'feed'],
      ['api-feed', 'pot'],
      ['api-feed', 'transactions'],
      ['api-feed', 'merchant'],
    ],
  },
  {
    name: 'direct debit',
    edges: [
      ['bacs-gateway', 'bacs-file-processor'],
      ['bacs-file-processor', 'direct-debits'],
      ['direct-debits', 'direct-debit-mandates'],
      ['direct-debit-mandates', 'payment-orchestrator'],
      ['payment-orchestrator', 'ledger'],
    ],
  },
];

/**
 * Cycles. The faster-payments one is forced by the canonical chains (gateway → inbound → orchestrator →
 * outbound → gateway); the others are deliberate, small and outside the chains, as real estates have them.
 * Each cycle's members sit next to each other in the call order, so no other service joins the cycle.
 */
export const CHAIN_CYCLE = ['fps-gateway', 'fps-inbound', 'payment-orchestrator', 'fps-outbound'];
export const DELIBERATE_CYCLES: string[][] = [
  ['pot-rules', 'pot-goals'],
  ['fraud-cases', 'aml-cases', 'aml-alerts'],
  ['chat', 'chat-routing', 'agent-presence'],
  ['loans', 'loan-schedules', 'loan-repayments'],
  ['budgets', 'targets'],
];

export const HUBS = [
  'account',
  'user',
  'ledger',
  'transactions',
  'config',
  'feature-flags',
  'balance',
  'notifications',
  'audit-trail',
  'rpc-permissions',
];

/** Components that are not deployed RPC services. */
export const LIBRARIES = ['emoji', 'code-owners', 'idempotency-keys'];
export const WEBSITES = ['dev-portal', 'status-page'];

export const FIRST_NAMES = [
  'Aisha',
  'Ben',
  'Chloe',
  'Dev',
  'Ella',
  'Farid',
  'Grace',
  'Hamza',
  'Isla',
  'Jamal',
  'Kate',
  'Liam',
  'Maya',
  'Nikhil',
  'Olivia',
  'Priya',
  'Quentin',
  'Rosa',
  'Sam',
  'Tomasz',
  'Uma',
  'Victor',
  'Wen',
  'Xavier',
  'Yara',
  'Zoe',
  'Amir',
  'Bea',
  'Callum',
  'Dara',
  'Emeka',
  'Fiona',
  'Gareth',
  'Hana',
  'Ivan',
  'Jess',
  'Kofi',
  'Lena',
  'Mateo',
  'Niamh',
  'Oscar',
  'Pia',
  'Rhys',
  'Sofia',
  'Theo',
  'Ursula',
  'Wiktor',
  'Yusuf',
];
export const LAST_NAMES = [
  'Adams',
  'Bhatt',
  'Campbell',
  'Davies',
  'Evans',
  'Fernandes',
  'Green',
  'Hughes',
  'Iqbal',
  'Jones',
  'Khan',
  'Lewis',
  'Morgan',
  'Nowak',
  'Okafor',
  'Patel',
  'Quinn',
  'Roberts',
  'Singh',
  'Taylor',
  'Usman',
  'Vaughan',
  'Walsh',
  'Xu',
  'Young',
  'Zielinski',
  'Ahmed',
  'Brown',
  'Chen',
  'Doyle',
  'Ellis',
  'Fraser',
  'Garcia',
  'Hall',
  'Ito',
  'Jensen',
  'Kowalski',
  'Lopez',
  'Murphy',
  'Nguyen',
  "O'Neill",
  'Price',
  'Reid',
  'Shah',
  'Thomas',
  'Walker',
  'Yilmaz',
];
