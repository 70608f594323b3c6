import { useState } from 'react';
import { errorMessage } from '../api/errors';
import { SAMPLE_CLIP, uploads, type UploadStore } from '../upload/store';

/**
 * One click: the shipped sample clip is fetched and uploaded as the user's own video, through the same upload
 * store as any clip (its row and the header follow it to Ready), and analysed for real.
 */
export function SampleClipButton({ store = uploads }: { store?: UploadStore }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const res = await fetch(SAMPLE_CLIP.url);
      if (!res.ok) throw new Error(`the sample clip could not be loaded (HTTP ${res.status})`);
      const file = new File([await res.blob()], SAMPLE_CLIP.name, { type: 'video/mp4' });
      store.start({ file, role: 'rider', title: SAMPLE_CLIP.title });
    } catch (e) {
      setError(`Could not start the sample: ${errorMessage(e)}. Try again, or upload a clip of your own.`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="sample-clip">
      <button type="button" className="btn btn-primary" onClick={start} disabled={busy} data-testid="sample-clip">
        {busy ? 'Starting the sample…' : 'Try the sample clip'}
      </button>
      <span className="muted small">A 3-second clip of a person, uploaded to your library and analysed like your own.</span>
      {error && (
        <p className="inline-error small" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** Filming advice for a first visit: what makes a clip analysable, and a sample to try. */
export function FirstRun() {
  return (
    <div className="state state-empty first-run" data-testid="first-run">
      <div className="state-title">Your runs, as a skeleton you can study</div>
      <div className="state-body">
        <p>Upload a clip of a run: the app finds the rider, draws their skeleton on every frame, shows it in 3D and charts rotation, knee flex and air time, so you can compare a run with a reference.</p>
        <p>
          <strong>How to film:</strong>
        </p>
        <ul>
          <li>Keep the whole body in frame, from board to head, for the whole trick.</li>
          <li>Landscape or portrait both work.</li>
          <li>Hold the camera steady (or on a tripod); follow the rider smoothly rather than zooming.</li>
        </ul>
        <SampleClipButton />
      </div>
    </div>
  );
}
