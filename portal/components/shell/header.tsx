import Link from 'next/link';
import { NavLinks } from './nav-links';
import { SearchBox } from './search-box';
import { ThemeToggle } from './theme-toggle';

/** The shell's header: brand, sections, global search and theme. Server component; the parts that react are leaves. */
export function Header() {
  return (
    <header className="header">
      <Link prefetch={false} href="/" className="brand" aria-label="Bank Portal home">
        <span className="brand-mark" aria-hidden="true">
          B
        </span>
        Bank Portal
      </Link>
      <NavLinks />
      <div className="header-spacer" />
      <SearchBox />
      <ThemeToggle />
    </header>
  );
}
