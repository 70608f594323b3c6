import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './errors';
import { uploadVideo } from './upload';

/** A scripted XMLHttpRequest: records what was sent and lets the test play the server's part. */
class FakeXhr {
  static last: FakeXhr;
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  status = 0;
  responseText = '';
  method = '';
  url = '';
  body: FormData | null = null;
  constructor() {
    FakeXhr.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader() {}
  send(body: FormData) {
    this.body = body;
  }
  abort() {
    this.onabort?.();
  }
  respond(status: number, body: string) {
    this.status = status;
    this.responseText = body;
    this.onload?.();
  }
}

afterEach(() => vi.unstubAllGlobals());

describe('uploadVideo', () => {
  const file = new File([new Uint8Array(100)], 'run.mp4', { type: 'video/mp4' });

  it('posts the multipart form and reports progress from upload events', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const seen: number[] = [];
    const h = uploadVideo({ file, role: 'reference', title: '  Coach  ' }, (f) => seen.push(f));
    const xhr = FakeXhr.last;
    expect(xhr.method).toBe('POST');
    expect(xhr.url).toBe('/api/videos');
    expect(xhr.body?.get('role')).toBe('reference');
    expect(xhr.body?.get('title')).toBe('Coach');
    expect((xhr.body?.get('video') as File).name).toBe('run.mp4');
    xhr.upload.onprogress?.({ lengthComputable: true, loaded: 25, total: 100 });
    xhr.upload.onprogress?.({ lengthComputable: true, loaded: 100, total: 100 });
    xhr.respond(202, '{"videoId":"v1","jobId":"j1"}');
    await expect(h.promise).resolves.toEqual({ videoId: 'v1', jobId: 'j1' });
    expect(seen).toEqual([0.25, 1, 1]);
  });

  it.each([
    [413, '{"error":"file_too_large","detail":"The file exceeds 500 MB."}', 'The file exceeds 500 MB.'],
    [415, '{"error":"unsupported_media_type","detail":"Not a video."}', 'Not a video.'],
    [400, '{"error":"invalid_role","detail":"role must be rider or reference"}', 'role must be rider or reference'],
  ])('rejects with the API detail on %s', async (status, body, detail) => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const h = uploadVideo({ file, role: 'rider' }, () => undefined);
    FakeXhr.last.respond(status, body);
    await expect(h.promise).rejects.toMatchObject({ status, detail });
  });

  it('turns a network failure and a cancel into readable errors', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const a = uploadVideo({ file, role: 'rider' }, () => undefined);
    FakeXhr.last.onerror?.();
    await expect(a.promise).rejects.toMatchObject({ code: 'network_error' });
    const b = uploadVideo({ file, role: 'rider' }, () => undefined);
    b.abort();
    await expect(b.promise).rejects.toBeInstanceOf(ApiError);
  });
});
