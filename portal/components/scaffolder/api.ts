/** The scaffolder API's shapes as the UI uses them, and a JSON POST that keeps the server's field problems. */

export interface SchemaProperty {
  title?: string;
  description?: string;
  type?: string;
  enum?: (string | number)[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  items?: { type?: string };
  'ui:field'?: string;
  'ui:widget'?: string;
  'ui:autofocus'?: boolean;
  'ui:options'?: { catalogFilter?: { kind?: string | string[] } };
}

/** A parameter page: a JSON Schema object with Backstage's `ui:*` keys inside (dependencies, oneOf, … too). */
export interface ParameterPage {
  title?: string;
  description?: string;
  required?: string[];
  properties: Record<string, SchemaProperty>;
  [keyword: string]: unknown;
}

export interface TemplateInfo {
  name: string;
  title: string;
  description: string;
  version: string;
  type: string;
  tags: string[];
  parameters: ParameterPage[];
  steps: { id: string; name: string; action: string }[];
}

export interface Problem {
  field: string;
  message: string;
  suggestions?: string[];
}

export interface DryRunResult {
  dir?: string;
  entityRef?: string;
  files: string[];
  preview?: { path: string; size: number; kind: string; content?: string; target?: string }[];
  manifests: { file: string; kind: string; name: string; errors: string[] }[];
  catalogDiff?: {
    added: { ref: string; kind: string; relations: { type: string; targetRef: string }[] }[];
    relationsAdded: { source: string; type: string; targetRef: string }[];
  };
  branch?: string;
  /** Other services' files changed with it (callees' ingress policies admitting the new caller). */
  modified?: { path: string; content: string }[];
  /** What the provider steps (publish:github, …) would send: method, URL, body; never a token. */
  requests?: { method: string; url: string; body?: unknown; note?: string }[];
  durationMs: number;
}

export class PostError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly problems: Problem[],
  ) {
    super(message);
  }
}

/** POST JSON to the portal's API (same origin, the session cookie goes along). */
export async function postJson<T>(url: string, body: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new PostError('The portal could not be reached. Check your connection and try again.', 0, []);
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    throw new PostError(`Unexpected answer (HTTP ${res.status})`, res.status, []);
  }
  if (!res.ok) {
    const e = (data as { error?: { message?: string; problems?: Problem[] } } | null)?.error;
    throw new PostError(
      e?.message ?? `HTTP ${res.status}`,
      res.status,
      Array.isArray(e?.problems) ? e.problems : [],
    );
  }
  return data as T;
}
