import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A test double of the pose service's HTTP side, for the one thing the API still asks it: GET /ready (the API's
 * /health/ready reports it). Videos are analysed by the pose workers from MongoDB, not over HTTP; the whole-flow
 * tests run the real Python worker (support/poseWorker.ts). Readiness is switchable per test; the class keeps
 * its old name so the harness's users need not change.
 */
export class FakePoseService {
  ready = true;
  url = '';
  private server: http.Server | null = null;

  async start(port = 0): Promise<this> {
    this.server = http.createServer((req, res) => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/ready') {
        return this.ready ? send(200, { ready: true }) : send(503, { error: 'not_ready', detail: 'warming up' });
      }
      send(404, { error: 'not_found', detail: req.url ?? '' });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
