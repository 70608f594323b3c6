import { describe, expect, it } from 'vitest';
import { ApiError, errorMessage, toApiError } from './errors';
import { precheckFile } from './upload';

describe('toApiError', () => {
  it('keeps the API detail for a rejected type (415)', () => {
    const e = toApiError(415, JSON.stringify({ error: 'unsupported_media_type', detail: 'Only mp4, mov or webm.' }));
    expect(e).toBeInstanceOf(ApiError);
    expect(e.code).toBe('unsupported_media_type');
    expect(errorMessage(e)).toBe('Only mp4, mov or webm.');
  });
  it('explains a too-large file (413) even when a proxy answered HTML', () => {
    const e = toApiError(413, '<html>Request Entity Too Large</html>');
    expect(e.code).toBe('http_413');
    expect(e.detail).toMatch(/too large/);
  });
  it('uses the 400 detail for a validation error', () => {
    expect(toApiError(400, '{"error":"invalid_role","detail":"role must be rider or reference"}').detail).toBe('role must be rider or reference');
  });
  it('reports an unreachable server as a network error', () => {
    expect(toApiError(0, null).code).toBe('network_error');
  });
  it('maps any unknown 5xx to a try-again line', () => {
    expect(toApiError(504, '').detail).toMatch(/Try again/);
  });
});

describe('precheckFile', () => {
  const file = (name: string, type: string, size = 10) => new File([new Uint8Array(size)], name, { type });
  it('accepts mp4, mov and webm', () => {
    expect(precheckFile(file('a.mp4', 'video/mp4'))).toBeNull();
    expect(precheckFile(file('a.MOV', 'video/quicktime'))).toBeNull();
    expect(precheckFile(file('a.webm', ''))).toBeNull();
  });
  it('rejects a text file before upload', () => expect(precheckFile(file('notes.txt', 'text/plain'))).toMatch(/not a video/));
  it('rejects an empty file', () => expect(precheckFile(file('a.mp4', 'video/mp4', 0))).toMatch(/empty/));
});
