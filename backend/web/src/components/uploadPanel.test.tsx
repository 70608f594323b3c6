import { act, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Job } from '../api/types';
import type { UploadResult } from '../api/upload';

/*
 * The upload row's life after the bytes: uploadVideo and watchJob are replaced (the tus transfer and the SSE stream
 * have their own tests; the browser e2e runs them for real against the fixture API) so each step can be driven.
 */
const upload = vi.hoisted(() => ({ resolve: (_r: UploadResult) => undefined as void, onJob: (_j: Job) => undefined as void }));
vi.mock('../api/upload', async (orig) => ({
  ...(await orig<typeof import('../api/upload')>()),
  uploadVideo: () => ({ promise: new Promise<UploadResult>((r) => (upload.resolve = r)), abort: () => undefined }),
}));
vi.mock('../api/jobEvents', () => ({
  watchJob: (_id: string, opts: { onJob: (j: Job) => void }) => {
    upload.onJob = opts.onJob;
    return () => undefined;
  },
}));
const { UploadPanel } = await import('./UploadPanel');

const job = (state: Job['state'], progress = 0) => ({ id: 'j1', videoId: 'v1', state, progress, error: null }) as unknown as Job;
const clip = () => new File([new Uint8Array(2048)], 'run.mp4', { type: 'video/mp4' });
const beforeUnloadBlocked = () => {
  const ev = new Event('beforeunload', { cancelable: true });
  window.dispatchEvent(ev);
  return ev.defaultPrevented;
};

afterEach(() => vi.restoreAllMocks());

describe('UploadPanel', () => {
  it('follows one upload from bytes to Ready, warning before the page is left only while bytes are moving', async () => {
    render(<UploadPanel onUploaded={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Video file'), { target: { files: [clip()] } });
    fireEvent.click(screen.getByRole('button', { name: 'Upload' }));
    const status = () => screen.getByTestId('upload-status').textContent;
    expect(status()).toMatch(/^Uploading/);
    expect(beforeUnloadBlocked()).toBe(true);
    await act(async () => upload.resolve({ videoId: 'v1', jobId: 'j1' }));
    expect(status()).toBe('Uploaded · waiting for analysis');
    expect(beforeUnloadBlocked()).toBe(false);
    act(() => upload.onJob(job('running', 0.4)));
    expect(status()).toBe('Analysing · 40%');
    act(() => upload.onJob(job('done', 1)));
    expect(status()).toBe('Ready');
    expect(screen.getByRole('link', { name: 'Open the analysis' }).getAttribute('href')).toContain('v1');
    expect(screen.getAllByTestId('upload-item')).toHaveLength(1);
  });

  it('catches a file dropped outside the drop zone and takes it as the clip', () => {
    render(<UploadPanel onUploaded={() => undefined} />);
    const drop = new Event('drop', { bubbles: true, cancelable: true }) as Event & { dataTransfer: unknown };
    drop.dataTransfer = { types: ['Files'], files: [clip()] };
    act(() => void document.body.dispatchEvent(drop));
    expect(drop.defaultPrevented).toBe(true);
    expect(screen.getByTestId('dropzone').textContent).toContain('run.mp4');
  });
});
