// The frame rate the player steps by, matches drawings to frames with and numbers saved stills by. The pose answer's
// `fps` is null when the probe could not tell it (docs/schemas/api-pose.schema.json): the analysed frames' own times
// say it then, rather than a guessed 30.
import { frameStep } from './partial';

/**
 * Frames per second: the pose answer's fps, else the video's, when known; else measured from the frame times (their
 * median step, so a variable-frame-rate stutter or a gap between time windows does not count); 30 before two frames.
 */
export function frameRate(pose: { fps: number | null; frames: readonly { t: number }[] } | null, videoFps?: number | null): number {
  const known = pose?.fps ?? videoFps;
  if (known && known > 0) return known;
  return 1 / frameStep(pose?.frames ?? [], null);
}
