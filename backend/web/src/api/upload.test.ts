import { describe, expect, it } from 'vitest';
import { errorFromTus, loadTus, precheckFile, resultFromBody, uploadMetadata } from './upload';

// The resumable upload itself (tus-js-client against a tus server, drops and reloads) runs in the browser
// tests (e2e/app.e2e.test.mjs); these are the pure parts around it.

const file = new File([new Uint8Array(100)], 'Café run.mov', { type: 'video/quicktime' });
const response = (status: number, body: string) => ({ getStatus: () => status, getBody: () => body });

describe('resumable upload helpers', () => {
  it('sends role, trimmed title and the file name as tus metadata', () => {
    expect(uploadMetadata({ file, role: 'reference', title: '  Coach  ' })).toEqual({
      role: 'reference', title: 'Coach', filename: 'Café run.mov', filetype: 'video/quicktime',
    });
    expect(uploadMetadata({ file, role: 'rider', title: '   ' })).not.toHaveProperty('title');
  });

  it.each([
    [413, '{"error":"too_large","detail":"the video is larger than the 500 MB limit"}', 'the video is larger than the 500 MB limit'],
    [415, '{"error":"unsupported_codec","detail":"the video stream is zzzz, which cannot be decoded here"}', 'the video stream is zzzz, which cannot be decoded here'],
    [413, '{"error":"too_long","detail":"the limit is 600 s (10 min)"}', 'the limit is 600 s (10 min)'],
  ])('turns the API refusal %s into its detail', (status, body, detail) => {
    const err = Object.assign(new Error('tus: unexpected response'), { originalResponse: response(status, body) });
    expect(errorFromTus(err)).toMatchObject({ status, detail });
  });

  it('reads a lost connection as a network error', () => {
    expect(errorFromTus(Object.assign(new Error('tus: failed'), { originalResponse: null }))).toMatchObject({ code: 'network_error' });
  });

  it('reads {videoId, jobId} from the last PATCH, and refuses anything else', () => {
    expect(resultFromBody('{"videoId":"v1","jobId":"j1"}')).toEqual({ videoId: 'v1', jobId: 'j1' });
    expect(() => resultFromBody('')).toThrow(/unreadable/);
  });

  it('accepts the phone containers and refuses what is obviously not a video', () => {
    expect(precheckFile(file)).toBeNull();
    expect(precheckFile(new File([new Uint8Array(3)], 'clip.mkv', { type: '' }))).toBeNull();
    expect(precheckFile(new File([new Uint8Array(3)], 'notes.txt', { type: 'text/plain' }))).toMatch(/not a video/);
    expect(precheckFile(new File([], 'empty.mp4', { type: 'video/mp4' }))).toMatch(/empty/);
  });

  it('loads tus-js-client on demand, once: every upload shares the one module', async () => {
    const first = loadTus();
    expect(loadTus()).toBe(first);
    const tus = await first;
    expect(typeof tus.Upload).toBe('function');
    expect(tus.isSupported).toBe(true);
  });
});
