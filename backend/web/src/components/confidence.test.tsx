import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { MetricsSummary } from '../api/types';
import { chartSpecs } from '../views/AnalysisView';
import { confidences3d } from './Skeleton3D';
import { riderSeenLine, SummaryCards } from './SummaryCards';
import { TimeSeriesChart, valuesAt } from './TimeSeriesChart';

// Issue 18: metrics say what they could not measure, and every number says what it is.

const waistUp: MetricsSummary = {
  max_rotation_deg: 12.3, rotation_direction: null, airtime_s: null, airborne_segments: [], stance: null,
  min_knee_angle_deg: null, frames_analysed: 90, frames_with_rider: 84,
  frames_seen: { torso: 84, legs: 0, feet: 0 }, joint_score_min: 0.5,
  unavailable: { min_knee_angle_deg: 'legs not visible', airtime_s: 'feet not visible', stance: 'feet not visible' },
};

describe('SummaryCards confidence', () => {
  it('shows "not measured" with the reason instead of a number for unavailable values', () => {
    render(<SummaryCards summary={waistUp} />);
    expect(screen.getByTestId('stat-min_knee_angle_deg').textContent).toContain('not measured — legs not visible');
    expect(screen.getByTestId('stat-stance').textContent).toContain('not measured — feet not visible');
    expect(screen.getByTestId('stat-stance').textContent).not.toContain('from the lead foot');
    expect(screen.getByTestId('stat-airtime_s').dataset.unavailable).toBe('true');
    const rotation = screen.getByTestId('stat-max_rotation_deg');
    expect(rotation.dataset.unavailable).toBeUndefined();
    expect(rotation.textContent).toContain('12°');
    expect(screen.getByTestId('rider-seen').textContent).toBe(
      'Rider seen in 84 of 90 analysed frames (shoulders and hips visible) · legs in 0 · feet in 0',
    );
  });
  it('explains every tile with its unit', () => {
    render(<SummaryCards summary={waistUp} />);
    for (const key of ['max_rotation_deg', 'airtime_s', 'stance', 'min_knee_angle_deg']) {
      expect(screen.getByTestId(`stat-${key}`).querySelector('.stat-explain')?.textContent?.length).toBeGreaterThan(30);
    }
    expect(screen.getByTestId('stat-airtime_s').textContent).toMatch(/Seconds/);
    expect(screen.getByTestId('stat-min_knee_angle_deg').textContent).toMatch(/degrees/);
  });
  it('reads metrics stored before issue 18 (no unavailable, no frames_seen)', () => {
    const old = { ...waistUp, frames_seen: undefined, unavailable: undefined, joint_score_min: undefined, stance: 'goofy' as const };
    expect(riderSeenLine(old)).toBe('Rider seen in 84 of 90 analysed frames');
    render(<SummaryCards summary={old} />);
    expect(screen.getByTestId('stat-stance').textContent).toContain('Goofy');
    expect(screen.queryByText(/not measured/)).toBeNull();
  });
});

describe('TimeSeriesChart explained', () => {
  const t = Array.from({ length: 72 }, (_, i) => i / 30); // ends at 2.367 s
  const lines = [{ label: 'left', color: '#fff', values: t.map((v) => 100 + 10 * v) }];
  const props = { title: 'Knee angles', unit: '°', t, lines, segments: [{ start_s: 1, end_s: 1.5 }], onSeek: () => undefined };

  it('labels the time axis to the end of the data, names both axes and explains the chart', () => {
    const { container } = render(<TimeSeriesChart {...props} cursor={0} note="Hip–knee–ankle angle." axisLabel="degrees" />);
    const ticks = [...container.querySelectorAll('text.tick')].map((e) => e.textContent ?? '').filter((s) => s.endsWith('s'));
    const last = Math.max(...ticks.map((s) => parseFloat(s)));
    expect(last).toBeGreaterThanOrEqual(t[t.length - 1]);
    const axes = [...container.querySelectorAll('text.axis-label')].map((e) => e.textContent);
    expect(axes).toEqual(['time (s)', 'degrees']);
    expect(screen.getByText('Hip–knee–ankle angle.')).toBeTruthy();
  });
  it('has a legend for the playhead and the airborne shading', () => {
    const { container } = render(<TimeSeriesChart {...props} cursor={0} />);
    const legend = container.querySelector('.chart-legend')?.textContent ?? '';
    expect(legend).toContain('playhead');
    expect(legend).toContain('airborne');
  });
  it('reads out the values at the playhead, and under the pointer while hovering', () => {
    render(<TimeSeriesChart {...props} cursor={1} />);
    expect(screen.getByTestId('chart-readout').textContent).toBe('Playhead at 1.00 s: left 110°');
    const svg = screen.getByRole('slider');
    expect(svg.getAttribute('aria-valuetext')).toBe('1.00 s: left 110°');
    svg.getBoundingClientRect = () => ({ left: 0, top: 0, width: 600, height: 150, right: 600, bottom: 150, x: 0, y: 0, toJSON: () => '' });
    fireEvent.mouseMove(svg, { clientX: 600 - 12, clientY: 50 }); // the right end of the plot: the last sample
    expect(screen.getByTestId('chart-readout').textContent).toBe('At 2.37 s: left 124°');
    fireEvent.mouseLeave(svg);
    expect(screen.getByTestId('chart-readout').textContent).toContain('Playhead at 1.00 s');
  });
  it('says "not seen" where the rider was not seen', () => {
    expect(valuesAt([0, 1, 2], [{ label: 'l', color: '', values: [1, null, 3] }], 0.9)).toEqual([{ label: 'l', value: null }]);
    expect(valuesAt([0, 1, 2], [{ label: 'l', color: '', values: [1, null, 3] }], 1.6)).toEqual([{ label: 'l', value: 3 }]);
  });
  it('gives hip height an explicit relative unit', () => {
    const hip = chartSpecs({ series: { t: [0] }, summary: waistUp }).find((s) => s.title === 'Hip height')!;
    expect(hip.axisLabel).toBe('torso lengths');
    expect(hip.note).toMatch(/torso lengths/);
    expect(hip.note).toMatch(/not metres/);
  });
});

describe('Skeleton3D confidence', () => {
  it('takes each 3D joint\'s confidence from its 2D score', () => {
    const k = Array.from({ length: 3 }, (_, i) => ({ name: String(i), x: 0, y: i, z: 0 }));
    expect(confidences3d(k, [0.9, 0.3, 0.1])).toEqual(['seen', 'unsure', 'hidden']);
    expect(confidences3d(k, null)).toEqual(['seen', 'seen', 'seen']);
  });
});
