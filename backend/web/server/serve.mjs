// Zero-dependency runtime server for the built app: static files from dist/ with an SPA fallback,
// a streaming /api proxy (SSE, Range and uploads pass through unbuffered) and /healthz.
// Env: PORT (5173), HOST (0.0.0.0), API_PROXY_TARGET (http://backend-api:3001), DIST_DIR (../dist).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.webm': 'video/webm',
  '.mp4': 'video/mp4',
  '.wasm': 'application/wasm',
};

// Hop-by-hop headers must not be forwarded by a proxy (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function forwardHeaders(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k.toLowerCase()) && v !== undefined) out[k] = v;
  return out;
}

function sendJson(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data), 'cache-control': 'no-store' });
  res.end(data);
}

function proxy(req, res, target) {
  const url = new URL(req.url, target);
  const lib = url.protocol === 'https:' ? https : http;
  const headers = forwardHeaders(req.headers);
  headers.host = url.host;
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  headers['x-forwarded-proto'] = 'http';
  const upstream = lib.request(url, { method: req.method, headers }, (up) => {
    const h = forwardHeaders(up.headers);
    // Keep event streams unbuffered by any proxy in front of this one.
    if (String(up.headers['content-type'] ?? '').startsWith('text/event-stream')) h['x-accel-buffering'] = 'no';
    res.writeHead(up.statusCode ?? 502, h);
    res.flushHeaders();
    up.pipe(res);
    up.on('error', () => res.destroy());
  });
  upstream.on('error', (err) => {
    if (!res.headersSent) sendJson(res, 502, { error: 'bad_gateway', detail: `The API at ${target} is not reachable (${err.code ?? err.message}).` });
    else res.destroy();
  });
  // A closed browser tab (or a closed EventSource) must close the upstream request too.
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}

async function serveStatic(req, res, distDir) {
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  } catch {
    return sendJson(res, 400, { error: 'bad_path', detail: 'The URL path is not valid.' });
  }
  const file = path.join(distDir, path.normalize(pathname));
  if (!file.startsWith(distDir)) return sendJson(res, 403, { error: 'forbidden', detail: 'Path outside the app.' });

  let target = file;
  let st = await stat(target).catch(() => null);
  if (st?.isDirectory()) {
    target = path.join(target, 'index.html');
    st = await stat(target).catch(() => null);
  }
  if (!st) {
    // SPA fallback for page routes; a missing asset (has an extension) is a real 404.
    if (path.extname(pathname)) return sendJson(res, 404, { error: 'not_found', detail: `No file ${pathname}.` });
    target = path.join(distDir, 'index.html');
    st = await stat(target).catch(() => null);
    if (!st) return sendJson(res, 503, { error: 'not_built', detail: 'dist/index.html is missing: run `npm run build` first.' });
  }
  const ext = path.extname(target).toLowerCase();
  const immutable = pathname.startsWith('/assets/');
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
    'content-length': st.size,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') return res.end();
  createReadStream(target).on('error', () => res.destroy()).pipe(res);
}

/** Build the server (not listening yet). */
export function createAppServer({ distDir = path.resolve(here, '../dist'), apiTarget = 'http://backend-api:3001' } = {}) {
  const root = path.resolve(distDir);
  return http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url === '/api' || url.startsWith('/api/')) return proxy(req, res, apiTarget);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method_not_allowed', detail: 'Static files are read-only.' });
    serveStatic(req, res, root).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal', detail: 'Could not read the file.' });
      else res.destroy();
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 5173);
  const host = process.env.HOST ?? '0.0.0.0';
  const apiTarget = process.env.API_PROXY_TARGET || 'http://backend-api:3001';
  const server = createAppServer({ distDir: process.env.DIST_DIR, apiTarget });
  server.listen(port, host, () => console.log(`web: serving ${process.env.DIST_DIR ?? 'dist'} on http://${host}:${port}, /api → ${apiTarget}`));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
