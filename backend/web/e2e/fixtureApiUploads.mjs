// Uploads in the e2e API TEST DOUBLE (e2e/fixtureApi.mjs): resumable tus uploads under /api/uploads (POST, HEAD,
// PATCH, DELETE) and the older multipart POST /api/videos, answered like the API, bodies read at a loopback-friendly
// pace. A test can make the next PATCH drop its connection part-way (POST /__fixture/drop {"atFraction": 0.5}).
import path from 'node:path';

/** Upload body consumption rate, so a browser sees several progress events over loopback. */
const UPLOAD_BYTES_PER_SECOND = 6 * 1024 * 1024;

const decodeMetadata = (header) => Object.fromEntries(
  String(header ?? '').split(',').filter(Boolean).map((pair) => {
    const [k, v = ''] = pair.trim().split(' ');
    return [k, Buffer.from(v, 'base64').toString('utf8')];
  }),
);

/**
 * The upload routes over the double's videos: `addVideo` files a finished upload (returns {videoId, jobId}); `json`
 * and `fail` answer a body and an error body.
 */
export function createUploads({ addVideo, json, fail }) {
  const tusUploads = new Map(); // id → {length, offset, meta}
  let tusSeq = 0;
  let dropNext = null; // fraction of the upload at which the next PATCH's connection is cut
  const tusHeaders = { 'tus-resumable': '1.0.0', 'cache-control': 'no-store' };

  /** tus (https://tus.io) creation, HEAD, PATCH and termination, as the API's /api/uploads speaks it. */
  function tus(req, res, id, user) {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...tusHeaders, 'tus-version': '1.0.0', 'tus-extension': 'creation,termination' });
      return res.end();
    }
    if (req.method === 'POST' && !id) {
      const length = Number(req.headers['upload-length']);
      const meta = decodeMetadata(req.headers['upload-metadata']);
      req.resume();
      if (meta.role !== 'rider' && meta.role !== 'reference') return fail(res, 400, 'missing_field', 'the `role` metadata is required (rider or reference)');
      const ext = path.extname(meta.filename ?? '').toLowerCase().slice(1);
      if (!['mp4', 'mov', 'webm', 'mkv'].includes(ext)) return fail(res, 415, 'unsupported_type', `“${meta.filename}” is not an MP4, MOV, WebM or MKV video.`);
      const uid = `u${++tusSeq}`;
      tusUploads.set(uid, { length, offset: 0, meta, ownerId: user.id });
      res.writeHead(201, { ...tusHeaders, location: `/api/uploads/${uid}` });
      return res.end();
    }
    const u = tusUploads.get(id);
    if (!u || (u.ownerId !== user.id && user.role !== 'admin')) {
      req.resume();
      return fail(res, 404, 'not_found', 'no such upload');
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...tusHeaders, 'upload-offset': u.offset, 'upload-length': u.length });
      return res.end();
    }
    if (req.method === 'DELETE') {
      tusUploads.delete(id);
      res.writeHead(204, tusHeaders);
      return res.end();
    }
    if (req.method !== 'PATCH') return fail(res, 405, 'method_not_allowed', req.method);
    if (Number(req.headers['upload-offset']) !== u.offset) {
      req.resume();
      return fail(res, 409, 'offset_mismatch', `the upload is at ${u.offset}`);
    }
    const cutAt = dropNext === null ? null : Math.floor(u.length * dropNext);
    dropNext = null;
    u.patches = (u.patches ?? 0) + 1;
    let gone = false;
    req.on('aborted', () => (gone = true)); // what a closed tab still had in flight is not the server's
    req.on('data', (c) => {
      if (gone) return;
      const keep = cutAt === null ? c.length : Math.max(0, Math.min(c.length, cutAt - u.offset));
      u.offset += keep;
      if (cutAt !== null && u.offset >= cutAt) {
        // The network "drops": the bytes up to here are kept, the client must ask (HEAD) and resume.
        req.socket.destroy();
        return;
      }
      req.pause();
      setTimeout(() => req.resume(), (c.length / UPLOAD_BYTES_PER_SECOND) * 1000);
    });
    req.on('end', () => {
      if (u.offset < u.length) {
        res.writeHead(204, { ...tusHeaders, 'upload-offset': u.offset });
        return res.end();
      }
      tusUploads.delete(id);
      const body = JSON.stringify(addVideo({ name: u.meta.filename, role: u.meta.role, title: u.meta.title ?? null, size: u.length, ownerId: u.ownerId }));
      res.writeHead(200, { ...tusHeaders, 'upload-offset': u.offset, 'content-type': 'application/json' });
      res.end(body);
    });
  }

  function upload(req, res, user) {
    // Read slowly and look only at the part headers: enough to answer like the API does.
    const chunks = [];
    let total = 0;
    req.on('data', (c) => {
      chunks.push(c.subarray(0, 4096));
      total += c.length;
      req.pause();
      setTimeout(() => req.resume(), (c.length / UPLOAD_BYTES_PER_SECOND) * 1000);
    });
    req.on('end', () => {
      const head = Buffer.concat(chunks).toString('latin1');
      const file = /name="video"; filename="([^"]*)"\r\nContent-Type: ([^\r]*)/i.exec(head);
      const role = /name="role"\r\n\r\n([^\r]*)/.exec(head)?.[1];
      const title = /name="title"\r\n\r\n([^\r]*)/.exec(head)?.[1] ?? null;
      if (!file) return fail(res, 400, 'missing_file', 'Attach the video in the "video" field.');
      if (role !== 'rider' && role !== 'reference') return fail(res, 400, 'invalid_role', 'role must be "rider" or "reference".');
      const ext = path.extname(file[1]).toLowerCase().slice(1);
      if (!['mp4', 'mov', 'webm', 'mkv'].includes(ext)) return fail(res, 415, 'unsupported_media_type', `“${file[1]}” is not an MP4, MOV, WebM or MKV video.`);
      const added = addVideo({ name: file[1], role, title, size: total, ownerId: user.id });
      json(res, 202, added);
    });
  }

  return {
    tus,
    upload,
    /** The next PATCH loses its connection at this fraction of the upload. */
    dropAt: (fraction) => (dropNext = fraction),
    list: () => [...tusUploads.entries()].map(([id, u]) => ({ id, offset: u.offset, length: u.length, patches: u.patches ?? 0 })),
    values: () => [...tusUploads.values()],
  };
}
