/*
 * What a rider reads when an analysis attempt fails: plain words saying what happened and what happens next.
 * The technical cause (`getaddrinfo ENOTFOUND pose-service`, a status code, a stack) goes to the job's
 * `errorDetail` and to the log, never into the sentence the rider reads first.
 */

/** Why an analysis attempt failed, as far as the rider is concerned. */
export type FailureKind =
  | 'unreachable' // the pose service is down, restarting or not resolvable
  | 'busy' // it answered 429/503 "overloaded"
  | 'timeout' // it did not answer in time
  | 'server_error' // it answered 5xx, or an answer we could not use
  | 'damaged_video' // it could not decode the file
  | 'too_large' // it refused the clip as too large or too long
  | 'file_missing' // the file is gone from the shared uploads folder
  | 'refused' // any other 4xx: the request was wrong, repeating cannot help
  | 'interrupted' // the worker running it stopped (heartbeat lost)
  | 'internal'; // anything else on our side (e.g. MongoDB while storing results)

/** An error that knows how to describe itself to a rider. */
export interface RiderFacing {
  kind: FailureKind;
}

export function isRiderFacing(err: unknown): err is Error & RiderFacing {
  return err instanceof Error && typeof (err as Partial<RiderFacing>).kind === 'string';
}

const RETRYING: Record<FailureKind, string> = {
  unreachable: 'The analysis service is restarting; your video will continue automatically.',
  busy: 'The analysis service is busy right now; your video will continue automatically.',
  timeout: 'The analysis is taking longer than expected; it will be tried again automatically.',
  server_error: 'The analysis service ran into a problem; your video will be tried again automatically.',
  damaged_video: 'This file could not be read; it will be tried once more automatically.',
  too_large: 'This clip is too long or too large to analyse; it will be tried once more automatically.',
  file_missing: 'The video file could not be found on the server; it will be tried again automatically.',
  refused: 'The analysis service refused this video; it will be tried again automatically.',
  interrupted: 'The analysis was interrupted because the server restarted; your video will continue automatically.',
  internal: 'Something went wrong on our side while saving the results; your video will continue automatically.',
};

const FINAL: Record<FailureKind, string> = {
  unreachable: 'The analysis service could not be reached, even after several tries. Please try again later.',
  busy: 'The analysis service stayed too busy to take this video. Please try again later.',
  timeout: 'The analysis took too long and was stopped. A shorter clip may work better.',
  server_error: 'The analysis failed on the server, even after several tries. Please try again later.',
  damaged_video: 'This file is damaged or is not a video we can read. Export it again from your phone or camera and upload it once more.',
  too_large: 'This clip is too long or too large to analyse. Trim it and upload it again.',
  file_missing: 'The video file is missing from the server. Please upload the clip again.',
  refused: 'The analysis service could not analyse this video. Please upload it again; the details below say what went wrong.',
  interrupted: 'The analysis was interrupted too many times. Please upload the clip again.',
  internal: 'Something went wrong on our side while saving the results. Please try again later.',
};

/** The rider's sentence for a failure of this kind, depending on whether another attempt will follow. */
export function riderMessage(kind: FailureKind, willRetry: boolean): string {
  return (willRetry ? RETRYING : FINAL)[kind];
}

/** The kind of failure behind a pose-service answer with an error status and, when it sent one, its error code. */
export function kindForPoseStatus(status: number, code: string | null): FailureKind {
  if (code === 'undecodable_video' || code === 'empty_video' || code === 'unsupported_media_type') return 'damaged_video';
  if (code === 'file_not_found' || code === 'missing_file') return 'file_missing';
  if (status === 413 || code === 'payload_too_large') return 'too_large';
  if (status === 429 || code === 'overloaded') return 'busy';
  if (status === 502 || status === 503 || status === 504) return 'unreachable';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'server_error';
  return 'refused';
}
