import { useEffect, useRef, useState, type RefObject } from 'react';
import { errorMessage } from '../api/errors';
import type { Metrics, PoseResponse, Video } from '../api/types';
import { apiUrl } from '../config';
import { getDrawings } from '../drawing/api';
import type { PosePlayerHandle } from '../components/PosePlayer';
import { frameRate } from '../pose/frameRate';
import { getExport, metricsCsvUrl, metricsJsonUrl, startMp4Export, type VideoExport } from './exportApi';
import { canvasToPng, composeStill, fileBase, saveBlob } from './still';
import './export.css';

const POLL_MS = 500;

interface Props {
  video: Video;
  pose: PoseResponse;
  metrics: Metrics;
  /** The analysis view's player: the still is taken from its video element, on the frame it shows. */
  player: RefObject<PosePlayerHandle | null>;
}

/** Export menu of the analysis view (issue 18, item 9): metrics CSV/JSON, the skeleton MP4, a still of this frame. */
export function ExportMenu({ video, pose, metrics, player }: Props) {
  const [mp4, setMp4] = useState<VideoExport | null>(null);
  const [mp4Error, setMp4Error] = useState<string | null>(null);
  const [still, setStill] = useState<string | null>(null);
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);

  // Follow a started MP4 until it is done or failed.
  const following = mp4 && (mp4.state === 'queued' || mp4.state === 'running') ? mp4.id : null;
  useEffect(() => {
    if (!following) return;
    const timer = setInterval(() => {
      getExport(video.id, following)
        .then((e) => alive.current && setMp4(e))
        .catch((err) => alive.current && setMp4Error(errorMessage(err)));
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [following, video.id]);

  const startMp4 = () => {
    setMp4Error(null);
    startMp4Export(video.id)
      .then((e) => alive.current && setMp4(e))
      .catch((err) => alive.current && setMp4Error(errorMessage(err)));
  };

  const saveStill = async () => {
    const el = player.current?.video;
    if (!el || el.readyState < 2 || !el.videoWidth) {
      setStill('The video has no frame to save yet.');
      return;
    }
    el.pause();
    setStill('Saving…');
    // The drawings as saved for this video (a share page or an API without drawings: the still has none).
    const drawings = await getDrawings(video.id).then((d) => d.drawings).catch(() => []);
    try {
      const made = composeStill({
        source: el, width: el.videoWidth, height: el.videoHeight, t: el.currentTime, pose, minScore: metrics.summary.joint_score_min, drawings,
      });
      const index = made.frameIndex >= 0 ? pose.frames[made.frameIndex].index : Math.round(el.currentTime * frameRate(pose, video.fps));
      saveBlob(await canvasToPng(made.canvas), `${fileBase(video.title, video.originalName, video.id)}-frame-${index}.png`);
      if (alive.current) setStill(`Saved frame ${index}${made.drawings ? ` with ${made.drawings} drawing${made.drawings > 1 ? 's' : ''}` : ''}.`);
    } catch (err) {
      if (alive.current) setStill(`The still could not be saved: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const pct = mp4 ? Math.round(mp4.progress * 100) : 0;
  return (
    <details className="export-menu" data-testid="export-menu">
      <summary className="btn btn-sm">Export</summary>
      <div className="export-panel" role="group" aria-label="Export">
        <div className="export-group">
          <span className="export-heading">Metrics</span>
          <a className="btn btn-sm" href={metricsCsvUrl(video.id)} download data-testid="export-csv">Per frame (CSV)</a>
          <a className="btn btn-sm" href={metricsCsvUrl(video.id, 'summary')} download data-testid="export-summary-csv">Summary (CSV)</a>
          <a className="btn btn-sm" href={metricsJsonUrl(video.id)} download data-testid="export-json">All (JSON)</a>
        </div>
        <div className="export-group">
          <span className="export-heading">Video with skeleton</span>
          {!mp4 || mp4.state === 'failed' ? (
            <button type="button" className="btn btn-sm" onClick={startMp4} data-testid="export-mp4">
              {mp4?.state === 'failed' ? 'Try again (MP4)' : 'Make MP4'}
            </button>
          ) : mp4.state === 'done' && mp4.fileUrl ? (
            <a className="btn btn-sm btn-primary" href={apiUrl(mp4.fileUrl)} download data-testid="export-mp4-download">
              Download MP4{mp4.size ? ` (${(mp4.size / 1e6).toFixed(1)} MB)` : ''}
            </a>
          ) : (
            <div className="export-progress" data-testid="export-mp4-progress" data-state={mp4.state}>
              <progress max={100} value={pct} aria-label="MP4 rendering progress" />
              <span className="small muted" aria-live="polite">
                {mp4.waiting === 'workers'
                  ? 'Waiting for an analysis worker…'
                  : mp4.state === 'queued'
                    ? 'Queued…'
                    : `Rendering ${mp4.framesDone}${mp4.framesTotal ? ` of ${mp4.framesTotal}` : ''} frames (${pct}%)`}
              </span>
            </div>
          )}
          {mp4?.state === 'failed' && <span className="small export-error" role="alert">{mp4.error}</span>}
          {mp4Error && <span className="small export-error" role="alert">{mp4Error}</span>}
        </div>
        <div className="export-group">
          <span className="export-heading">This frame</span>
          <button type="button" className="btn btn-sm" onClick={() => void saveStill()} data-testid="export-still">Still of this frame (PNG)</button>
          {still && <span className="small muted" aria-live="polite" data-testid="export-still-status">{still}</span>}
        </div>
      </div>
    </details>
  );
}
