import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { secantusPython } from './secantus.js';

/*
 * The REAL pose worker (`python -m pose_service.worker`, backend/pose-service) as a child process: it claims the
 * tasks the API creates from the same MongoDB-wire server, reads the original from GridFS, runs MediaPipe on the
 * CPU and writes rendition, poster, sprite, pose frames and metrics back. No double: what the API serves in these
 * tests is what a worker made.
 */

const serviceDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'pose-service');

export interface PoseWorker {
  child: ChildProcess;
  output(): string;
  /** SIGTERM (a clean stop), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/** Worker settings for tests: short segments so a short clip is cut in several, quick polls and backoff. */
export const TEST_WORKER_ENV: Record<string, string> = {
  POSE_BACKEND: 'mediapipe',
  POSE_WARMUP: 'false',
  POSE_WORKER_POLL_S: '0.1',
  POSE_TASK_BACKOFF_S: '0.2',
  POSE_SEGMENT_MIN_S: '0.5',
  POSE_SEGMENT_MAX_S: '1',
};

export async function startPoseWorker(mongoUri: string, db: string, env: Record<string, string> = {}): Promise<PoseWorker> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'pose-worker-'));
  const child = spawn(secantusPython(), ['-m', 'pose_service.worker'], {
    cwd: serviceDir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmp,
      PYTHONPATH: serviceDir,
      MONGODB_URI: mongoUri,
      MONGODB_DB: db,
      POSE_TMP_DIR: tmp,
      ...TEST_WORKER_ENV,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(force);
      }
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

let personBytes: Buffer | null = null;

/**
 * A real person on camera (scikit-image's astronaut photo, which ships in the .venv) turning gently, 320×320,
 * 30 fps, `seconds` long, H.264: MediaPipe finds her in every frame. Made once per test process.
 */
export async function personClip(seconds = 5): Promise<Buffer> {
  if (personBytes) return personBytes;
  const { execFileSync } = await import('node:child_process');
  const { readFileSync, mkdtempSync, rmSync } = await import('node:fs');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'person-'));
  try {
    const png = path.join(dir, 'astronaut.png');
    execFileSync(secantusPython(), ['-c', `import cv2, skimage.data; cv2.imwrite(${JSON.stringify(png)}, cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR))`]);
    const out = path.join(dir, 'person.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-loop', '1', '-framerate', '30', '-t', String(seconds), '-i', png,
      '-vf', 'scale=320:320,rotate=0.08*sin(2*PI*t/3)', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', out]);
    personBytes = readFileSync(out);
    return personBytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
