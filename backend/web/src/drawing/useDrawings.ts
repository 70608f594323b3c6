import { useCallback, useEffect, useRef, useState } from 'react';
import { getDrawings, putDrawings } from './api';
import { DEFAULT_COLOR, type Drawing } from './model';

export type DrawingTool = 'select' | 'line' | 'angle';
export type SaveState = 'loading' | 'saved' | 'saving' | 'error';

/** A video's drawings and the tool in hand: what the player's drawing layer and tool bar share. */
export interface DrawingController {
  items: Drawing[];
  readOnly: boolean;
  tool: DrawingTool | null;
  setTool: (t: DrawingTool | null) => void;
  selectedId: string | null;
  select: (id: string | null) => void;
  color: string;
  add: (d: Drawing) => void;
  remove: (id: string) => void;
  /** Removes these drawings at once (the frame's "clear"). */
  removeMany: (ids: readonly string[]) => void;
  save: SaveState;
  error: string | null;
}

/**
 * Loads a video's drawings and saves every change (the whole set, PUT /api/videos/:id/drawings). Saves run one at a
 * time; a change made while one is in flight is sent when it returns, so the last change always wins.
 */
export function useDrawings(videoId: string | null, readOnly: boolean): DrawingController {
  const [items, setItems] = useState<Drawing[]>([]);
  const [tool, setToolState] = useState<DrawingTool | null>(null);
  const [selectedId, select] = useState<string | null>(null);
  const [save, setSave] = useState<SaveState>('loading');
  const [error, setError] = useState<string | null>(null);
  const pending = useRef<Drawing[] | null>(null);
  const inFlight = useRef(false);
  const loaded = useRef(false);

  useEffect(() => {
    let live = true;
    loaded.current = false;
    if (!videoId) return; // no drawings here (a share link's page: the API's drawings need a session)
    getDrawings(videoId).then(
      (set) => {
        if (!live) return;
        loaded.current = true;
        setItems(set.drawings);
        setSave('saved');
      },
      (e: unknown) => {
        if (!live) return;
        setSave('error');
        setError(`Drawings could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
    return () => {
      live = false;
    };
  }, [videoId]);

  const flush = useCallback(() => {
    const send = () => {
      if (inFlight.current || !pending.current || !videoId) return;
      const next = pending.current;
      pending.current = null;
      inFlight.current = true;
      setSave('saving');
      putDrawings(videoId, next).then(
        () => {
          inFlight.current = false;
          if (pending.current) send();
          else {
            setSave('saved');
            setError(null);
          }
        },
        (e: unknown) => {
          inFlight.current = false;
          setSave('error');
          setError(`Not saved: ${e instanceof Error ? e.message : String(e)}`);
        },
      );
    };
    send();
  }, [videoId]);

  const change = useCallback((f: (prev: Drawing[]) => Drawing[]) => {
    // Until the stored set has loaded, a save would overwrite it.
    if (readOnly || !loaded.current) return;
    setItems((prev) => {
      const next = f(prev);
      pending.current = next;
      queueMicrotask(flush);
      return next;
    });
  }, [flush, readOnly]);

  const add = useCallback((d: Drawing) => {
    change((prev) => [...prev, d]);
    select(d.id);
  }, [change]);
  const remove = useCallback((id: string) => {
    change((prev) => prev.filter((d) => d.id !== id));
    select((s) => (s === id ? null : s));
  }, [change]);
  const removeMany = useCallback((ids: readonly string[]) => {
    change((prev) => prev.filter((d) => !ids.includes(d.id)));
    select(null);
  }, [change]);
  const setTool = useCallback((t: DrawingTool | null) => {
    setToolState(readOnly ? null : t);
    if (t !== 'select') select(null);
  }, [readOnly]);

  return { items, readOnly, tool, setTool, selectedId, select, color: DEFAULT_COLOR, add, remove, removeMany, save, error };
}
