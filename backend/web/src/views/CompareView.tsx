import { useCallback, useMemo, useRef, useState } from 'react';
import { listVideos, streamUrl } from '../api/client';
import type { Analysis } from './useAnalysis';
import { PosePlayer, type PosePlayerHandle } from '../components/PosePlayer';
import { EmptyState, ErrorState, LoadingState } from '../components/States';
import { SummaryCards } from '../components/SummaryCards';
import { TimeSeriesChart, type ChartLine } from '../components/TimeSeriesChart';
import type { Metrics, SeriesKey } from '../api/types';
import { useAsync } from '../hooks';
import { hrefFor } from '../router';
import { useAnalysis } from './useAnalysis';

/** Reference time that matches the rider's playback progress (both clips start and end together). */
export function syncedTime(riderT: number, riderDuration: number, refDuration: number): number {
  if (!(riderDuration > 0) || !(refDuration > 0)) return 0;
  return Math.max(0, Math.min(refDuration, (riderT / riderDuration) * refDuration));
}

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

const pick = (m: Metrics, key: SeriesKey) => m.series.smoothed?.[key] ?? m.series[key] ?? [];
const lastT = (m: Metrics) => m.series.t[m.series.t.length - 1] ?? 0;

/** Both clips' series on the rider's time axis, the reference rescaled by progress. */
export function compareCharts(rider: Metrics, reference: Metrics): { title: string; unit: string; lines: ChartLine[] }[] {
  const k = lastT(reference) > 0 ? lastT(rider) / lastT(reference) : 1;
  const refT = reference.series.t.map((t) => t * k);
  const both = (key: SeriesKey): ChartLine[] => [
    { label: 'rider', color: '#38bdf8', values: pick(rider, key) },
    { label: 'reference', color: '#c4b5fd', values: pick(reference, key), t: refT },
  ];
  return [
    { title: 'Cumulative rotation', unit: '°', lines: both('cumulative_rotation') },
    { title: 'Left knee angle', unit: '°', lines: both('left_knee_angle') },
  ];
}

function ComparePlayers({ rider, reference }: { rider: Analysis; reference: Analysis }) {
  const riderRef = useRef<PosePlayerHandle>(null);
  const refRef = useRef<PosePlayerHandle>(null);
  const [showSkeleton, setShowSkeleton] = useState(true);
  const [cursor, setCursor] = useState(0);
  const charts = useMemo(() => (rider.metrics && reference.metrics ? compareCharts(rider.metrics, reference.metrics) : []), [rider.metrics, reference.metrics]);
  const seek = useCallback((t: number) => riderRef.current?.seek(t), []);

  const follow = useCallback((t: number) => {
    setCursor(t);
    const rv = riderRef.current?.video;
    const fv = refRef.current?.video;
    if (!rv || !fv || !Number.isFinite(rv.duration) || !Number.isFinite(fv.duration)) return;
    const target = syncedTime(t, rv.duration, fv.duration);
    // Match rates so the clips stay together between corrections; seek only on visible drift.
    fv.playbackRate = Math.max(0.0625, Math.min(16, rv.playbackRate * (fv.duration / rv.duration)));
    const tolerance = rv.paused ? 0.01 : 0.12;
    if (Math.abs(fv.currentTime - target) > tolerance) fv.currentTime = target;
  }, []);

  const onPlayState = useCallback((playing: boolean) => {
    const fv = refRef.current?.video;
    if (!fv) return;
    if (playing) void fv.play().catch(() => undefined);
    else fv.pause();
  }, []);

  return (
    <>
      <div className="compare-grid">
        <div>
          <Side a={rider} title="Rider" />
          <PosePlayer
            ref={riderRef}
            src={streamUrl(rider.video.id)}
            pose={rider.pose}
            label="Rider"
            onFrame={follow}
            onPlayState={onPlayState}
            showSkeleton={showSkeleton}
            onToggleSkeleton={setShowSkeleton}
          />
        </div>
        <div>
          <Side a={reference} title="Reference" />
          <PosePlayer ref={refRef} src={streamUrl(reference.video.id)} pose={reference.pose} label="Reference" showControls={false} showSkeleton={showSkeleton} />
          <p className="muted small">Follows the rider&rsquo;s controls, matched by progress through the clip.</p>
        </div>
      </div>
      {charts.length > 0 && rider.metrics && (
        <section className="charts" aria-label="Rider and reference over the clip">
          {charts.map((c) => (
            <TimeSeriesChart
              key={c.title}
              title={c.title}
              unit={c.unit}
              t={rider.metrics!.series.t}
              lines={c.lines}
              segments={rider.metrics!.summary.airborne_segments}
              cursor={cursor}
              onSeek={seek}
              keyStep={1 / (rider.pose?.fps || 30)}
            />
          ))}
        </section>
      )}
      <div className="compare-grid compare-summaries">
        {[
          ['Rider', rider],
          ['Reference', reference],
        ].map(([title, a]) => {
          const analysis = a as Analysis;
          return (
            <section key={title as string} aria-label={`${title} summary`}>
              <div className="small-title">{title as string}</div>
              {analysis.metrics ? <SummaryCards summary={analysis.metrics.summary} /> : <EmptyState title="No metrics" />}
            </section>
          );
        })}
      </div>
    </>
  );
}

function PickReference({ riderId }: { riderId: string }) {
  const [refs, reload] = useAsync(() => listVideos({ role: 'reference', status: 'done', limit: 100 }), []);
  if (refs.status === 'loading') return <LoadingState label="Loading reference videos…" />;
  if (refs.status === 'error') return <ErrorState message={refs.error} onRetry={reload} />;
  if (refs.data.items.length === 0) return <EmptyState title="No analysed reference videos">Upload a clip as “A reference” and wait for it to finish.</EmptyState>;
  return (
    <div className="panel">
      <h2 className="panel-title">Choose a reference</h2>
      <ul className="pick-list">
        {refs.data.items.map((r) => (
          <li key={r.id}>
            <a className="btn" href={hrefFor.compare(riderId, r.id)}>
              {r.title || r.originalName}
            </a>
          </li>
        ))}
      </ul>
    </div>
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
        <h1 className="view-title">Side by side</h1>
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
        rider.data.video.status !== 'done' || reference.data.video.status !== 'done' ? (
          <EmptyState title="Both videos must be analysed first">One of them is still {rider.data.video.status !== 'done' ? rider.data.video.status : reference.data.video.status}.</EmptyState>
        ) : (
          <ComparePlayers rider={rider.data} reference={reference.data} />
        )
      ) : null}
    </div>
  );
}
