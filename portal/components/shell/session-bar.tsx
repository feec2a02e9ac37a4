'use client';
import { useEffect, useState } from 'react';

interface Me {
  signedIn: boolean;
  actor: { kind: string; id: string } | null;
  devSignIn: boolean;
  signIn?: { dev: string | null; oidc: string | null };
}

/**
 * Above every page: a banner while the password-less development sign-in is on (anyone reaching this
 * portal may sign in as anyone), and who is signed in, with sign-out.
 */
export function SessionBar() {
  const [me, setMe] = useState<Me | null>(null);
  useEffect(() => {
    let live = true;
    fetch('/api/auth/me')
      .then((r) => (r.ok ? (r.json() as Promise<Me>) : null))
      .then((m) => {
        if (live) setMe(m);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  const oidc = me?.signIn?.oidc;
  if (!me || (!me.devSignIn && !me.signedIn && !oidc)) return null;
  const signOut = async () => {
    await fetch('/api/auth/sign-out', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    setMe({ ...me, signedIn: false, actor: null });
  };
  return (
    <div className={me.devSignIn ? 'session-bar dev' : 'session-bar'} role="status" data-testid="session-bar">
      {me.devSignIn && (
        <strong data-testid="dev-sign-in-banner">
          Development sign-in is on: anyone who can reach this portal can sign in as anyone, without a
          password. Not for shared use.
        </strong>
      )}
      {!me.signedIn && oidc && (
        <a
          className="session-who"
          data-testid="oidc-sign-in"
          href={`${oidc}?returnTo=${encodeURIComponent(window.location.pathname + window.location.search)}`}
        >
          Sign in
        </a>
      )}
      {me.signedIn && me.actor && (
        <span className="session-who" data-testid="signed-in-as">
          Signed in as {me.actor.id.replace(/^user:default\//, '')} · <a href="/audit">Audit log</a>{' '}
          <button type="button" className="link-btn" onClick={() => void signOut()}>
            Sign out
          </button>
        </span>
      )}
    </div>
  );
}
