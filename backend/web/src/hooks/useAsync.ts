import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from '../api/errors';

export type Async<T> =
  | { status: 'loading' }
  | { status: 'error'; error: string; cause: unknown }
  | { status: 'ready'; data: T };

/** Run an async loader keyed by deps; ignores results that arrive after a newer load started. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): [Async<T>, () => void, (fn: (d: T) => T) => void] {
  const [state, setState] = useState<Async<T>>({ status: 'loading' });
  const generation = useRef(0);
  // The caller owns `deps` (as with useEffect): they are not literal here, so neither rule can check them.
  // eslint-disable-next-line react-hooks/exhaustive-deps, react-hooks/use-memo
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
      // Reading the ref at cleanup time is the point: bumping the current generation voids any load in flight.
      // eslint-disable-next-line react-hooks/exhaustive-deps
      generation.current++;
    };
  }, [run]);
  const update = useCallback((fn: (d: T) => T) => {
    setState((s) => (s.status === 'ready' ? { status: 'ready', data: fn(s.data) } : s));
  }, []);
  return [state, run, update];
}
