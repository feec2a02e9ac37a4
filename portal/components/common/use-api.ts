'use client';
import { useEffect, useRef, useState } from 'react';
import { ApiError, fetchJson } from '../../lib/api.ts';

export interface ApiState<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
}

/**
 * Fetches `url` (null = nothing to fetch) from the portal's API, aborting when the url changes. `initial`:
 * the answer for the first `url` as the page read it on the server (portal/lib/server-api.ts), shown at once
 * and not fetched again.
 */
export function useApi<T>(url: string | null, initial?: { url: string; data: T }): ApiState<T> {
  const fromServer = initial !== undefined && initial.url === url;
  const [state, setState] = useState<ApiState<T>>(
    fromServer
      ? { data: initial.data, error: null, loading: false }
      : { data: null, error: null, loading: url !== null },
  );
  const skipFirst = useRef(fromServer);
  useEffect(() => {
    if (skipFirst.current) {
      skipFirst.current = false; // the server's answer for this url is already shown
      return;
    }
    if (url === null) {
      setState({ data: null, error: null, loading: false });
      return;
    }
    const ctrl = new AbortController();
    setState((s) => ({ data: s.data, error: null, loading: true }));
    fetchJson<T>(url, ctrl.signal)
      .then((data) => setState({ data, error: null, loading: false }))
      .catch((err: Error) => {
        if (err.name === 'AbortError') return;
        setState({
          data: null,
          error: err instanceof ApiError ? err : new ApiError(err.message, 0),
          loading: false,
        });
      });
    return () => ctrl.abort();
  }, [url]);
  return state;
}
