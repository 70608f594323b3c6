import { useCallback, useEffect, useRef, useState, type PointerEvent, type RefObject } from 'react';
import { IDENTITY_VIEW, panBy, stagePoint, zoomAt, type Point, type View } from '../player/geometry';

const boxOf = (stage: HTMLElement | null) => ({ w: stage?.clientWidth ?? 0, h: stage?.clientHeight ?? 0 });

/**
 * Zoom and pan of a player's picture (the stage). Buttons and keys zoom about the stage's centre; the wheel (and a
 * trackpad's pinch) at the pointer; on the picture, two pointers pinch-zoom and pan with their centre, one pans when
 * zoomed. `takeTap` tells the stage's click whether it was a tap (play or pause) rather than the end of a gesture.
 */
export function usePlayerZoom(stageRef: RefObject<HTMLElement | null>) {
  const [view, setView] = useState<View>(IDENTITY_VIEW);
  const viewRef = useRef(view);
  viewRef.current = view;

  const zoomBy = useCallback(
    (factor: number, at?: Point) => {
      const { w, h } = boxOf(stageRef.current);
      setView((v) => zoomAt(v, factor, at ?? { x: w / 2, y: h / 2 }, w, h));
    },
    [stageRef],
  );
  const reset = useCallback(() => setView(IDENTITY_VIEW), []);

  // Wheel (and a trackpad's pinch, which arrives as a wheel with ctrlKey) zooms at the pointer. Not passive: the
  // page must not scroll while the picture zooms.
  useEffect(() => {
    const stage = stageRef.current;
    if (!stage) return;
    const onWheel = (e: WheelEvent) => {
      if (e.deltaY === 0) return;
      e.preventDefault();
      const unit = e.deltaMode === 1 ? 16 : 1;
      zoomBy(Math.exp(-e.deltaY * unit * (e.ctrlKey ? 0.01 : 0.002)), stagePoint(stage, e));
    };
    stage.addEventListener('wheel', onWheel, { passive: false });
    return () => stage.removeEventListener('wheel', onWheel);
  }, [stageRef, zoomBy]);

  // Touch and mouse on the picture: two pointers pinch-zoom (and pan with their centre), one pans when zoomed; a tap
  // without movement plays or pauses (the click).
  const pointers = useRef(new Map<number, Point>());
  const gesture = useRef<{ moved: boolean; pinch: { dist: number; mid: Point; view: View } | null }>({ moved: false, pinch: null });
  const local = (e: PointerEvent) => stagePoint(stageRef.current!, e);
  const pinchOf = () => {
    const [p, q] = [...pointers.current.values()];
    return { dist: Math.hypot(p.x - q.x, p.y - q.y), mid: { x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 } };
  };
  const onPointerDown = (e: PointerEvent) => {
    if (e.button > 0) return;
    pointers.current.set(e.pointerId, local(e));
    if (pointers.current.size === 1) gesture.current = { moved: false, pinch: null };
    if (pointers.current.size === 2) {
      gesture.current.pinch = { ...pinchOf(), view: viewRef.current };
      gesture.current.moved = true;
    }
    if (pointers.current.size <= 2) e.currentTarget.setPointerCapture?.(e.pointerId);
  };
  const onPointerMove = (e: PointerEvent) => {
    const prev = pointers.current.get(e.pointerId);
    if (!prev) return;
    const now = local(e);
    pointers.current.set(e.pointerId, now);
    const { w, h } = boxOf(stageRef.current);
    const g = gesture.current;
    if (g.pinch && pointers.current.size >= 2) {
      const { dist, mid } = pinchOf();
      const zoomed = zoomAt(g.pinch.view, dist / Math.max(1, g.pinch.dist), g.pinch.mid, w, h);
      setView(panBy(zoomed, mid.x - g.pinch.mid.x, mid.y - g.pinch.mid.y, w, h));
    } else if (pointers.current.size === 1) {
      const dx = now.x - prev.x;
      const dy = now.y - prev.y;
      if (viewRef.current.zoom > 1 && (dx !== 0 || dy !== 0)) {
        setView((v) => panBy(v, dx, dy, w, h));
        // A tap wobbles by a pixel or two; a drag (a pan) is not a tap: it does not play or pause.
        if (Math.hypot(dx, dy) > 2) g.moved = true;
      }
    }
  };
  const onPointerEnd = (e: PointerEvent) => {
    pointers.current.delete(e.pointerId);
    if (pointers.current.size < 2) gesture.current.pinch = null;
  };
  /** For the stage's click: true when it ends a tap, false when it ends a pan or a pinch (and forgets that gesture). */
  const takeTap = () => {
    const tap = !gesture.current.moved;
    gesture.current.moved = false;
    return tap;
  };

  return {
    view,
    zoomed: view.zoom > 1.001,
    zoomBy,
    reset,
    takeTap,
    pointerHandlers: { onPointerDown, onPointerMove, onPointerUp: onPointerEnd, onPointerCancel: onPointerEnd },
  };
}
