import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Video } from '../api/types';
import { Library } from './Library';
import { failureAdvice, formatWhen, UNDO_MS } from './libraryText';

/** The library against a fetch that records every call and answers like the API (list, PATCH, DELETE). */
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function video(id: string, title: string, extra: Partial<Video> = {}): Video {
  return {
    id, title, role: 'rider', originalName: `${id}.mp4`, size: 1, createdAt: '2026-01-12T09:40:00.000Z', status: 'done', fps: 30, durationS: 3,
    width: 640, height: 360, posterUrl: null, spriteUrl: null, job: null, ...extra,
  } as unknown as Video;
}

function fakeApi(items: Video[]) {
  const calls: { method: string; url: string; body?: string }[] = [];
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    calls.push({ method, url: String(url), body: init?.body as string | undefined });
    const m = /\/api\/videos\/([^/?]+)$/.exec(String(url));
    if (method === 'PATCH' && m) {
      const v = items.find((x) => x.id === m[1])!;
      v.title = JSON.parse(String(init?.body)).title;
      return json(200, v);
    }
    if (method === 'DELETE') return new Response(null, { status: 204 });
    return json(200, { items, page: 1, limit: 24, total: items.length });
  });
  vi.stubGlobal('fetch', fetchMock);
  return calls;
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('library text', () => {
  it('says a damaged file is damaged and to export it again from the phone', () => {
    const a = failureAdvice('This file is damaged or is not a video we can read. Export it again from your phone or camera and upload it once more.');
    expect(a.what).toBe('This file is damaged; export it again from your phone.');
    expect(failureAdvice('The analysis service could not be reached.').next).toMatch(/Try the analysis again/);
  });
  it('shows date and time', () => {
    expect(formatWhen('2026-01-12T09:40:00.000Z')).toMatch(/\d{1,2}:\d{2}/);
  });
});

describe('Library', () => {
  it('renames a video with PATCH; Escape leaves the title unchanged', async () => {
    const calls = fakeApi([video('a', 'Old title')]);
    render(<Library refreshKey={0} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Rename Old title' }));
    const input = screen.getByRole('textbox', { name: 'New title for Old title' });
    fireEvent.change(input, { target: { value: 'Draft' } });
    fireEvent.keyDown(input, { key: 'Escape' });
    expect(screen.queryByRole('textbox', { name: /New title/ })).toBeNull();
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Rename Old title' }));
    fireEvent.change(screen.getByRole('textbox', { name: 'New title for Old title' }), { target: { value: '  Backside 540  ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Backside 540')).toBeTruthy();
    expect(calls.find((c) => c.method === 'PATCH')).toMatchObject({ body: JSON.stringify({ title: 'Backside 540' }) });
  });

  it('searches by title after typing settles', async () => {
    const calls = fakeApi([video('a', 'One')]);
    render(<Library refreshKey={0} />);
    await screen.findByText('One');
    fireEvent.change(screen.getByRole('searchbox', { name: 'Search titles' }), { target: { value: 'back 5' } });
    await waitFor(() => expect(calls.at(-1)?.url).toMatch(/[?&]q=back\+5(&|$)/));
    fireEvent.change(screen.getByRole('combobox', { name: 'Sort by' }), { target: { value: 'duration' } });
    await waitFor(() => expect(calls.at(-1)?.url).toMatch(/sort=duration/));
  });

  it('puts focus on Cancel, cancels on Escape, and undoes a delete before it is sent', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const calls = fakeApi([video('a', 'Keep me'), video('b', 'Bin me')]);
    render(<Library refreshKey={0} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Delete Keep me' }));
    expect(document.activeElement?.textContent).toBe('Cancel');
    fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    expect(screen.queryByRole('group', { name: /Confirm delete/ })).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Delete Keep me' }));
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    expect(screen.queryByText('Keep me', { selector: '.video-card-title' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Undo' }));
    expect(screen.getByText('Keep me', { selector: '.video-card-title' })).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Delete Bin me' }));
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    await act(async () => {
      vi.advanceTimersByTime(UNDO_MS + 10);
    });
    await waitFor(() => expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual([expect.stringMatching(/\/api\/videos\/b$/)]));
    expect(screen.queryByTestId('undo-toast')).toBeNull();
  });

  it('pages the list: Next asks the API for page 2, a new search starts again at page 1', async () => {
    const calls: string[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      calls.push(String(url));
      return json(200, { items: [video('a', 'One')], page: 1, limit: 24, total: 50 });
    }));
    render(<Library refreshKey={0} />);
    expect(await screen.findByText('Page 1 of 3')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Previous' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    await waitFor(() => expect(calls.at(-1)).toMatch(/page=2&limit=24/));
    expect(await screen.findByText('Page 2 of 3')).toBeTruthy();
    fireEvent.change(screen.getByRole('combobox', { name: 'Filter by state' }), { target: { value: 'failed' } });
    await waitFor(() => expect(calls.at(-1)).toMatch(/page=1&limit=24&status=failed/));
  });
});
