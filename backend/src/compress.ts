import type { Request, RequestHandler, Response } from 'express';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

/*
 * JSON answers compressed with brotli or gzip (issue 18, item 10). Pose and metrics JSON is mostly numbers and
 * shrinks ~10×: a 3-second clip's pose goes from ~2 MB to ~200 KB. Only JSON sent whole through res.json/res.send
 * is touched; media streams (Range), server-sent events and tus answers never go through here. Compression runs
 * on libuv's thread pool (zlib's async API), so a large body does not stall other requests.
 */

/** Below this the headers and the time cost more than the bytes saved. */
export const MIN_COMPRESS_BYTES = 1024;
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/** 'br', else 'gzip', else null, from an Accept-Encoding header (q=0 refuses an encoding; * accepts any). */
export function pickEncoding(acceptEncoding: string | undefined): 'br' | 'gzip' | null {
  const q = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    if (!name) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    q.set(name, qp ? Number(qp.slice(2)) || 0 : 1);
  }
  const ok = (name: string) => (q.get(name) ?? q.get('*') ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip')) return 'gzip';
  return null;
}

function isJson(res: Response): boolean {
  const type = String(res.getHeader('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}

/** Brotli quality 4: ~15 ms per MB of pose JSON, within a few % of the strongest setting's size for this data. */
function compress(body: Buffer, encoding: 'br' | 'gzip'): Promise<Buffer> {
  return encoding === 'br'
    ? brotli(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length } })
    : gzip(body, { level: 6 });
}

/** Compresses JSON bodies of res.json/res.send for clients that accept br or gzip; everything else passes as is. */
export function compressJson(): RequestHandler {
  return (req: Request, res: Response, next) => {
    const encoding = req.method === 'HEAD' ? null : pickEncoding(req.headers['accept-encoding']);
    if (!encoding) return next();
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.isBuffer(body) ? body : null;
      res.vary('Accept-Encoding');
      if (!bytes || bytes.length < MIN_COMPRESS_BYTES || !isJson(res) || res.getHeader('Content-Encoding') || res.statusCode === 204 || res.statusCode === 304) {
        return send(body);
      }
      res.send = send; // once: Express's own send may call back into res.send
      compress(bytes, encoding).then(
        (z) => {
          res.setHeader('Content-Encoding', encoding);
          send(z);
        },
        () => send(body),
      );
      return res;
    };
    next();
  };
}
