import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { Header } from '../components/shell/header';
import { SessionBar } from '../components/shell/session-bar';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Bank Portal', template: '%s · Bank Portal' },
  description: "The bank's developer portal: every service, its owner, what it calls and what calls it.",
};

export const viewport: Viewport = {
  themeColor: [
    { media: '(prefers-color-scheme: light)', color: '#0b2a4a' },
    { media: '(prefers-color-scheme: dark)', color: '#0a1522' },
  ],
};

// Runs before paint so the saved (or system) theme applies without a flash. Static text, no user input.
const THEME_SCRIPT = `try{var t=localStorage.getItem('portal-theme');if(t!=='light'&&t!=='dark'){t=matchMedia('(prefers-color-scheme: dark)').matches?'dark':'light'}document.documentElement.dataset.theme=t}catch(e){}`;

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en-GB" suppressHydrationWarning>
      <head>
        {/* biome-ignore lint/security/noDangerouslySetInnerHtml: a constant string, see THEME_SCRIPT */}
        <script dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
      </head>
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <SessionBar />
        <Header />
        <main id="main" className="main" tabIndex={-1}>
          {children}
        </main>
      </body>
    </html>
  );
}
