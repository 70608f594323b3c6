"""NaN-aware tools over a clip's time series: frames where the rider was not seen stay NaN and never pull a
neighbour's value toward zero."""

from __future__ import annotations

import math

import numpy as np

# Smoothing kernel width: long enough to kill jitter at 30-60 fps, short enough to keep a 0.3 s pop.
SMOOTH_SIGMA_S = 0.08


def frame_step(t: np.ndarray) -> float:
    """The median interval between frames (s); 1/30 s when the clip has fewer than two distinct times."""
    dt = np.diff(t)
    dt = dt[dt > 0]
    return float(np.median(dt)) if len(dt) else 1.0 / 30.0


def rolling_nanmedian(x: np.ndarray, half: int) -> np.ndarray:
    """Median of the finite values within `half` samples either side; NaN where there are none."""
    out = np.full_like(x, np.nan)
    for i in range(len(x)):
        w = x[max(0, i - half) : i + half + 1]
        w = w[np.isfinite(w)]
        if len(w):
            out[i] = np.median(w)
    return out


def interp_gaps(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Missing samples between the first and last finite one filled linearly in time; the ends stay NaN."""
    ok = np.isfinite(x)
    if ok.sum() < 2:
        return x.copy()
    out = x.copy()
    inside = (t >= t[ok][0]) & (t <= t[ok][-1])
    out[inside] = np.interp(t[inside], t[ok], x[ok])
    return out


def smooth(t: np.ndarray, x: np.ndarray, sigma_s: float = SMOOTH_SIGMA_S) -> np.ndarray:
    """Gaussian smoothing that skips missing samples (normalised convolution); NaN stays NaN."""
    ok = np.isfinite(x)
    if not ok.any():
        return x.copy()
    sigma = max(sigma_s / frame_step(t), 1e-6)
    half = max(1, math.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    # Full convolution then slicing stays aligned even when the kernel is longer than the clip.
    n = len(x)
    num = np.convolve(np.where(ok, x, 0.0), k)[half : half + n]
    den = np.convolve(ok.astype(np.float64), k)[half : half + n]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[~ok] = np.nan
    return out
