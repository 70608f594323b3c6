// Zero-dependency runtime server for the built app: static files from dist/ with an SPA fallback,
// a streaming /api proxy (SSE, Range and uploads pass through unbuffered) and /healthz. Text answers (JS, CSS,
// HTML, JSON, SVG) go out brotli- or gzip-compressed when the browser accepts it: built files compressed once and
// kept in memory, API JSON compressed as it streams through (unless the API already compressed it).
// Env: PORT (5173), HOST (0.0.0.0), API_PROXY_TARGET (http://backend-api:3001), DIST_DIR (../dist),
// ALLOWED_HOSTS (names the app answers to; default localhost,127.0.0.1,[::1],frontend),
// ALLOWED_ORIGINS (extra origins that may send state-changing /api requests; default none),
// TRUST_PROXY (proxies in front of this server whose X-Forwarded-For/-Proto count; default none).
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

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

/** Content types worth compressing: text and JSON shrink 3-10×; images, video and fonts are compressed already. */
export function compressible(contentType) {
  const type = String(contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'text/event-stream') return false; // events must reach the browser as they happen
  return type.startsWith('text/') || type === 'application/json' || type.endsWith('+json') || type === 'image/svg+xml'
    || type === 'application/javascript' || type === 'application/wasm';
}

/** The encoding to answer with for an Accept-Encoding header: 'br', else 'gzip', else null (q=0 refuses one). */
export function pickEncoding(acceptEncoding) {
  const q = new Map();
  for (const part of String(acceptEncoding ?? '').toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    if (!name) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    q.set(name, qp ? Number(qp.slice(2)) || 0 : 1);
  }
  const ok = (name) => (q.get(name) ?? q.get('*') ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip')) return 'gzip';
  return null;
}

/** Below this, compression saves less than its headers and time cost. */
const MIN_COMPRESS_BYTES = 1024;
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * Built files are compressed once, on first request, and kept. Brotli quality 7: the 350 KB main bundle in ~90 ms
 * to 98 KB; 11 would save 7 KB more but take 3 s (4.4 s for the 3D bundle) on this class of machine.
 */
function compressFile(buf, encoding) {
  if (encoding === 'br') {
    return brotli(buf, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 7, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length } });
  }
  return gzip(buf, { level: 9 });
}

/** API answers stream through a fast setting: a few ms per MB, most of the gain (JSON of numbers shrinks ~5×). */
function compressStream(encoding) {
  return encoding === 'br'
    ? zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT } })
    : zlib.createGzip({ level: 6 });
}

/** Add Accept-Encoding to a Vary header value (caches must keep one copy per encoding). */
function varyOn(vary) {
  const list = String(vary ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  if (!list.some((v) => v === '*' || v.toLowerCase() === 'accept-encoding')) list.push('Accept-Encoding');
  return list.join(', ');
}

// Hop-by-hop headers must not be forwarded by a proxy (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** @param {import('node:http').IncomingHttpHeaders} headers */
function forwardHeaders(headers) {
  /** @type {import('node:http').OutgoingHttpHeaders} */
  const out = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k.toLowerCase()) && v !== undefined) out[k] = v;
  return out;
}

/*
 * The app's own security headers. The built app needs only its own scripts, styles and API; the favicon is a
 * data: URL; thumbnails and posters come from /api (same origin). Inline <script>/<style> and eval stay off.
 * React's `style` props are CSSOM writes, which style-src does not govern.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

export const DEFAULT_ALLOWED_HOSTS = ['localhost', '127.0.0.1', '[::1]', 'frontend'];
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Lower-case host name of a Host header value ("[::1]:5173" → "[::1]"), or null if malformed. */
export function hostnameOf(host) {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/.exec(String(host ?? '').trim().toLowerCase());
  return m ? m[1].replace(/\.$/, '') : null;
}

/** "host[:port]" of an Origin as a Host header would carry it (default ports dropped), or null. */
function originAuthority(origin) {
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return u.host.toLowerCase();
  } catch {
    return null;
  }
}

/** Why a request must be refused (status, code, detail), or null: a Host we do not answer to, or a foreign write. */
export function refusalFor(req, { allowedHosts, allowedOrigins }) {
  const host = req.headers.host;
  const name = hostnameOf(host);
  if (!name || !allowedHosts.has(name)) {
    return [421, 'unknown_host', `Host ${JSON.stringify(String(host ?? '').slice(0, 100))} is not a name this app answers to; add it to ALLOWED_HOSTS if it should be.`];
  }
  if (!STATE_CHANGING.has(req.method)) return null;
  const origin = req.headers.origin;
  if (origin === undefined) {
    return req.headers['sec-fetch-site'] === 'cross-site' ? [403, 'foreign_origin', 'A cross-site request may not change anything here.'] : null;
  }
  if (allowedOrigins.has(origin.replace(/\/$/, '').toLowerCase())) return null;
  const authority = originAuthority(origin);
  if (authority !== null && authority === String(host).trim().toLowerCase().replace(/:(80|443)$/, '')) return null;
  return [403, 'foreign_origin', `Origin ${String(origin).slice(0, 100)} may not change anything here; use the app at its own address.`];
}

/*
 * Who the client is and which scheme it used, as this server passes them to the API (X-Forwarded-For, -Proto).
 * By default this server is the edge: the client is the socket's peer and the scheme the socket's own (http; https
 * only if a TLS server were handed this handler). Behind a TLS-terminating proxy, TRUST_PROXY names that proxy and
 * its X-Forwarded-Proto / X-Forwarded-For are believed, with Express's `trust proxy` semantics (proxy-addr): walk
 * X-Forwarded-For from the right while the hop is trusted; the first untrusted address is the client. A client's
 * own X-Forwarded-* headers are never passed on; the API gets one resolved address, so it needs to trust only this
 * server (its TRUST_PROXY default in compose). Zero-dependency: node:net's BlockList matches addresses and CIDRs.
 */

/** proxy-addr's named ranges, so TRUST_PROXY reads the same here as in the API. */
const NAMED_RANGES = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};
const MAX_HOPS = 10;

/** A dotted IPv4 netmask (255.255.0.0) as a prefix length, or null when its ones are not contiguous. */
function maskBits(mask) {
  const n = mask.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
  const bits = n.toString(2).padStart(32, '0');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : null;
}

/**
 * TRUST_PROXY → (address, hop index) => trusted. `none` or empty (default): nobody. A hop count 0-10: that many
 * hops nearest this server, whatever their address. Otherwise a comma-separated list of IP addresses, CIDRs
 * (10.1.0.0/16 or 10.1.0.0/255.255.0.0) and loopback/linklocal/uniquelocal. Throws an Error naming TRUST_PROXY.
 * @param {string | undefined} raw
 * @returns {(addr: string, i: number) => boolean}
 */
export function parseTrustProxy(raw) {
  const value = String(raw ?? '').trim().toLowerCase();
  const fail = (why) => new Error(`TRUST_PROXY=${JSON.stringify(raw)} is not valid: ${why}`);
  if (value === '' || value === 'none' || value === 'false') return () => false;
  if (value === 'true' || value === '*') throw fail('trusting every peer lets any client forge its address; name the proxies, or give a hop count');
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > MAX_HOPS) throw fail(`a hop count must be 0 to ${MAX_HOPS}`);
    return (_addr, i) => i < hops;
  }
  const list = new net.BlockList();
  for (const entry of value.split(',').map((e) => e.trim())) {
    if (!entry) throw fail('an entry is empty; give a comma-separated list like 10.1.2.3,192.168.0.0/16');
    for (const range of NAMED_RANGES[entry] ?? [entry]) {
      const [address, bits, extra] = range.split('/');
      const family = net.isIP(address);
      if (family === 0 || extra !== undefined) throw fail(`${JSON.stringify(entry)} is not an IP address or CIDR (host names are not resolved here: give the proxy's address)`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) {
        list.addAddress(address, type);
        continue;
      }
      const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : family === 4 && net.isIPv4(bits) ? maskBits(bits) : null;
      if (prefix === null || prefix > (family === 4 ? 32 : 128)) throw fail(`${JSON.stringify(entry)} has an invalid prefix length or netmask`);
      list.addSubnet(address, prefix, type);
    }
  }
  return (addr) => {
    const family = net.isIP(addr);
    return family !== 0 && list.check(addr, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/**
 * The client's address and scheme for the API: the socket's own unless its peer is trusted, then what the
 * trusted proxies say (the first X-Forwarded-Proto value, as Express reads it; http or https only).
 * @param {import('node:http').IncomingMessage} req
 * @param {(addr: string, i: number) => boolean} trust
 */
export function forwardedFor(req, trust) {
  const peer = req.socket.remoteAddress ?? '';
  const own = /** @type {{ encrypted?: boolean }} */ (req.socket).encrypted ? 'https' : 'http';
  if (!trust(peer, 0)) return { address: peer, proto: own };
  const xff = String(req.headers['x-forwarded-for'] ?? '').split(',').map((a) => a.trim()).filter(Boolean).reverse();
  const hops = [peer, ...xff];
  let address = peer;
  for (let i = 1; i < hops.length && trust(hops[i - 1], i - 1); i++) {
    if (net.isIP(hops[i]) === 0) break; // a garbled entry: the last trusted hop is all that is known
    address = hops[i];
  }
  const sent = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0].trim().toLowerCase();
  return { address, proto: sent === 'https' || sent === 'http' ? sent : own };
}

function sendJson(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data), 'cache-control': 'no-store' });
  res.end(data);
}

function proxy(req, res, target, trust) {
  const url = new URL(req.url, target);
  const lib = url.protocol === 'https:' ? https : http;
  const headers = forwardHeaders(req.headers);
  headers.host = url.host;
  // The browser's Host, already checked: the API compares the Origin of a write with it.
  headers['x-forwarded-host'] = req.headers.host;
  // Who the client is and whether it came over HTTPS (the session cookie's Secure flag), never as the client says.
  const client = forwardedFor(req, trust);
  headers['x-forwarded-for'] = client.address;
  headers['x-forwarded-proto'] = client.proto;
  const upstream = lib.request(url, { method: req.method, headers }, (up) => {
    const h = forwardHeaders(up.headers);
    // Keep event streams unbuffered by any proxy in front of this one.
    if (String(up.headers['content-type'] ?? '').startsWith('text/event-stream')) h['x-accel-buffering'] = 'no';
    // The API sets its own (stricter) headers; fill in only what an answer lacks.
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!(k in up.headers)) h[k] = v;
    // JSON the API sent plain is compressed on the way (a Range answer or an already encoded one passes as is).
    const encoding = req.method !== 'HEAD' && up.statusCode !== 206 && up.statusCode !== 204 && up.statusCode !== 304
      && !up.headers['content-encoding'] && !up.headers['content-range'] && compressible(up.headers['content-type'])
      && Number(up.headers['content-length'] ?? MIN_COMPRESS_BYTES) >= MIN_COMPRESS_BYTES ? pickEncoding(req.headers['accept-encoding']) : null;
    if (encoding) {
      delete h['content-length'];
      h['content-encoding'] = encoding;
      h.vary = varyOn(h.vary);
    }
    res.writeHead(up.statusCode ?? 502, h);
    res.flushHeaders();
    if (encoding) {
      const z = compressStream(encoding);
      z.on('error', () => res.destroy());
      up.pipe(z).pipe(res);
    } else {
      up.pipe(res);
    }
    up.on('error', () => res.destroy());
  });
  upstream.on('error', (/** @type {NodeJS.ErrnoException} */ err) => {
    if (!res.headersSent) sendJson(res, 502, { error: 'bad_gateway', detail: `The API at ${target} is not reachable (${err.code ?? err.message}).` });
    else res.destroy();
  });
  // A closed browser tab (or a closed EventSource) must close the upstream request too.
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}

/** Compressed built files by path, size, mtime and encoding (dist/ is small: a few hundred KB compressed). */
const compressedFiles = new Map();
const MAX_COMPRESSED_FILES = 256;

async function compressedBody(file, st, encoding) {
  const key = `${file}\0${st.size}\0${st.mtimeMs}\0${encoding}`;
  let body = compressedFiles.get(key);
  if (!body) {
    if (compressedFiles.size >= MAX_COMPRESSED_FILES) compressedFiles.clear();
    body = readFile(file).then((buf) => compressFile(buf, encoding));
    body.catch(() => compressedFiles.delete(key));
    compressedFiles.set(key, body);
  }
  return body;
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
  const type = CONTENT_TYPES[ext] ?? 'application/octet-stream';
  const headers = {
    'content-type': type,
    'content-length': st.size,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  };
  const encoding = compressible(type) && st.size >= MIN_COMPRESS_BYTES ? pickEncoding(req.headers['accept-encoding']) : null;
  if (compressible(type)) headers.vary = 'Accept-Encoding';
  if (encoding) {
    const body = await compressedBody(target, st, encoding);
    res.writeHead(200, { ...headers, 'content-length': body.length, 'content-encoding': encoding });
    return res.end(req.method === 'HEAD' ? undefined : body);
  }
  res.writeHead(200, headers);
  if (req.method === 'HEAD') return res.end();
  createReadStream(target).on('error', () => res.destroy()).pipe(res);
}

/** Build the server (not listening yet). */
export function createAppServer({
  distDir = path.resolve(here, '../dist'),
  apiTarget = 'http://backend-api:3001',
  allowedHosts = DEFAULT_ALLOWED_HOSTS,
  allowedOrigins = [],
  trustProxy = '',
} = {}) {
  const root = path.resolve(distDir);
  const trust = parseTrustProxy(trustProxy);
  const guard = {
    allowedHosts: new Set(allowedHosts.map((h) => h.toLowerCase())),
    allowedOrigins: new Set(allowedOrigins.map((o) => o.replace(/\/$/, '').toLowerCase())),
  };
  return http.createServer((req, res) => {
    const url = req.url ?? '/';
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    const refusal = refusalFor(req, guard);
    if (refusal) {
      const [status, error, detail] = refusal;
      res.setHeader('connection', 'close');
      return sendJson(res, status, { error, detail });
    }
    if (url === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url === '/api' || url.startsWith('/api/')) return proxy(req, res, apiTarget, trust);
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
  const list = (name) => process.env[name]?.split(',').map((s) => s.trim()).filter(Boolean);
  let server;
  try {
    server = createAppServer({
      distDir: process.env.DIST_DIR,
      apiTarget,
      allowedHosts: list('ALLOWED_HOSTS') ?? DEFAULT_ALLOWED_HOSTS,
      allowedOrigins: list('ALLOWED_ORIGINS') ?? [],
      trustProxy: process.env.TRUST_PROXY ?? '',
    });
  } catch (err) {
    console.error(`web: configuration error: ${err.message}`);
    process.exit(2);
  }
  server.listen(port, host, () => console.log(`web: serving ${process.env.DIST_DIR ?? 'dist'} on http://${host}:${port}, /api → ${apiTarget}`));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
