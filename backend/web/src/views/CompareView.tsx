import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { streamUrl } from '../api/client';
import type { Metrics, PoseResponse } from '../api/types';
import { eventFrame, eventTime, EVENT_WORDS, frameSeekTime, type SyncEvent } from '../compare/events';
import { drawGhost, GHOST_ALPHA, GHOST_COLOR, placeGhost } from '../compare/ghost';
import { clampToClip, describeOffset, offsetSeconds, referenceRate, referenceTime, riderTime, type SyncMapping } from '../compare/sync';
import '../compare/compare.css';
import { PosePlayer, type PosePlayerHandle } from '../components/PosePlayer';
import { EmptyState, ErrorState, LoadingState } from '../components/States';
import { frameRate } from '../pose/frameRate';
import { fitContain, frameAtTime, riderOf } from '../pose/skeleton';
import { hrefFor } from '../router';
import type { Analysis } from './useAnalysis';
import { useAnalysis } from './useAnalysis';
import { CompareResults } from './CompareResults';
import { PickReference } from './PickReference';

/** What the reference is lined up on: an event of both runs, a point the coach set, or the whole clip (progress). */
type SyncChoice = SyncEvent | 'manual' | 'progress';
type Mode = 'side' | 'ghost';

const SYNC_CHOICES: { value: SyncChoice; label: string }[] = [
  { value: 'takeoff', label: 'Take-off' },
  { value: 'landing', label: 'Landing' },
  { value: 'start', label: 'Start' },
  { value: 'progress', label: 'Whole clip' },
  { value: 'manual', label: 'My point' },
];
/** The fine offset buttons: one frame of the reference, or this many milliseconds. */
const MS_STEP = 10;

function Side({ a, title }: { a: Analysis; title: string }) {
  return (
    <div className="compare-side-head">
      <div className="small-title">{title}</div>
      <a className="compare-name" href={hrefFor.analysis(a.video.id)}>
        {a.video.title || a.video.originalName}
      </a>
    </div>
  );
}

/** One run's event: its time, the pose frame that shows it, and where to seek to show that frame; or why not. */
function runEvent(m: Metrics, pose: PoseResponse, event: SyncEvent) {
  const e = eventTime(m, event);
  if (e.t === null) return { ok: false as const, why: e.why };
  const i = eventFrame(pose.frames, e.t);
  if (i < 0) return { ok: false as const, why: 'no pose frames' };
  return { ok: true as const, t: e.t, frame: i, frameT: pose.frames[i].t, frameIndex: pose.frames[i].index };
}

const fpsOf = (a: Analysis) => frameRate(a.pose, a.video.fps);

function ComparePlayers({ rider, reference }: { rider: Analysis; reference: Analysis }) {
  const riderRef = useRef<PosePlayerHandle>(null);
  const refRef = useRef<PosePlayerHandle>(null);
  const ghostRef = useRef<HTMLCanvasElement>(null);
  const wrapRef = useRef<HTMLDivElement>(null);
  const [showSkeleton, setShowSkeleton] = useState(true);
  const [mode, setMode] = useState<Mode>('side');
  const [alignGhost, setAlignGhost] = useState(true);
  const [cursor, setCursor] = useState(0);
  const [refCursor, setRefCursor] = useState(0);
  const [outside, setOutside] = useState<'before' | 'after' | null>(null);
  const rm = rider.metrics!;
  const fm = reference.metrics!;
  const rp = rider.pose!;
  const fp = reference.pose!;
  const refFps = fpsOf(reference);

  const events = useMemo(() => {
    const of = (e: SyncEvent) => ({ rider: runEvent(rm, rp, e), reference: runEvent(fm, fp, e) });
    return { takeoff: of('takeoff'), landing: of('landing'), start: of('start') };
  }, [rm, rp, fm, fp]);
  const [choice, setChoice] = useState<SyncChoice>(() => (events.takeoff.rider.ok && events.takeoff.reference.ok ? 'takeoff' : 'start'));
  const [manual, setManual] = useState<{ rider: number; reference: number } | null>(null);
  const [offsetFrames, setOffsetFrames] = useState(0);
  const [offsetMs, setOffsetMs] = useState(0);
  const offsetS = offsetSeconds(offsetFrames, offsetMs, refFps);

  /** Why the chosen event cannot be used (the runs then stay lined up on their starts). */
  const unusable = choice === 'takeoff' || choice === 'landing'
    ? [events[choice].rider.ok ? null : `your run: ${events[choice].rider.why}`, events[choice].reference.ok ? null : `the reference: ${events[choice].reference.why}`].filter(Boolean).join('; ') || null
    : null;

  const riderDuration = rider.video.durationS ?? rm.series.t[rm.series.t.length - 1] ?? 0;
  const referenceDuration = reference.video.durationS ?? fm.series.t[fm.series.t.length - 1] ?? 0;
  const mapping = useMemo<SyncMapping>(() => {
    const offsetS = offsetSeconds(offsetFrames, offsetMs, refFps);
    if (choice === 'progress') return { kind: 'progress', riderDuration, referenceDuration, offsetS };
    if (choice === 'manual' && manual) return { kind: 'anchor', ...manual, offsetS };
    if (choice === 'takeoff' || choice === 'landing') {
      const e = events[choice];
      if (e.rider.ok && e.reference.ok) return { kind: 'anchor', rider: e.rider.frameT, reference: e.reference.frameT, offsetS };
    }
    return { kind: 'anchor', rider: 0, reference: 0, offsetS };
  }, [choice, manual, events, offsetFrames, offsetMs, refFps, riderDuration, referenceDuration]);
  const mapRef = useRef(mapping);
  mapRef.current = mapping;
  const ghostOpts = useRef({ mode, alignGhost, showSkeleton });
  ghostOpts.current = { mode, alignGhost, showSkeleton };

  /** Draw the reference skeleton over the rider's video at the reference time shown with rider time t. */
  const drawGhostAt = useCallback((riderT: number, riderIdx: number) => {
    const canvas = ghostRef.current;
    const video = riderRef.current?.video;
    const wrap = wrapRef.current;
    if (!canvas || !video || !wrap) return;
    const { mode: m, alignGhost: align, showSkeleton: on } = ghostOpts.current;
    const ctx = canvas.getContext('2d');
    if (m !== 'ghost' || !on) {
      ctx?.clearRect(0, 0, canvas.width, canvas.height);
      canvas.dataset.ghost = 'off';
      return;
    }
    // Cover exactly the rider's picture (the player's stage is not ours to change).
    const vr = video.getBoundingClientRect();
    const wr = wrap.getBoundingClientRect();
    const w = video.clientWidth;
    const h = video.clientHeight;
    Object.assign(canvas.style, { left: `${vr.left - wr.left}px`, top: `${vr.top - wr.top}px`, width: `${w}px`, height: `${h}px` });
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const refT = clampToClip(referenceTime(mapRef.current, riderT), fp.frames[fp.frames.length - 1]?.t ?? 0);
    const idx = refT.outside ? -1 : frameAtTime(fp.frames, refT.t);
    canvas.dataset.refFrameIndex = String(idx >= 0 ? fp.frames[idx].index : -1);
    const person = idx >= 0 ? riderOf(fp.frames[idx], fp.riderTrackId) : null;
    if (refT.outside || !person) {
      canvas.dataset.ghost = refT.outside ?? 'no-rider';
      return;
    }
    const riderPerson = riderIdx >= 0 ? riderOf(rp.frames[riderIdx], rp.riderTrackId) : null;
    const riderFit = fitContain(rp.width || video.videoWidth, rp.height || video.videoHeight, w, h);
    // A reference of unknown size (width null): as filmed means in the rider's frame (hips on hips needs no size).
    const refFit = fp.width && fp.height ? fitContain(fp.width, fp.height, w, h) : riderFit;
    const at = placeGhost(person.keypoints, refFit, riderPerson?.keypoints ?? null, riderFit, align, fm.summary.joint_score_min, rm.summary.joint_score_min);
    const counts = drawGhost(ctx, person.keypoints, at, Math.max(2, Math.min(5, riderFit.width / 160)), fm.summary.joint_score_min);
    canvas.dataset.ghost = at.aligned ? 'aligned' : 'as-filmed';
    canvas.dataset.joints = `seen:${counts.seen},unsure:${counts.unsure}`;
  }, [fp, rp, fm.summary.joint_score_min, rm.summary.joint_score_min]);

  /** Keep the reference on the time the mapping gives for rider time t (seeking only on visible drift). */
  const riderLast = useRef({ t: 0, idx: -1 });
  const follow = useCallback((t: number, idx: number) => {
    riderLast.current = { t, idx };
    setCursor(t);
    drawGhostAt(t, idx);
    const rv = riderRef.current?.video;
    const fv = refRef.current?.video;
    const paused = !rv || rv.paused;
    // Paused: the instant the rider's frame on screen starts, mapped to the reference, then the reference frame on
    // screen at that instant, sought a quarter into it (a frame boundary could be rounded to its neighbour).
    const target = referenceTime(mapRef.current, paused && idx >= 0 ? rp.frames[idx].t : t);
    const refDuration = fv && Number.isFinite(fv.duration) ? fv.duration : (fp.frames[fp.frames.length - 1]?.t ?? 0);
    const clamped = clampToClip(target, refDuration);
    const j = paused && !clamped.outside ? frameAtTime(fp.frames, clamped.t) : -1;
    if (j >= 0) clamped.t = Math.min(refDuration, frameSeekTime(fp.frames, j, refFps));
    setRefCursor(clamped.t);
    setOutside(clamped.outside);
    if (!rv || !fv) return;
    fv.playbackRate = referenceRate(mapRef.current, rv.playbackRate);
    if (paused || clamped.outside) {
      if (!fv.paused) fv.pause();
    } else if (fv.paused) void fv.play().catch(() => undefined);
    const tolerance = paused ? 0.001 : 0.12;
    if (Math.abs(fv.currentTime - clamped.t) > tolerance) fv.currentTime = clamped.t;
  }, [drawGhostAt, fp, rp, refFps]);

  // A new mapping (event, offset, point) or mode moves the reference at once, even while paused.
  useEffect(() => {
    if (riderRef.current?.video) follow(riderLast.current.t, riderLast.current.idx);
  }, [mapping, mode, alignGhost, showSkeleton, follow]);

  const onPlayState = useCallback((playing: boolean) => {
    const fv = refRef.current?.video;
    if (!fv) return;
    const rv = riderRef.current?.video;
    if (playing && !clampToClip(referenceTime(mapRef.current, rv?.currentTime ?? 0), fv.duration).outside) void fv.play().catch(() => undefined);
    else {
      fv.pause();
      // Paused: put the reference exactly on the frame that goes with the rider's frame on screen (the last one
      // the player drew; a paused video's currentTime can trail it), as playback allows some drift.
      follow(riderLast.current.t, riderLast.current.idx);
      // And once more when the dust settles: a frame presented just after the pause, or a late play() of the
      // reference, must not leave them a frame apart.
      window.setTimeout(() => riderRef.current?.video?.paused && follow(riderLast.current.t, riderLast.current.idx), 150);
    }
  }, [follow]);

  const seekRider = useCallback((t: number) => riderRef.current?.seek(t), []);
  const seekFromReference = useCallback((t: number) => riderRef.current?.seek(riderTime(mapRef.current, t)), []);

  /** Choosing an event lines the runs up on it and shows it: the rider's event frame, the reference's with it. */
  const choose = (c: SyncChoice) => {
    setChoice(c);
    if (c === 'manual') {
      // The point: the starts of the two frames on screen now (the coach lined them up, e.g. with the offset).
      const fv = refRef.current?.video;
      const j = fv ? frameAtTime(fp.frames, fv.currentTime) : -1;
      const i = riderLast.current.idx;
      if (fv) setManual({ rider: i >= 0 ? rp.frames[i].t : riderLast.current.t, reference: j >= 0 ? fp.frames[j].t : fv.currentTime });
      setOffsetFrames(0);
      setOffsetMs(0);
      return;
    }
    if (c === 'progress') return;
    const e = events[c];
    if (!e.rider.ok) return;
    riderRef.current?.video?.pause();
    // A quarter into the frame (of the faster of the two clips), so both land inside their event frames.
    const quarter = Math.min(frameSeekTime(rp.frames, e.rider.frame, fpsOf(rider)) - e.rider.frameT, 1 / (4 * refFps));
    riderRef.current?.seek(e.rider.frameT + quarter);
  };

  const nudge = (frames: number, ms: number) => {
    riderRef.current?.video?.pause();
    setOffsetFrames((f) => f + frames);
    setOffsetMs((m) => m + ms);
  };

  const status = (() => {
    const off = describeOffset(offsetFrames, offsetMs, refFps);
    if (choice === 'progress') return `Whole clip: both start and end together (the reference stretched to your length) · ${off}`;
    if (choice === 'manual' && manual) return `Synced on your point: you ${manual.rider.toFixed(2)} s ↔ reference ${manual.reference.toFixed(2)} s · ${off}`;
    if ((choice === 'takeoff' || choice === 'landing') && !unusable) {
      const e = events[choice];
      if (e.rider.ok && e.reference.ok) {
        return `Synced on ${EVENT_WORDS[choice]}: you ${e.rider.frameT.toFixed(2)} s (frame ${e.rider.frameIndex}) ↔ reference ${e.reference.frameT.toFixed(2)} s (frame ${e.reference.frameIndex}) · ${off}`;
      }
    }
    return `Synced on the start of both clips · ${off}`;
  })();

  return (
    <>
      <section className="panel compare-sync" aria-label="Sync and view">
        <div className="compare-sync-row">
          <div role="radiogroup" aria-label="Line the runs up on" className="seg">
            <span className="seg-label small">Sync on</span>
            {SYNC_CHOICES.map((c) => (
              <label key={c.value} className={`seg-item${choice === c.value ? ' is-on' : ''}`} title={c.value === 'manual' ? 'Pause both on the same moment (nudge the reference with the offset), then choose this' : undefined}>
                {/* Choosing the chosen event again shows it again (seeks both runs back to it). */}
                <input type="radio" name="sync" value={c.value} checked={choice === c.value} onChange={() => choose(c.value)} onClick={() => choice === c.value && choose(c.value)} />
                <span>{c.label}</span>
              </label>
            ))}
          </div>
          <div role="radiogroup" aria-label="View" className="seg">
            <span className="seg-label small">View</span>
            {(['side', 'ghost'] as const).map((m) => (
              <label key={m} className={`seg-item${mode === m ? ' is-on' : ''}`}>
                <input type="radio" name="mode" value={m} checked={mode === m} onChange={() => setMode(m)} />
                <span>{m === 'side' ? 'Side by side' : 'Ghost overlay'}</span>
              </label>
            ))}
          </div>
        </div>
        <div className="compare-sync-row" role="group" aria-label="Reference offset">
          <span className="seg-label small">Reference offset</span>
          <button type="button" className="btn btn-sm" onClick={() => nudge(-1, 0)} aria-label="−1 frame: reference one frame earlier">−1 frame</button>
          <button type="button" className="btn btn-sm" onClick={() => nudge(1, 0)} aria-label="+1 frame: reference one frame later">+1 frame</button>
          <button type="button" className="btn btn-sm" onClick={() => nudge(0, -MS_STEP)} aria-label={`−${MS_STEP} ms: reference ${MS_STEP} ms earlier`}>−{MS_STEP} ms</button>
          <button type="button" className="btn btn-sm" onClick={() => nudge(0, MS_STEP)} aria-label={`+${MS_STEP} ms: reference ${MS_STEP} ms later`}>+{MS_STEP} ms</button>
          <button type="button" className="btn btn-sm" onClick={() => { setOffsetFrames(0); setOffsetMs(0); }} disabled={offsetFrames === 0 && offsetMs === 0}>Reset</button>
          <span className="small" data-testid="offset" data-offset-ms={Math.round(offsetS * 1000)}>{describeOffset(offsetFrames, offsetMs, refFps)}</span>
        </div>
        <p className="small compare-status" data-testid="sync-status" aria-live="polite">{status}</p>
        {unusable && (
          <p className="small compare-warn" role="status">
            Cannot sync on {EVENT_WORDS[choice as SyncEvent]}: {unusable}. The runs stay lined up on their starts.
          </p>
        )}
      </section>

      <div className={`compare-grid${mode === 'ghost' ? ' is-ghost' : ''}`}>
        <div>
          <Side a={rider} title="You" />
          <div className="ghost-wrap" ref={wrapRef}>
            <PosePlayer
              ref={riderRef}
              src={streamUrl(rider.video.id)}
              pose={rp}
              label="Rider"
              onFrame={follow}
              onPlayState={onPlayState}
              showSkeleton={showSkeleton}
              onToggleSkeleton={setShowSkeleton}
              displaySize={{ width: rider.video.width, height: rider.video.height }}
              jointScoreMin={rm.summary.joint_score_min}
            />
            <canvas ref={ghostRef} className="ghost-canvas" aria-hidden="true" data-testid="ghost-canvas" hidden={mode !== 'ghost'} style={{ opacity: GHOST_ALPHA }} />
          </div>
          {mode === 'ghost' && (
            <p className="small ghost-legend">
              <span className="ghost-swatch" style={{ background: GHOST_COLOR }} aria-hidden="true" /> Reference ghost ({reference.video.title || reference.video.originalName}),{' '}
              {outside === 'before' ? 'not started yet at this point' : outside === 'after' ? 'already ended at this point' : 'at the synced time'}.{' '}
              <label className="toggle">
                <input type="checkbox" checked={alignGhost} onChange={(e) => setAlignGhost(e.target.checked)} />
                <span>Hips on your hips, scaled to your size</span>
              </label>
            </p>
          )}
        </div>
        <div className={mode === 'ghost' ? 'compare-ref-hidden' : undefined}>
          <Side a={reference} title="Reference" />
          <PosePlayer ref={refRef} src={streamUrl(reference.video.id)} pose={fp} label="Reference" showControls={false} showSkeleton={showSkeleton}
            displaySize={{ width: reference.video.width, height: reference.video.height }} jointScoreMin={fm.summary.joint_score_min} />
          <p className="muted small">
            Follows your controls{outside === 'before' ? ' · not started yet at this point' : outside === 'after' ? ' · already ended at this point' : ''}.
          </p>
        </div>
      </div>

      <CompareResults rider={rider} reference={reference} riderFps={fpsOf(rider)} referenceFps={refFps} riderCursor={cursor} referenceCursor={refCursor}
        onSeekRider={seekRider} onSeekReference={seekFromReference} />
    </>
  );
}

export function CompareView({ riderId, referenceId }: { riderId: string; referenceId: string | null }) {
  const [rider, reloadRider] = useAnalysis(riderId);
  const [reference, reloadRef] = useAnalysis(referenceId);
  return (
    <div className="view compare" data-testid="compare-view">
      <header className="view-head">
        <a className="back" href={hrefFor.analysis(riderId)}>
          ← Analysis
        </a>
        <h1 className="view-title">Compare with a reference</h1>
      </header>
      {rider.status === 'loading' || (referenceId && reference.status === 'loading') ? (
        <LoadingState label="Loading both videos…" />
      ) : rider.status === 'error' ? (
        <ErrorState message={rider.error} onRetry={reloadRider} />
      ) : reference.status === 'error' ? (
        <ErrorState message={reference.error} onRetry={reloadRef} />
      ) : !referenceId || reference.status !== 'ready' || !reference.data ? (
        <PickReference riderId={riderId} />
      ) : rider.status === 'ready' && rider.data ? (
        rider.data.video.status !== 'done' || reference.data.video.status !== 'done' || !rider.data.metrics || !rider.data.pose || !reference.data.metrics || !reference.data.pose ? (
          <EmptyState title="Both videos must be analysed first">One of them is still {rider.data.video.status !== 'done' ? rider.data.video.status : reference.data.video.status}.</EmptyState>
        ) : (
          <ComparePlayers rider={rider.data} reference={reference.data} />
        )
      ) : null}
    </div>
  );
}
