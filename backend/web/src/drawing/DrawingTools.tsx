import { drawingLabel, type Drawing } from './model';
import type { DrawingController, DrawingTool } from './useDrawings';

const TOOLS: { tool: DrawingTool; label: string; hint: string }[] = [
  { tool: 'line', label: 'Line', hint: 'Tap the two ends of the line on the picture.' },
  { tool: 'angle', label: 'Angle', hint: 'Tap one end, then the vertex (e.g. the knee), then the other end.' },
  { tool: 'select', label: 'Select', hint: 'Tap a drawing to select it, then Delete removes it.' },
];
const KEYBOARD_HINT = 'Keyboard: arrow keys move the cross on the picture, Enter places a point.';

/**
 * A tool chosen from the keyboard (a click with no pointer: detail 0) hands focus to the drawing layer of the same
 * player, which becomes focusable once the tool is set (next frame), so arrow keys and Enter draw at once.
 */
function focusLayerFrom(button: HTMLElement) {
  const player = button.closest('.player');
  requestAnimationFrame(() => player?.querySelector<HTMLCanvasElement>('canvas.drawing-layer')?.focus());
}

const SAVE_TEXT = { loading: 'Loading drawings…', saving: 'Saving…', saved: 'Saved', error: 'Not saved' } as const;

/** The drawing tools (line, angle, select, delete, clear the frame), the save state, and the frame's drawings as a list. */
export function DrawingTools({ ctl, shown }: { ctl: DrawingController; shown: Drawing[] }) {
  const active = TOOLS.find((t) => t.tool === ctl.tool);
  return (
    <div className="draw-panel">
      <div className="draw-tools" role="group" aria-label="Drawing tools">
        {ctl.readOnly ? (
          <span className="muted small">Drawings are read-only here: only the video's owner can change them.</span>
        ) : (
          <>
            {TOOLS.map((t) => (
              <button
                key={t.tool}
                type="button"
                className="btn btn-sm"
                aria-pressed={ctl.tool === t.tool}
                onClick={(e) => {
                  const next = ctl.tool === t.tool ? null : t.tool;
                  ctl.setTool(next);
                  if (next && e.detail === 0) focusLayerFrom(e.currentTarget);
                }}>
                {t.label}
              </button>
            ))}
            <button type="button" className="btn btn-sm" disabled={!ctl.selectedId} onClick={() => ctl.selectedId && ctl.remove(ctl.selectedId)} title="Delete the selected drawing (Delete key)">
              Delete
            </button>
            <button type="button" className="btn btn-sm" disabled={shown.length === 0} onClick={() => ctl.removeMany(shown.map((d) => d.id))}>
              Clear frame
            </button>
          </>
        )}
        <span className={`draw-status small${ctl.save === 'error' ? ' is-error' : ''}`} data-testid="drawings-status" data-state={ctl.save} role="status">
          {ctl.error ?? SAVE_TEXT[ctl.save]}
        </span>
      </div>
      {active && <p className="draw-hint small muted">{active.hint} {KEYBOARD_HINT} Esc stops drawing.</p>}
      {shown.length > 0 && (
        <ul className="draw-list" aria-label="Drawings on this frame" data-testid="drawings-on-frame">
          {shown.map((d, i) => (
            <li key={d.id} data-kind={d.kind}>
              <button type="button" className="btn btn-sm" aria-pressed={ctl.selectedId === d.id} disabled={ctl.readOnly} onClick={() => ctl.select(ctl.selectedId === d.id ? null : d.id)}>
                {d.kind === 'angle' ? 'Angle' : 'Line'} {i + 1}: <span data-testid="drawing-value">{drawingLabel(d)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
