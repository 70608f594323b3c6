import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useRef } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IDENTITY_VIEW } from '../player/geometry';
import { DrawingLayer } from './DrawingLayer';
import { DrawingTools } from './DrawingTools';
import { cursorStep, frameCentre, moveCursor } from './keyboard';
import type { Drawing } from './model';
import { useDrawings } from './useDrawings';

// The drawing layer's keyboard path: with a tool in hand, arrow keys move a cross over the frame and Enter places
// points; Backspace takes one back, Escape cancels a half-drawn mark, then puts the tool down.

describe('keyboard cross', () => {
  it('steps 1 % of the longer side in whole pixels, 5× with Shift, one pixel with Alt', () => {
    expect(cursorStep(1920, 1080, { shiftKey: false, altKey: false })).toBe(19);
    expect(cursorStep(1920, 1080, { shiftKey: true, altKey: false })).toBe(95);
    expect(cursorStep(1920, 1080, { shiftKey: true, altKey: true })).toBe(1);
    expect(cursorStep(60, 40, { shiftKey: false, altKey: false })).toBe(1);
  });
  it('moves by arrows only and stays on the frame', () => {
    expect(moveCursor({ x: 10, y: 10 }, 'ArrowRight', 4, 100, 50)).toEqual({ x: 14, y: 10 });
    expect(moveCursor({ x: 10, y: 10 }, 'ArrowUp', 4, 100, 50)).toEqual({ x: 10, y: 6 });
    expect(moveCursor({ x: 2, y: 48 }, 'ArrowLeft', 4, 100, 50)).toEqual({ x: 0, y: 48 });
    expect(moveCursor({ x: 2, y: 48 }, 'ArrowDown', 4, 100, 50)).toEqual({ x: 2, y: 50 });
    expect(moveCursor({ x: 2, y: 48 }, 'Enter', 4, 100, 50)).toBeNull();
    expect(frameCentre(271, 480)).toEqual({ x: 136, y: 240 });
  });
});

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** The API's drawings routes over fetch; returns the sets PUT so far. */
function stubDrawingsApi() {
  const puts: Drawing[][] = [];
  vi.stubGlobal('fetch', vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    if (init?.method === 'PUT') {
      const set = JSON.parse(String(init.body)) as { drawings: Drawing[] };
      puts.push(set.drawings);
      return json(200, { drawings: set.drawings, updatedAt: new Date().toISOString() });
    }
    if (String(input).endsWith('/api/videos/v1/drawings')) return json(200, { drawings: [], updatedAt: null });
    return json(404, { error: 'not_found', detail: String(input) });
  }));
  return puts;
}

/** A player's drawing parts as PosePlayer wires them: the stage (focusable), the layer inside it, the tools after. */
function Drawable({ onBeforeDraw = () => undefined }: { onBeforeDraw?: () => void }) {
  const ctl = useDrawings('v1', false);
  const stageRef = useRef<HTMLDivElement>(null);
  return (
    <div className="player">
      <div ref={stageRef} tabIndex={0} role="group" aria-label="picture" data-testid="stage">
        <DrawingLayer ctl={ctl} shown={ctl.items} frameT={1.25} frameW={400} frameH={300} view={IDENTITY_VIEW} stageRef={stageRef} onBeforeDraw={onBeforeDraw} />
      </div>
      <DrawingTools ctl={ctl} shown={ctl.items} />
    </div>
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('DrawingLayer from the keyboard', () => {
  it('is paint only without a tool; with one it is a named, focusable drawing area', async () => {
    stubDrawingsApi();
    render(<Drawable />);
    const layer = screen.getByTestId('drawing-canvas');
    expect(layer.getAttribute('tabindex')).toBeNull();
    expect(layer.getAttribute('aria-hidden')).toBe('true');
    await screen.findByText('Saved');
    fireEvent.click(screen.getByRole('button', { name: 'Angle' }));
    const area = screen.getByRole('application');
    expect(area).toBe(layer);
    expect(area.getAttribute('tabindex')).toBe('0');
    expect(area.getAttribute('aria-hidden')).toBeNull();
    expect(area.getAttribute('aria-label')).toMatch(/angle tool.*Arrow keys move the cross.*Enter places a point/);
  });

  it('a tool chosen from the keyboard hands focus to the layer; arrows and Enter draw a right angle', async () => {
    const puts = stubDrawingsApi();
    const paused = vi.fn();
    render(<Drawable onBeforeDraw={paused} />);
    await screen.findByText('Saved');
    // detail 0: a click from Enter/Space on the button, not from a pointer.
    fireEvent.click(screen.getByRole('button', { name: 'Angle' }), { detail: 0 });
    const area = screen.getByRole('application');
    await waitFor(() => expect(document.activeElement).toBe(area));
    expect(area.dataset.cursor).toBe('200,150'); // the frame's centre (400×300)
    const press = (key: string, times = 1, mods = {}) => {
      for (let i = 0; i < times; i++) fireEvent.keyDown(area, { key, ...mods });
    };
    // Arm end 40 px above the vertex, the vertex at the centre, the other end 40 px to the right: 4 px per press.
    press('ArrowUp', 10);
    expect(area.dataset.cursor).toBe('200,110');
    press('Enter');
    expect(screen.getByTestId('drawing-said').textContent).toBe('Point 1 of 3 placed at 200, 110.');
    press('ArrowDown', 2, { shiftKey: true }); // 2 × 20 px
    press(' ');
    press('ArrowRight', 40, { altKey: true }); // 40 × 1 px
    press('Enter');
    expect(paused).toHaveBeenCalled();
    expect(screen.getByTestId('drawing-said').textContent).toBe('Angle added: 90°.');
    expect(screen.getByTestId('drawing-value').textContent).toBe('90°');
    await waitFor(() => expect(puts.length).toBe(1));
    expect(puts[0][0]).toMatchObject({ kind: 'angle', t: 1.25, points: [{ x: 200, y: 110 }, { x: 200, y: 150 }, { x: 240, y: 150 }] });
  });

  it('Backspace takes a point back, Escape drops the mark, a second Escape puts the tool down and returns focus to the picture', async () => {
    const puts = stubDrawingsApi();
    render(<Drawable />);
    await screen.findByText('Saved');
    fireEvent.click(screen.getByRole('button', { name: 'Line' }), { detail: 0 });
    const area = screen.getByRole('application');
    await waitFor(() => expect(document.activeElement).toBe(area));
    fireEvent.keyDown(area, { key: 'Enter' });
    fireEvent.keyDown(area, { key: 'ArrowRight' });
    expect(area.dataset.draft).toBe('1');
    fireEvent.keyDown(area, { key: 'Backspace' });
    expect(area.dataset.draft).toBe('0');
    fireEvent.keyDown(area, { key: 'Enter' });
    // Keys the layer does not take go on to the player (zoom, frame steps, fullscreen): not prevented here.
    for (const key of ['+', '-', '0', ',', '.', 'f']) expect(fireEvent.keyDown(area, { key }), key).toBe(true);
    const escape = fireEvent.keyDown(area, { key: 'Escape' });
    expect(escape).toBe(false); // handled here (default prevented), so the player's own Escape does not run too
    expect(area.dataset.draft).toBe('0');
    expect(screen.getByTestId('drawing-said').textContent).toBe('Mark cancelled.');
    expect(screen.getByRole('button', { name: 'Line' }).getAttribute('aria-pressed')).toBe('true');
    fireEvent.keyDown(area, { key: 'Escape' });
    expect(screen.getByRole('button', { name: 'Line' }).getAttribute('aria-pressed')).toBe('false');
    expect(screen.queryByRole('application')).toBeNull();
    expect(document.activeElement).toBe(screen.getByTestId('stage'));
    expect(puts).toEqual([]);
  });

  it('the select tool picks the drawing under the cross', async () => {
    stubDrawingsApi();
    render(<Drawable />);
    await screen.findByText('Saved');
    fireEvent.click(screen.getByRole('button', { name: 'Line' }), { detail: 0 });
    const area = screen.getByRole('application');
    await waitFor(() => expect(document.activeElement).toBe(area));
    fireEvent.keyDown(area, { key: 'Enter' });
    for (let i = 0; i < 10; i++) fireEvent.keyDown(area, { key: 'ArrowRight' });
    fireEvent.keyDown(area, { key: 'Enter' }); // a line (200,150)–(240,150)
    expect(screen.getByTestId('drawing-value').textContent).toBe('40 px');
    fireEvent.click(screen.getByRole('button', { name: 'Select' }), { detail: 0 });
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('application')));
    const select = screen.getByRole('application');
    expect(select.getAttribute('aria-label')).toMatch(/select tool/);
    fireEvent.keyDown(select, { key: 'ArrowDown', shiftKey: true }); // 20 px off the line: nothing there
    fireEvent.keyDown(select, { key: 'Enter' });
    expect(screen.getByTestId('drawing-said').textContent).toBe('No drawing there.');
    fireEvent.keyDown(select, { key: 'ArrowUp', shiftKey: true });
    fireEvent.keyDown(select, { key: 'ArrowLeft' });
    fireEvent.keyDown(select, { key: 'Enter' });
    expect(screen.getByTestId('drawing-said').textContent).toBe('Selected line 1: 40 px. Delete removes it.');
    expect(screen.getByRole('button', { name: /^Line 1/ }).getAttribute('aria-pressed')).toBe('true');
  });
});
