import Link from 'next/link';
import { HomeStats } from '../components/shell/home-stats';

const JOURNEYS = [
  {
    href: '/catalogue',
    title: 'Find a service',
    text: 'Owner, on-call, runbook, APIs and dependencies of every service.',
  },
  {
    href: '/paths?from=card-api&to=feed',
    title: 'Trace a call path',
    text: 'How card-api reaches feed, and who owns every hop.',
  },
  {
    href: '/graph',
    title: 'Explore the graph',
    text: 'The estate by collective or system; focus on one service.',
  },
  {
    href: '/impact?ref=ledger',
    title: 'Blast radius',
    text: 'What breaks if ledger does, tier 1 first, team by team.',
  },
  {
    href: '/org',
    title: 'Organisation',
    text: 'Collectives, squads, load per engineer, orphans and coupling.',
  },
];

export default function Home() {
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Developer portal</h1>
          <p>Every service at the bank, who owns it, what it calls and what calls it. Press / to search.</p>
        </div>
      </div>
      <HomeStats />
      <div className="grid grid-3" style={{ marginTop: 16 }}>
        {JOURNEYS.map((j) => (
          <Link
            prefetch={false}
            key={j.href}
            href={j.href}
            className="card card-pad"
            style={{ color: 'inherit' }}
          >
            <h2 style={{ color: 'var(--link)' }}>{j.title} →</h2>
            <p className="muted" style={{ margin: 0 }}>
              {j.text}
            </p>
          </Link>
        ))}
      </div>
    </>
  );
}
