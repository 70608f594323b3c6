import { fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AnalysisView } from '../views/AnalysisView';
import { Library } from './Library';
import { StatusChip } from './StatusChip';
import { SummaryCards } from './SummaryCards';
import { TimeSeriesChart } from './TimeSeriesChart';
import { UploadPanel } from './UploadPanel';

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

afterEach(() => vi.unstubAllGlobals());

describe('Library states', () => {
  it('shows a loading state, then an empty state when there are no videos', async () => {
    let resolve!: (r: Response) => void;
    vi.stubGlobal('fetch', vi.fn(() => new Promise<Response>((r) => (resolve = r))));
    render(<Library refreshKey={0} />);
    expect((screen.getByRole('status')).textContent).toContain('Loading your videos');
    resolve(json(200, { items: [], page: 1, limit: 100, total: 0 }));
    // A first visit: what the app does and how to film, not just "nothing here".
    expect((await screen.findByTestId('first-run')).textContent).toMatch(/whole body in frame.*Landscape or portrait.*steady/s);
  });

  it('shows the API error with a working retry', async () => {
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(json(503, { error: 'not_ready', detail: 'Database is starting.' }))
      .mockResolvedValueOnce(json(200, { items: [], page: 1, limit: 100, total: 0 }));
    vi.stubGlobal('fetch', fetchMock);
    render(<Library refreshKey={0} />);
    expect((await screen.findByRole('alert')).textContent).toContain('Database is starting.');
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByTestId('first-run')).toBeTruthy();
  });
});

describe('AnalysisView', () => {
  it('shows the error state for a missing video', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(404, { error: 'not_found', detail: 'No such video.' })));
    render(<AnalysisView id="x" />);
    expect((await screen.findByRole('alert')).textContent).toContain('No such video.');
  });
});

describe('UploadPanel', () => {
  it('asks for a file instead of sending an empty form', () => {
    render(<UploadPanel onUploaded={() => undefined} />);
    fireEvent.click(screen.getByRole('button', { name: 'Upload' }));
    expect((screen.getByRole('alert')).textContent).toContain('Choose a video first');
  });
  it('rejects a non-video file inline', () => {
    render(<UploadPanel onUploaded={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Video file'), { target: { files: [new File(['x'], 'notes.txt', { type: 'text/plain' })] } });
    expect((screen.getByRole('alert')).textContent).toContain('not a video we can analyse');
  });
});

describe('StatusChip', () => {
  it('shows progress while running', () => {
    render(<StatusChip state="running" progress={0.42} />);
    expect((screen.getByRole('status')).textContent).toContain('Analysing 42%');
  });
});

describe('TimeSeriesChart', () => {
  const base = { title: 'Knee', unit: '°', t: [0, 1, 2], segments: [{ start_s: 0.5, end_s: 1.5 }], cursor: 0 };
  it('says so when the rider was never seen', () => {
    render(<TimeSeriesChart {...base} lines={[{ label: 'l', color: '#fff', values: [null, null, null] }]} onSeek={() => undefined} />);
    expect(screen.getByText(/No data/)).toBeTruthy();
  });
  it('seeks with the arrow keys and shades airborne segments', () => {
    const onSeek = vi.fn();
    const { container } = render(<TimeSeriesChart {...base} cursor={1} keyStep={0.5} lines={[{ label: 'l', color: '#fff', values: [1, 2, 3] }]} onSeek={onSeek} />);
    expect(container.querySelectorAll('rect.air')).toHaveLength(1);
    fireEvent.keyDown(screen.getByRole('slider'), { key: 'ArrowRight' });
    expect(onSeek).toHaveBeenCalledWith(1.5);
  });
});

describe('SummaryCards', () => {
  it('renders the headline numbers and dashes for unknowns', () => {
    render(
      <SummaryCards
        summary={{ max_rotation_deg: -360, rotation_direction: 'counterclockwise', airtime_s: null, airborne_segments: [], stance: null, min_knee_angle_deg: 95.4, frames_analysed: 10, frames_with_rider: 9 }}
      />,
    );
    const text = screen.getByTestId('summary').textContent ?? '';
    expect(text).toContain('360°');
    expect(text).toContain('counter-clockwise');
    expect(text).toContain('95°');
    expect(text).toContain('—');
  });
});

// The comparison's sync (progress, take-off, offset) is tested in src/compare/compare.test.ts.
