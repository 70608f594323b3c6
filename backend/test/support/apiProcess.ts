import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * The API as its own process (`node --import tsx src/server.ts`), for tests that need a real crash (SIGKILL) at a
 * point a TEST_ONLY_* hook holds it.
 */

const backendDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ApiProcess {
  child: ChildProcess;
  /** Set once the API printed its port (null when started with `listening: false` and not there yet). */
  url: string | null;
  output: () => string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Waits for "listening on :port" and returns the base URL. */
  listening(timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
}

/** Starts the API with exactly `env` (plus PATH); by default waits until it listens. */
export async function spawnApi(env: Record<string, string>, opts: { listening?: boolean } = {}): Promise<ApiProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: backendDir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const waitFor = async (pattern: RegExp, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const m = pattern.exec(out);
      if (m) return m;
      if (child.exitCode !== null) throw new Error(`API exited with ${child.exitCode} before printing ${pattern}: ${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`API did not print ${pattern} within ${timeoutMs} ms: ${out.slice(-2000)}`);
  };
  const api: ApiProcess = {
    child,
    url: null,
    output: () => out,
    waitFor,
    async listening(timeoutMs) {
      api.url = `http://127.0.0.1:${(await waitFor(/listening on :(\d+)/, timeoutMs))[1]}`;
      return api.url;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
  if (opts.listening !== false) await api.listening();
  return api;
}
