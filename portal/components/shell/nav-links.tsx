'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';

const SECTIONS = [
  { href: '/catalogue', label: 'Catalogue' },
  { href: '/graph', label: 'Graph' },
  { href: '/paths', label: 'Paths' },
  { href: '/impact', label: 'Impact' },
  { href: '/changes', label: 'Changes' },
  { href: '/org', label: 'Organisation' },
  { href: '/scorecards', label: 'Scorecards' },
  { href: '/create', label: 'Create' },
];

export function NavLinks() {
  const pathname = usePathname();
  return (
    <nav className="nav" aria-label="Sections">
      {SECTIONS.map((s) => (
        <Link
          prefetch={false}
          key={s.href}
          href={s.href}
          aria-current={pathname.startsWith(s.href) ? 'page' : undefined}
        >
          {s.label}
        </Link>
      ))}
    </nav>
  );
}
