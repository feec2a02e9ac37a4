/** The typed contract: what this service serves, and what it reads from each dependency. */

/** GET /v1/info: who this is, and how each dependency answered. */
export interface InfoResponse {
  service: string;
  version: string;
  dependencies: DependencyStatus[];
}

export interface DependencyStatus {
  name: string;
  ok: boolean;
  /** The dependency's own /v1/info answer, without its dependencies. */
  info?: Omit<InfoResponse, 'dependencies'>;
  /** The error code (terrors style, e.g. `timeout`) when the call failed. */
  error?: string;
}
