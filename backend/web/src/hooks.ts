import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from './api/errors';

export type Async<T> =
  | { status: 'loading' }
  | { status: 'error'; error: string; cause: unknown }
  | { status: 'ready'; data: T };

/** Run an async loader keyed by deps; ignores results that arrive after a newer load started. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): [Async<T>, () => void, (fn: (d: T) => T) => void] {
  const [state, setState] = useState<Async<T>>({ status: 'loading' });
  const generation = useRef(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const loader = useCallback(load, deps);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState({ status: 'loading' });
    loader().then(
      (data) => mine === generation.current && setState({ status: 'ready', data }),
      (cause) => mine === generation.current && setState({ status: 'error', error: errorMessage(cause), cause }),
    );
  }, [loader]);
  useEffect(() => {
    run();
    return () => {
      generation.current++;
    };
  }, [run]);
  const update = useCallback((fn: (d: T) => T) => {
    setState((s) => (s.status === 'ready' ? { status: 'ready', data: fn(s.data) } : s));
  }, []);
  return [state, run, update];
}
