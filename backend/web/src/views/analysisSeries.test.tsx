import { render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import riderMetrics from '../../e2e/fixtures/metrics-v-rider.json';
import type { Metrics, Video } from '../api/types';
import { AnalysisView } from './AnalysisView';

// Video first on long clips: the analysis page reads the summary alone (`?series=0`) with the video, shows the player
// and the tiles, and reads the charts' series only after the player drew (or, without a frame, after 2.5 s).

const metrics = riderMetrics as unknown as Metrics;
const video = {
  id: 'v1', title: 'Long run', role: 'rider', originalName: 'run.webm', size: 1, sha256: 'x', container: 'webm',
  createdAt: '2026-01-01T00:00:00.000Z', status: 'done', job: null, fps: 24, durationS: 120, width: 640, height: 360,
} satisfies Video;
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

afterEach(() => vi.unstubAllGlobals());

/** The API as the page sees it; `seriesAnswer` decides the whole metrics' answer. Returns the requested paths. */
function stubApi(seriesAnswer: () => Response) {
  const asked: string[] = [];
  vi.stubGlobal('fetch', vi.fn(async (input: RequestInfo | URL) => {
    const url = new URL(String(input), 'http://app');
    const path = url.pathname + url.search;
    asked.push(path);
    if (url.pathname === '/api/videos/v1') return json(200, video);
    if (path === '/api/videos/v1/metrics?series=0') return json(200, { summary: metrics.summary });
    if (path === '/api/videos/v1/metrics') return seriesAnswer();
    if (url.pathname === '/api/videos/v1/pose') return json(200, { videoId: 'v1', fps: 24, width: 640, height: 360, riderTrackId: 1, partial: false, frames: [] });
    if (url.pathname === '/api/videos') return json(200, { items: [], page: 1, limit: 100, total: 0 });
    return json(404, { error: 'not_found', detail: `no ${path} in this test` });
  }));
  return asked;
}

describe('AnalysisView: video first, series after', () => {
  it('shows the player and the summary tiles from ?series=0 before it asks for the series, then draws the charts', async () => {
    const asked = stubApi(() => json(200, metrics));
    render(<AnalysisView id="v1" />);
    expect(await screen.findByTestId('player')).toBeTruthy();
    expect(asked).toContain('/api/videos/v1/metrics?series=0');
    expect(asked).not.toContain('/api/videos/v1/metrics');
    expect(screen.getByText('Loading charts…')).toBeTruthy();
    expect(screen.getByRole('region', { name: 'Metrics over time' }).getAttribute('aria-busy')).toBe('true');
    // The summary tiles are there already, from the summary alone.
    expect(screen.getByTestId('stat-max_rotation_deg').textContent).toMatch(/\d+°/);
    // No pose frame is drawn in this DOM: the series come after the 2.5 s fallback.
    await waitFor(() => expect(asked).toContain('/api/videos/v1/metrics'), { timeout: 4000 });
    expect(await screen.findByText('Knee angles')).toBeTruthy();
    expect(screen.queryByText('Loading charts…')).toBeNull();
    expect(asked.filter((p) => p === '/api/videos/v1/metrics')).toHaveLength(1);
  });

  it('a failed series read says so in the charts with a retry, and the player and tiles stay', async () => {
    let fail = true;
    stubApi(() => (fail ? json(503, { error: 'unavailable', detail: 'The database is busy.' }) : json(200, metrics)));
    render(<AnalysisView id="v1" />);
    expect((await screen.findByRole('alert', {}, { timeout: 4000 })).textContent).toContain('The database is busy.');
    expect(screen.getByTestId('player')).toBeTruthy();
    fail = false;
    screen.getByRole('button', { name: 'Try again' }).click();
    expect(await screen.findByText('Knee angles')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
  });
});
