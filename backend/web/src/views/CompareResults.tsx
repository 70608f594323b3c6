import { useMemo } from 'react';
import { differences } from '../compare/differences';
import { EmptyState } from '../components/States';
import { SummaryCards } from '../components/SummaryCards';
import { TimeSeriesChart } from '../components/TimeSeriesChart';
import { chartSpecs } from './AnalysisView';
import type { Analysis } from './useAnalysis';

interface Props {
  /** The two runs, both analysed (with metrics). */
  rider: Analysis;
  reference: Analysis;
  /** Each run's frame rate: a chart's arrow keys step one frame of its run. */
  riderFps: number;
  referenceFps: number;
  /** Each chart's playhead: the time of its run on screen. */
  riderCursor: number;
  referenceCursor: number;
  /** A click on a chart seeks the rider's video (a reference time through the sync mapping). */
  onSeekRider: (t: number) => void;
  onSeekReference: (t: number) => void;
}

/** Under the compare players: how the runs differ (words and numbers), their charts side by side, their summaries. */
export function CompareResults({ rider, reference, riderFps, referenceFps, riderCursor, referenceCursor, onSeekRider, onSeekReference }: Props) {
  const rm = rider.metrics!;
  const fm = reference.metrics!;
  const specsRider = useMemo(() => chartSpecs(rm), [rm]);
  const specsRef = useMemo(() => chartSpecs(fm), [fm]);
  const diffs = useMemo(() => differences(rm, fm), [rm, fm]);
  return (
    <>
      <section className="panel compare-diffs" aria-labelledby="diffs-title" data-testid="differences">
        <h2 className="panel-title" id="diffs-title">How your run differs from the reference</h2>
        <p className="muted small">Knee flex is 180° minus the knee angle (more flex, more bend). Take-off and landing values are read at each run&rsquo;s own take-off and landing.</p>
        <ul className="diff-list">
          {diffs.map((d) => (
            <li key={d.key} data-key={d.key} data-diff={d.diff === null ? '' : d.diff.toFixed(2)} className={d.unavailable ? 'is-unavailable' : undefined}>
              <span className="diff-label">{d.label}</span>
              <span className="diff-text">{d.text}</span>
            </li>
          ))}
        </ul>
      </section>

      <section className="compare-charts" aria-label="Your run and the reference over time">
        <div className="compare-charts-head" aria-hidden="true">
          <div className="small-title">You</div>
          <div className="small-title">Reference</div>
        </div>
        {specsRider.map((s, i) => {
          const f = specsRef[i];
          return (
            <div className="compare-chart-row" key={s.title}>
              <TimeSeriesChart title={`${s.title} · you`} unit={s.unit} note={s.note} axisLabel={s.axisLabel} emptyReason={s.emptyReason} t={rm.series.t}
                lines={s.lines} segments={rm.summary.airborne_segments} cursor={riderCursor} onSeek={onSeekRider} keyStep={1 / riderFps} />
              <TimeSeriesChart title={`${f.title} · reference`} unit={f.unit} note={f.note} axisLabel={f.axisLabel} emptyReason={f.emptyReason} t={fm.series.t}
                lines={f.lines} segments={fm.summary.airborne_segments} cursor={referenceCursor} onSeek={onSeekReference} keyStep={1 / referenceFps} />
            </div>
          );
        })}
      </section>

      <div className="compare-grid compare-summaries">
        {[
          ['You', rider],
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
