import { useEffect, useState } from 'react';
import { getVideo, streamUrl } from '../api/client';
import type { Video } from '../api/types';
import { JobProgress } from '../components/JobProgress';
import { PosePlayer } from '../components/PosePlayer';
import { LoadingState } from '../components/States';
import { apiUrl } from '../config';
import { usePartialPose } from './usePartialPose';

/**
 * The video as it was when its ingest finished (rendition, poster, size, fps), kept with the live job: the job's
 * events do not carry the video, so it is read again once when the job moves past the ingest stage.
 */
export function useIngestedVideo(video: Video): Video {
  const [ingested, setIngested] = useState<Video | null>(null);
  const stage = video.job?.stage;
  const pastIngest = (!!stage && stage !== 'ingest') || video.job?.partial === true;
  const needed = pastIngest && !video.renditionReady && !ingested?.renditionReady;
  useEffect(() => {
    if (!needed) return;
    let live = true;
    getVideo(video.id).then((v) => live && setIngested(v), () => undefined);
    return () => {
      live = false;
    };
  }, [needed, stage, video.id]);
  return ingested ? { ...ingested, status: video.status, job: video.job } : video;
}

/**
 * A running analysis (issue 14): its progress, then the video with the skeleton of the segments finished so far
 * (frames still being analysed show "analysing…" over the video). The poster stands in until the browser-safe
 * rendition exists; the charts and summary come with the finished analysis.
 */
export function LiveAnalysis({ video: given }: { video: Video }) {
  const video = useIngestedVideo(given);
  const job = video.job;
  const { pose, isAnalysed } = usePartialPose(video, job);
  const [showSkeleton, setShowSkeleton] = useState(true);
  const label = video.title || video.originalName;
  return (
    <div className="live-analysis" data-testid="live-analysis">
      <div className="panel pending">
        {job ? <JobProgress job={job} className="job-progress-wide" /> : <LoadingState label="Waiting for the analysis to start…" />}
        <p className="muted small">
          {video.renditionReady ? 'The skeleton appears part by part; the charts come when the analysis is done.' : 'This page updates by itself as the analysis goes on.'}
        </p>
      </div>
      {video.renditionReady ? (
        <div className="analysis-main live-player">
          <PosePlayer
            src={streamUrl(video.id)}
            pose={pose}
            label={label}
            showSkeleton={showSkeleton}
            onToggleSkeleton={setShowSkeleton}
            displaySize={{ width: video.width, height: video.height }}
            sprite={video.spriteUrl && video.spriteLayout ? { url: apiUrl(video.spriteUrl), layout: video.spriteLayout } : null}
            isAnalysed={isAnalysed}
          />
        </div>
      ) : (
        video.posterUrl && (
          <div className="live-poster">
            <img src={apiUrl(video.posterUrl)} alt={`Poster of ${label}`} data-testid="live-poster" />
          </div>
        )
      )}
    </div>
  );
}
