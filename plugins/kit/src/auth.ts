import type { Context } from 'hono';

/** Who made a write: a person (signed in) or a machine (bearer token). Recorded in the audit log. */
export interface Actor {
  kind: 'user' | 'token';
  /** `user:default/jane.doe` or `token:<name>`. */
  id: string;
}

/** What plugins need of the portal's authentication: reads are open on loopback, writes need an actor. */
export interface Auth {
  /** The caller, or an AuthenticationError (401) saying how to authenticate. */
  requireWriter(c: Context): Promise<Actor>;
  /** The caller if authenticated, else undefined. */
  actor(c: Context): Promise<Actor | undefined>;
}

// readJson lives in body.ts (one streaming body limit for every reader); re-exported from the package.
