import { useCallback, useEffect, useRef, useState } from 'react';
import { deleteVideo } from '../api/client';
import { errorMessage } from '../api/errors';
import type { Video } from '../api/types';
import { UNDO_MS } from '../components/libraryText';

interface Pending {
  video: Video;
  timer: ReturnType<typeof setTimeout>;
  /** The undo time is over and the DELETE is on its way; the card stays hidden until it is answered. */
  sending?: boolean;
}

/**
 * Deletes that wait out their undo delay (UNDO_MS); sent when it ends, or at once (keepalive) when the page is left
 * or the hook's component unmounts (leaving the library for another view commits the deletes too). `onSent` and
 * `onFailed` are the latest given when the answer comes.
 */
export function usePendingDeletes(onSent: (id: string) => void, onFailed: (v: Video, message: string) => void) {
  const pending = useRef(new Map<string, Pending>());
  const [list, setList] = useState<{ video: Video; sending: boolean }[]>([]);
  const callbacks = useRef({ onSent, onFailed });
  callbacks.current = { onSent, onFailed };
  const sync = useCallback(() => setList([...pending.current.values()].map((p) => ({ video: p.video, sending: Boolean(p.sending) }))), []);
  const send = useCallback(
    (id: string, keepalive = false) => {
      const p = pending.current.get(id);
      if (!p || p.sending) return;
      clearTimeout(p.timer);
      p.sending = true;
      sync();
      const settle = () => {
        pending.current.delete(id);
        sync();
      };
      deleteVideo(id, { keepalive }).then(
        () => {
          callbacks.current.onSent(id);
          settle();
        },
        (e) => {
          settle();
          callbacks.current.onFailed(p.video, errorMessage(e));
        },
      );
    },
    [sync],
  );
  const flush = useCallback(() => [...pending.current.keys()].forEach((id) => send(id, true)), [send]);
  useEffect(() => {
    window.addEventListener('pagehide', flush);
    return () => {
      window.removeEventListener('pagehide', flush);
      flush();
    };
  }, [flush]);
  return {
    list,
    has: (id: string) => pending.current.has(id),
    request(video: Video) {
      pending.current.set(video.id, { video, timer: setTimeout(() => send(video.id), UNDO_MS) });
      sync();
    },
    undo(id: string) {
      const p = pending.current.get(id);
      if (!p || p.sending) return;
      clearTimeout(p.timer);
      pending.current.delete(id);
      sync();
    },
  };
}
