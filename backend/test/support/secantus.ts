import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';

/*
 * The tests talk to a real MongoDB-wire server. No MongoDB server can be installed on this project's machines,
 * so the stand-in is SecantusDB (a MongoDB-wire-compatible server on WiredTiger) from the repo's .venv,
 * started here on a free port. Set MONGODB_TEST_URI to use a real MongoDB instead.
 */

const backendDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function secantusPython(): string {
  return process.env.SECANTUS_PYTHON || path.resolve(backendDir, '..', '.venv', 'bin', 'python');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestMongo {
  uri: string;
  /** True when this is a SecantusDB process the tests started (so it can be stopped and restarted). */
  managed: boolean;
  stop(): Promise<void>;
  /** Starts the same server again on the same port and storage (simulates a MongoDB restart). */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

async function waitForPing(uri: string, child: ChildProcess | null, output: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new Error(`SecantusDB exited with ${child.exitCode} before answering: ${output().slice(-2000)}`);
    }
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (err) {
      lastError = err;
    } finally {
      await client.close().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`MongoDB-wire server at ${uri} did not answer a ping within ${timeoutMs} ms: ${String(lastError)}; ${output().slice(-2000)}`);
}

/** Starts SecantusDB (or uses MONGODB_TEST_URI) for one test file. */
export async function startTestMongo(): Promise<TestMongo> {
  const external = process.env.MONGODB_TEST_URI;
  if (external) {
    await waitForPing(external, null, () => '');
    const noop = async () => undefined;
    return { uri: external, managed: false, stop: noop, restart: noop, dispose: noop };
  }
  const python = secantusPython();
  const port = await freePort();
  const storage = await mkdtemp(path.join(os.tmpdir(), 'secantus-'));
  const uri = `mongodb://127.0.0.1:${port}/?directConnection=true`;
  let child: ChildProcess | null = null;
  let output = '';
  const launch = async () => {
    output = '';
    child = spawn(python, ['-m', 'secantus', '--port', String(port), '--storage-path', storage], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.on('error', (err) => {
      output += `\nspawn failed: ${err.message} (set SECANTUS_PYTHON to a Python with secantusdb installed)`;
    });
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    await waitForPing(uri, child, () => output);
  };
  const stop = async () => {
    const c = child as ChildProcess | null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  await launch();
  return {
    uri,
    managed: true,
    stop,
    restart: launch,
    async dispose() {
      await stop();
      await rm(storage, { recursive: true, force: true });
    },
  };
}
