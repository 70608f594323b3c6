import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { getMetrics, listVideos, originalUrl, streamUrl } from '../api/client';
import { apiUrl } from '../config';
import type { Metrics, MetricsSummary, PoseResponse, SeriesKey, SummaryKey, Video } from '../api/types';
import { PosePlayer, type PosePlayerHandle } from '../components/PosePlayer';
import { RetryButton } from '../components/RetryButton';
import { ShareDialog } from '../components/ShareDialog';
import { EmptyState, ErrorState, LoadingState } from '../components/States';
import { StatusChip } from '../components/StatusChip';
import { SummaryCards } from '../components/SummaryCards';
import { TimeSeriesChart, type ChartLine } from '../components/TimeSeriesChart';
import { formatClock } from '../format';
import { useAsync } from '../hooks/useAsync';
import { frameRate } from '../pose/frameRate';
import { riderOf } from '../pose/skeleton';
import { hrefFor } from '../router';
import { mayChange, showsOwners } from '../session/access';
import { useSession } from '../session/SessionContext';
import { LiveAnalysis } from './LiveAnalysis';
import { useDrawings } from '../drawing/useDrawings';
import { useAnalysis } from './useAnalysis';
import { useFrameFollow } from './useFrameFollow';
import { usePoseWindow } from './usePoseWindow';

// Neither is needed for the first skeleton (issue 18/10): their code (three.js is most of the app's weight) is
// fetched once the player has drawn its first pose frame, after what the first paint needs.
const Skeleton3D = lazy(() => import('../components/Skeleton3D'));
const ExportMenu = lazy(() => import('../export/ExportMenu').then((m) => ({ default: m.ExportMenu })));
/** When the player draws no pose frame (no pose, an error), the deferred parts still come after this long. */
const DEFER_AT_MOST_MS = 2500;

/** True once the player has drawn its first pose frame (or DEFER_AT_MOST_MS passed): what may load after first paint. */
function useAfterFirstFrame() {
  const [after, setAfter] = useState(false);
  const seen = useRef(false);
  useEffect(() => {
    const id = window.setTimeout(() => setAfter(true), DEFER_AT_MOST_MS);
    return () => window.clearTimeout(id);
  }, []);
  const onFrameIdx = useCallback((idx: number) => {
    if (idx >= 0 && !seen.current) {
      seen.current = true;
      setAfter(true);
    }
  }, []);
  return [after, onFrameIdx] as const;
}

const pick = (m: Metrics, key: SeriesKey) => m.series.smoothed?.[key] ?? m.series[key] ?? [];

/** A chart of the analysis view: its curves, the unit on its ticks, and one line saying what it measures. */
export interface ChartSpec { title: string; unit: string; note: string; axisLabel: string; lines: ChartLine[]; emptyReason: string | null }

export function chartSpecs(m: Metrics): ChartSpec[] {
  // A chart with no values says which body part was missing (the summary value needing the same part says why).
  const why = (key: SummaryKey) => m.summary.unavailable?.[key] ?? null;
  return [
    {
      title: 'Knee angles',
      unit: '°',
      note: 'Hip–knee–ankle angle of each leg: 180° is straight, lower is more bent. Gaps: the leg was not seen.',
      axisLabel: 'degrees',
      emptyReason: why('min_knee_angle_deg'),
      lines: [
        { label: 'left', color: '#38bdf8', values: pick(m, 'left_knee_angle') },
        { label: 'right', color: '#f472b6', values: pick(m, 'right_knee_angle') },
      ],
    },
    {
      title: 'Upper-body rotation',
      unit: '°',
      note: 'How far the shoulders are turned against the hips (positive: counter-clockwise seen from above).',
      axisLabel: 'degrees',
      emptyReason: why('max_rotation_deg'),
      lines: [{ label: 'shoulders vs hips', color: '#a78bfa', values: pick(m, 'upper_body_rotation') }],
    },
    {
      title: 'Hip height',
      unit: '',
      note: 'Height of the hip centre above the ground line under the feet, in torso lengths (shoulder-to-hip distance; about 0.5 m for an adult) — a relative unit, not metres.',
      axisLabel: 'torso lengths',
      emptyReason: why('airtime_s'), // measured from the ground line under the feet, as airtime is
      lines: [{ label: 'hip centre', color: '#34d399', values: pick(m, 'hip_height') }],
    },
    {
      title: 'Cumulative rotation',
      unit: '°',
      note: 'Degrees the body has turned since the start of the clip (360° = one full spin).',
      axisLabel: 'degrees',
      emptyReason: why('max_rotation_deg'),
      lines: [{ label: 'total spin', color: '#fbbf24', values: pick(m, 'cumulative_rotation') }],
    },
  ];
}

export function VideoHeader({ video, children }: { video: Video; children?: React.ReactNode }) {
  return (
    <header className="view-head">
      <a className="back" href={hrefFor.home()}>
        ← Library
      </a>
      <div className="view-title-row">
        <h1 className="view-title">{video.title || video.originalName}</h1>
        <span className={`role-tag role-${video.role} static`}>{video.role === 'rider' ? 'Rider' : 'Reference'}</span>
        <StatusChip state={video.status} progress={video.job?.progress} />
      </div>
      <div className="muted small">
        {[
          video.durationS != null && formatClock(video.durationS),
          video.fps != null && `${Math.round(video.fps)} fps`,
          video.width != null && `${video.width}×${video.height}`,
          video.originalName,
        ]
          .filter(Boolean)
          .join(' · ')}
      </div>
      {children}
    </header>
  );
}

const CODEC_NAMES: Record<string, string> = {
  h264: 'H.264', hevc: 'HEVC (H.265)', vp9: 'VP9', vp8: 'VP8', av1: 'AV1', mpeg4: 'MPEG-4 Part 2', prores: 'ProRes',
};

/** The useful part of the probe: codec, display size, frame rate (constant or variable) and duration. */
export function VideoDetails({ video }: { video: Video }) {
  const p = video.probe;
  if (!p) return null;
  const fps = p.fps ?? video.fps;
  const rows: [string, string][] = [
    ['Codec', [p.codec ? (CODEC_NAMES[p.codec] ?? p.codec) : 'unknown', p.profile].filter(Boolean).join(' · ')],
    [
      'Size',
      [
        p.width && p.height ? `${p.width}×${p.height}` : 'unknown',
        p.rotation ? `rotated ${p.rotation}°` : null,
        p.mirrored ? 'mirrored' : null,
      ]
        .filter(Boolean)
        .join(' · '),
    ],
    ['Frame rate', fps ? `${fps.toFixed(fps % 1 ? 2 : 0)} fps${p.frameRateMode ? ` · ${p.frameRateMode === 'vfr' ? 'variable (VFR)' : 'constant (CFR)'}` : ''}` : 'unknown'],
    ['Duration', p.durationS != null ? formatClock(p.durationS) : 'unknown'],
  ];
  return (
    <section className="panel details-panel" aria-label="Video details">
      <dl className="video-details" data-testid="video-details">
        {rows.map(([k, v]) => (
          <div key={k} style={{ display: 'contents' }}>
            <dt>{k}</dt>
            <dd data-field={k.toLowerCase().replace(/ /g, '-')}>{v}</dd>
          </div>
        ))}
      </dl>
      <a className="btn btn-sm" href={originalUrl(video.id)} download>
        Download original
      </a>
    </section>
  );
}

/** Comparing is one step from here: one analysed reference is a single link, several a menu that opens the choice. */
function ReferencePicker({ riderId }: { riderId: string }) {
  const [refs] = useAsync(() => listVideos({ role: 'reference', status: 'done', limit: 100 }), []);
  if (refs.status !== 'ready' || refs.data.items.length === 0) {
    return refs.status === 'ready' ? <span className="muted small">Upload a reference video to compare against.</span> : null;
  }
  const items = refs.data.items;
  if (items.length === 1) {
    return (
      <a className="btn btn-sm" href={hrefFor.compare(riderId, items[0].id)} data-testid="compare-link">
        Compare with “{items[0].title || items[0].originalName}”
      </a>
    );
  }
  return (
    <label className="field field-inline">
      <span>Compare with</span>
      <select defaultValue="" onChange={(e) => e.target.value && (window.location.hash = hrefFor.compare(riderId, e.target.value))}>
        <option value="">choose a reference…</option>
        {items.map((r) => (
          <option key={r.id} value={r.id}>
            {r.title || r.originalName}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Where the player reads the clip and its scrub sprite; the share page passes its /api/shared/<token>/... URLs. */
export interface AnalysisMedia { stream: string; sprite: string | null }

/**
 * The charts' series: `given` when the caller has the whole metrics already (the share page), else read once `when`
 * is true (the player drew its first skeleton): a 2-minute clip's series are about 125 KB, and the video comes first.
 * Data null: not asked for yet, or in flight.
 */
function useSeries(videoId: string, given: Metrics | null, when: boolean) {
  const ask = !!given || when; // given: nothing to wait for (and no second load when `when` turns)
  return useAsync<Metrics | null>(async () => given ?? (ask ? getMetrics(videoId) : null), [videoId, given, ask]);
}

/**
 * `pose` null: the pose is read by time window as the player advances (usePoseWindow); the share page passes it whole.
 * `metrics` null: only the summary is here (`?series=0`); the series are read after the first skeleton (useSeries).
 */
export function Analysed({ video, pose: whole, summary, metrics: given, media }: { video: Video; pose: PoseResponse | null; summary: MetricsSummary; metrics: Metrics | null; media?: AnalysisMedia }) {
  const windowed = usePoseWindow(video, { enabled: !whole });
  const pose = whole ?? windowed.pose;
  const onTime = windowed.onTime;
  const player = useRef<PosePlayerHandle>(null);
  // The charts, the 3D pose and the frame line follow the player at most 15 times a second while it plays.
  const { cursor, frameIdx, report } = useFrameFollow();
  const [afterFirstFrame, firstFrameSeen] = useAfterFirstFrame();
  const [showSkeleton, setShowSkeleton] = useState(true);
  const [series, reloadSeries] = useSeries(video.id, given, afterFirstFrame);
  const metrics = series.status === 'ready' ? series.data : null;
  const specs = useMemo(() => (metrics ? chartSpecs(metrics) : []), [metrics]);
  const onFrame = useCallback((t: number, idx: number) => {
    onTime(t);
    report(t, idx);
    firstFrameSeen(idx);
  }, [onTime, report, firstFrameSeen]);
  const seek = useCallback((t: number) => player.current?.seek(t), []);
  const person = frameIdx >= 0 && pose ? riderOf(pose.frames[frameIdx], pose.riderTrackId) : null;
  const scores = useMemo(() => person?.keypoints.map((k) => k.score) ?? null, [person]);
  const fps = useMemo(() => frameRate(pose, video.fps), [pose, video.fps]);
  // Drawings are the owner's (a coach sees them read-only); a share link's page has none.
  const session = useSession();
  const drawing = useDrawings(media ? null : video.id, !!session && !mayChange(video.owner, session.session.user));

  return (
    <>
      <div className="analysis-grid">
        <div className="analysis-main">
          <PosePlayer
            ref={player}
            src={media?.stream ?? streamUrl(video.id)}
            pose={pose}
            isAnalysed={whole ? undefined : windowed.isLoaded}
            label={video.title || video.originalName}
            onFrame={onFrame}
            showSkeleton={showSkeleton}
            onToggleSkeleton={setShowSkeleton}
            displaySize={{ width: video.width, height: video.height }}
            jointScoreMin={summary.joint_score_min}
            drawing={media ? undefined : drawing}
            sprite={video.spriteLayout && (media ? media.sprite : video.spriteUrl) ? { url: media?.sprite ?? apiUrl(video.spriteUrl!), layout: video.spriteLayout } : null}
          />
          <div className="frame-info muted small" aria-live="off">
            Frame {frameIdx >= 0 ? (pose?.frames[frameIdx]?.index ?? '—') : '—'} · {cursor.toFixed(2)} s{!person && frameIdx >= 0 ? ' · rider not found in this frame' : ''}
          </div>
          {!media && pose && metrics && afterFirstFrame && (
            <Suspense fallback={null}>
              <ExportMenu video={video} pose={pose} metrics={metrics} player={player} />
            </Suspense>
          )}
        </div>
        <aside className="analysis-side">
          <div className="panel view3d-panel">
            <div className="panel-title small-title">3D pose · drag to orbit</div>
            {afterFirstFrame ? (
              <Suspense fallback={<LoadingState label="Loading 3D view…" />}>
                <Skeleton3D keypoints={person?.keypoints_3d ?? null} scores={scores} minScore={summary.joint_score_min} />
              </Suspense>
            ) : (
              <LoadingState label="Loading 3D view…" />
            )}
          </div>
          <SummaryCards summary={summary} />
        </aside>
      </div>
      <section className="charts" aria-label="Metrics over time" aria-busy={!metrics && series.status !== 'error'}>
        {series.status === 'error' ? (
          <ErrorState message={series.error} onRetry={reloadSeries} />
        ) : !metrics ? (
          <LoadingState label="Loading charts…" />
        ) : metrics.series.t.length === 0 ? (
          <EmptyState title="No metrics">The analysis produced no frames with a rider.</EmptyState>
        ) : (
          specs.map((s) => (
            <TimeSeriesChart
              key={s.title}
              title={s.title}
              unit={s.unit}
              note={s.note}
              axisLabel={s.axisLabel}
              emptyReason={s.emptyReason}
              t={metrics.series.t}
              lines={s.lines}
              segments={summary.airborne_segments}
              cursor={cursor}
              onSeek={seek}
              keyStep={1 / fps}
            />
          ))
        )}
      </section>
    </>
  );
}

export function AnalysisView({ id }: { id: string }) {
  const [state, reload] = useAnalysis(id, { withPose: false, summaryOnly: true });
  const session = useSession();
  if (state.status === 'loading') return <LoadingState label="Loading analysis…" />;
  if (state.status === 'error') {
    // An unknown or deleted video (or an API error) still leads back to the library.
    return (
      <div className="view analysis">
        <a className="back" href={hrefFor.home()}>
          ← Back to the library
        </a>
        <ErrorState message={state.error} onRetry={reload} />
      </div>
    );
  }
  const a = state.data!;
  const { video } = a;
  return (
    <div className="view analysis" data-testid="analysis-view">
      <VideoHeader video={video}>
        {video.role === 'rider' && video.status === 'done' && <ReferencePicker riderId={video.id} />}
        {session && showsOwners(session.session.user) && video.owner && (
          <div className="muted small" data-testid="video-owner">
            Owner: {video.owner.username}
            {!mayChange(video.owner, session.session.user) && ' · read-only'}
          </div>
        )}
        {session && video.status === 'done' && mayChange(video.owner, session.session.user) && <ShareDialog videoId={video.id} />}
      </VideoHeader>
      <VideoDetails video={video} />
      {video.status === 'done' && a.summary ? (
        <Analysed video={video} pose={null} summary={a.summary} metrics={a.metrics} />
      ) : video.status === 'failed' ? (
        <div className="failed-analysis">
          <ErrorState message={video.job?.error ?? 'The analysis failed.'} detail={video.job?.errorDetail} />
          {(!session || mayChange(video.owner, session.session.user)) && <RetryButton videoId={video.id} className="btn" onRetried={reload} />}
        </div>
      ) : (
        <LiveAnalysis video={video} />
      )}
    </div>
  );
}
