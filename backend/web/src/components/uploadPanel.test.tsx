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
const { createUploadStore, summaryOf } = await import('../upload/store');
const { UploadIndicator } = await import('../upload/UploadIndicator');

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
    render(<UploadPanel store={createUploadStore()} />);
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
    render(<UploadPanel store={createUploadStore()} />);
    const drop = new Event('drop', { bubbles: true, cancelable: true }) as Event & { dataTransfer: unknown };
    drop.dataTransfer = { types: ['Files'], files: [clip()] };
    act(() => void document.body.dispatchEvent(drop));
    expect(drop.defaultPrevented).toBe(true);
    expect(screen.getByTestId('dropzone').textContent).toContain('run.mp4');
  });
});

describe('upload store (issue 18/7)', () => {
  it('keeps an upload going and followed after its panel is gone; the header indicator shows it to Ready', async () => {
    const store = createUploadStore();
    const panel = render(<UploadPanel store={store} />);
    render(<UploadIndicator store={store} />);
    fireEvent.change(screen.getByLabelText('Video file'), { target: { files: [clip()] } });
    fireEvent.click(screen.getByRole('button', { name: 'Upload' }));
    const indicator = () => screen.getByTestId('upload-indicator');
    expect(indicator().textContent).toMatch(/Uploading 1 · 0%/);
    panel.unmount(); // another view opened: the library and its panel are gone
    expect(beforeUnloadBlocked()).toBe(true); // still warns: bytes are moving
    await act(async () => upload.resolve({ videoId: 'v1', jobId: 'j1' }));
    expect(store.snapshot().uploaded).toBe(1);
    expect(indicator().textContent).toContain('Analysing 1');
    act(() => upload.onJob(job('done', 1)));
    expect(indicator().textContent).toContain('1 upload ready');
    expect(indicator().dataset.active).toBe('0');
    // Back on the library: a new panel shows the same row, at Ready.
    render(<UploadPanel store={store} />);
    expect(screen.getByTestId('upload-status').textContent).toBe('Ready');
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss the finished uploads' }));
    expect(screen.queryByTestId('upload-indicator')).toBeNull();
  });

  it('sums what is moving for the header', () => {
    const base = { name: 'a', role: 'rider' as const, progress: 0 };
    expect(summaryOf([])).toBeNull();
    expect(summaryOf([{ ...base, key: 1, size: 100, state: 'uploading', progress: 0.5 }, { ...base, key: 2, size: 300, state: 'uploading', progress: 1 }])?.text).toBe('Uploading 2 · 88%');
    expect(summaryOf([{ ...base, key: 1, size: 1, state: 'done', job: job('running', 0.25) }])).toMatchObject({ text: 'Analysing 1', active: 1, fraction: 0.25 });
    expect(summaryOf([{ ...base, key: 1, size: 1, state: 'done', job: job('failed') }, { ...base, key: 2, size: 1, state: 'error' }])?.text).toBe('2 failed');
  });
});
