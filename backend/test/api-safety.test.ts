import assert from 'node:assert/strict';
import http from 'node:http';
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config.js';
import { formatLogLine, MAX_LOG_FIELD } from '../src/log.js';
import { foreignOriginReason, hostnameOf } from '../src/requestGuards.js';
import { cleanDisplayText } from '../src/text.js';
import { minimalMp4 } from './support/fixtures.js';
import { startHarness, type Harness } from './support/harness.js';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: () => Record<string, unknown>;
}

/** The current harness's signed-in admin (cookie + CSRF token), sent with every raw request unless overridden. */
let signedIn: Record<string, string> = {};

/** A plain HTTP request with exactly the headers given, plus the session's (supertest would set Host itself). */
function raw(port: number, method: string, path: string, extra: Record<string, string> = {}, body?: Buffer | string): Promise<RawResponse> {
  const headers = { ...signedIn, ...extra };
  return new Promise((resolve, reject) => {
    // agent: false: a socket the server closed mid-body is never reused, and its late write errors stay here.
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, setHost: !('Host' in headers), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.on('socket', (socket) => socket.on('error', () => undefined));
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** A multipart/form-data body written byte by byte, the file name as raw UTF-8 the way browsers send it. */
function multipart(fields: Record<string, string>, file: { name: string; bytes: Buffer }) {
  const boundary = '----snowboardingTestBoundary7MA4YWxkTrZu0gW';
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`, 'utf8'));
  }
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="video"; filename="${file.name}"\r\nContent-Type: video/mp4\r\n\r\n`, 'utf8'));
  parts.push(file.bytes, Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8'));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

describe('API safety', () => {
  let h: Harness;
  let port: number;
  before(async () => {
    h = await startHarness();
    signedIn = h.session.headers;
    port = h.api.port;
  });
  after(async () => {
    await h?.close();
  });

  describe('file names and titles', () => {
    it('stores a UTF-8 file name exactly as the browser sent it', async () => {
      const name = 'Überflug ❄️ 滑雪.mp4';
      const form = multipart({ role: 'rider' }, { name, bytes: minimalMp4(21) });
      const res = await raw(port, 'POST', '/api/videos', { 'Content-Type': form.contentType }, form.body);
      assert.equal(res.status, 202, res.body);
      const video = await raw(port, 'GET', `/api/videos/${res.json().videoId}`);
      assert.equal(video.json().originalName, name);
    });

    it('removes bidi overrides and control characters from the name and the title', async () => {
      // "clip\u202Egpj.mp4" would display as "clip4pm.jpg"; the isolates and marks are just as invisible.
      const form = multipart(
        { role: 'rider', title: 'Run\u2066 1\u2069 \u200Fbackside\u0007 ❄️' },
        { name: 'clip\u202Egpj\u202C\u200E.mp4', bytes: minimalMp4(22) },
      );
      const res = await raw(port, 'POST', '/api/videos', { 'Content-Type': form.contentType }, form.body);
      assert.equal(res.status, 202, res.body);
      const video = (await raw(port, 'GET', `/api/videos/${res.json().videoId}`)).json();
      assert.equal(video.originalName, 'clipgpj.mp4');
      assert.equal(video.title, 'Run 1 backside ❄️');
    });

    it('cuts long names by characters, never inside an emoji', () => {
      assert.equal(cleanDisplayText('❄️'.repeat(200), 3), '❄️❄');
      assert.equal(cleanDisplayText('\u202E\u2067 \u0000', 10), '');
      // Zero-width joiners hold emoji sequences together and stay.
      assert.equal(cleanDisplayText('🏂\u200D🔥', 10), '🏂\u200D🔥');
    });
  });

  describe('security headers', () => {
    for (const [method, path] of [['GET', '/health'], ['GET', '/api/videos'], ['GET', '/api/nowhere'], ['POST', '/api/videos']] as const) {
      it(`sets them on ${method} ${path}`, async () => {
        const res = await raw(port, method, path);
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
        assert.equal(res.headers['x-frame-options'], 'DENY');
        assert.equal(res.headers['referrer-policy'], 'no-referrer');
        assert.match(String(res.headers['content-security-policy']), /default-src 'none'.*frame-ancestors 'none'/);
        assert.equal(res.headers['access-control-allow-origin'], undefined, 'no CORS');
      });
    }
  });

  describe('Host allow-list (DNS rebinding)', () => {
    it('answers the loopback names and the compose service names', async () => {
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'backend-api:3001', 'LOCALHOST']) {
        assert.equal((await raw(port, 'GET', '/api/videos', { Host: host })).status, 200, host);
      }
    });

    it('refuses any other Host, or a forwarded host that is not allowed, with 421 JSON', async () => {
      const cases: Record<string, string>[] = [{ Host: 'evil.example' }, { Host: `rebind.attacker.test:${port}` }, { Host: `127.0.0.1:${port}`, 'X-Forwarded-Host': 'evil.example' }];
      for (const headers of cases) {
        const res = await raw(port, 'GET', '/api/videos', headers);
        assert.equal(res.status, 421, JSON.stringify(headers));
        assert.equal(res.json().error, 'unknown_host');
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
      }
      const del = await raw(port, 'DELETE', `/api/videos/${'a'.repeat(24)}`, { Host: 'evil.example' });
      assert.equal(del.status, 421);
    });

    it('takes its list from ALLOWED_HOSTS and refuses a malformed one at start-up', () => {
      const env = { MONGODB_URI: 'mongodb://x/db', POSE_SERVICE_URL: 'http://p:5000' };
      assert.deepEqual(loadConfig({ ...env, ALLOWED_HOSTS: 'Snow.local, 10.0.0.5' }).allowedHosts, ['snow.local', '10.0.0.5']);
      assert.throws(() => loadConfig({ ...env, ALLOWED_HOSTS: 'http://snow.local' }), /ALLOWED_HOSTS/);
      assert.equal(hostnameOf('[::1]:3001'), '[::1]');
      assert.equal(hostnameOf('a b'), null);
    });
  });

  describe('foreign Origin on state-changing requests', () => {
    it('refuses an upload posted by another site with 403 JSON and stores nothing', async () => {
      const before = await h.api.db.collections.videos.countDocuments({});
      const form = multipart({ role: 'rider' }, { name: 'x.mp4', bytes: minimalMp4(23) });
      for (const origin of ['http://evil.example', `http://localhost:${port + 1}`, 'null']) {
        const res = await raw(port, 'POST', '/api/videos', { 'Content-Type': form.contentType, Origin: origin }, form.body);
        assert.equal(res.status, 403, origin);
        assert.equal(res.json().error, 'foreign_origin');
      }
      const noOrigin = await raw(port, 'POST', '/api/videos', { 'Content-Type': form.contentType, 'Sec-Fetch-Site': 'cross-site' }, form.body);
      assert.equal(noOrigin.status, 403);
      assert.equal(await h.api.db.collections.videos.countDocuments({}), before);
      assert.ok((await readdir(h.uploadDir)).every((f) => !f.startsWith('.incoming')), 'no temp file left');
    });

    it('refuses a foreign DELETE and a foreign tus PATCH, and the video stays', async () => {
      const up = await h.upload(minimalMp4(24));
      const id = up.body.videoId as string;
      const del = await raw(port, 'DELETE', `/api/videos/${id}`, { Origin: 'https://evil.example' });
      assert.equal(del.status, 403);
      assert.equal((await raw(port, 'GET', `/api/videos/${id}`)).status, 200);
      const patch = await raw(port, 'PATCH', '/api/uploads/anything', { Origin: 'https://evil.example', 'Tus-Resumable': '1.0.0' });
      assert.equal(patch.status, 403);
    });

    it('lets same-origin writes through, directly and through the web server proxy', async () => {
      const form = multipart({ role: 'rider' }, { name: 'same.mp4', bytes: minimalMp4(25) });
      const direct = await raw(port, 'POST', '/api/videos', { 'Content-Type': form.contentType, Origin: `http://127.0.0.1:${port}` }, form.body);
      assert.equal(direct.status, 202, direct.body);
      // What serve.mjs forwards: Host is the API's service name, the browser's host is in X-Forwarded-Host.
      const proxied = await raw(
        port,
        'DELETE',
        `/api/videos/${direct.json().videoId}`,
        { Host: 'backend-api:3001', 'X-Forwarded-Host': 'localhost:5173', Origin: 'http://localhost:5173', 'Sec-Fetch-Site': 'same-origin' },
      );
      assert.equal(proxied.status, 204, proxied.body);
    });

    it('decides from Origin, Host, forwarded host and the allow-list', () => {
      const f = { method: 'POST', origin: 'http://localhost:5173', secFetchSite: undefined, host: 'backend-api:3001', forwardedHost: undefined };
      assert.match(String(foreignOriginReason(f, new Set())), /Origin/);
      assert.equal(foreignOriginReason(f, new Set(['http://localhost:5173'])), null);
      assert.equal(foreignOriginReason({ ...f, method: 'GET' }, new Set()), null);
      assert.equal(foreignOriginReason({ ...f, host: 'localhost:5173' }, new Set()), null);
      assert.equal(foreignOriginReason({ ...f, origin: 'http://localhost', host: 'localhost:80' }, new Set()), null);
      assert.match(String(foreignOriginReason({ ...f, origin: 'http://localhost:5174', host: 'localhost:5173' }, new Set())), /Origin/);
      assert.match(String(foreignOriginReason({ ...f, origin: 'http://localhost:5173.evil.example', host: 'localhost:5173' }, new Set())), /Origin/);
      assert.equal(foreignOriginReason({ ...f, origin: undefined }, new Set()), null, 'curl and scripts send no Origin');
    });
  });

  describe('oversized input', () => {
    it('never reads a 20 MB JSON body on any route and answers at once', async () => {
      const big = JSON.stringify({ path: 'x'.repeat(20 * 1024 * 1024) });
      for (const [method, path, status] of [['POST', '/api/videos', 415], ['POST', '/api/jobs/whatever', 404], ['PATCH', `/api/videos/${'a'.repeat(24)}`, 413]] as const) {
        const start = Date.now();
        const res = await raw(port, method, path, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(big)) }, big).catch(
          // The server may answer and close before the whole body is written: that is the point.
          (err: NodeJS.ErrnoException) => ({ status: err.code === 'EPIPE' || err.code === 'ECONNRESET' ? status : -1, body: '{}' }) as RawResponse,
        );
        assert.equal(res.status, status, `${method} ${path}: ${res.body.slice(0, 200)}`);
        if (res.status === 413) assert.match(res.body, /payload_too_large/);
        assert.ok(res.body.length < 1_000, 'the answer does not echo the body');
        assert.ok(Date.now() - start < 5_000, `${method} ${path} took ${Date.now() - start} ms`);
      }
    });

    it('keeps a long request path out of the answer and the log', async () => {
      const res = await raw(port, 'GET', `/api/${'p'.repeat(12_000)}`);
      assert.equal(res.status, 404);
      assert.ok(res.body.length < 600, `answer is ${res.body.length} characters`);
    });

    it('cuts every free-text field of a log line', () => {
      const huge = 'y'.repeat(5 * 1024 * 1024);
      const err = new Error(huge);
      const line = formatLogLine(`GET /${huge} failed`, err);
      assert.ok(line.length < 5 * MAX_LOG_FIELD, `log line is ${line.length} characters`);
      const parsed = JSON.parse(line);
      assert.match(parsed.msg, /more characters cut\]$/);
      assert.match(parsed.error, /more characters cut\]$/);
      assert.equal(JSON.parse(formatLogLine('short')).msg, 'short');
    });
  });
});

describe('resumable uploads (tus) without CORS', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    signedIn = h.session.headers;
  });
  after(async () => {
    await h?.close();
  });

  it('answers same-origin tus requests without Access-Control headers and refuses foreign ones', async () => {
    const port = h.api.port;
    const self = `http://127.0.0.1:${port}`;
    const meta = `role ${Buffer.from('rider').toString('base64')},filename ${Buffer.from('Überflug.mp4').toString('base64')}`;
    const create = await raw(port, 'POST', '/api/uploads', { Origin: self, 'Tus-Resumable': '1.0.0', 'Upload-Length': '100', 'Upload-Metadata': meta });
    assert.equal(create.status, 201, create.body);
    const options = await raw(port, 'OPTIONS', '/api/uploads', { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'PATCH' });
    const head = await raw(port, 'HEAD', String(create.headers.location), { Origin: 'http://evil.example', 'Tus-Resumable': '1.0.0' });
    for (const res of [create, options, head]) assert.equal(res.headers['access-control-allow-origin'], undefined, JSON.stringify(res.headers));
    const foreign = await raw(port, 'PATCH', String(create.headers.location), {
      Origin: 'http://evil.example', 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream',
    }, Buffer.alloc(100));
    assert.equal(foreign.status, 403);
  });
});
