"""Recognising and decoding uploads: images by magic bytes (OpenCV decodes them), videos with PyAV."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO

import av
import cv2
import numpy as np

from .backends.base import SampledFrame
from .errors import ApiError
from .imagesize import HeaderError, image_size
from .probe import VideoProbe


def sniff_image(head: bytes) -> str | None:
    """'jpeg' | 'png' | 'webp' from the first bytes, else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


# ISO-BMFF (mp4/mov) starts with a box whose type is one of these; QuickTime files may open with
# 'wide', 'free', 'mdat' or 'moov' instead of 'ftyp'.
_BMFF_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def sniff_video(head: bytes) -> str | None:
    """'mp4' (mp4/mov family) | 'webm' (Matroska/WebM) from the first bytes, else None."""
    if len(head) >= 8 and head[4:8] in _BMFF_BOXES:
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    return None


def decode_image(stream: IO[bytes], max_pixels: int) -> np.ndarray:
    """RGB uint8 pixels of a JPEG/PNG/WebP upload, or an ApiError saying what is wrong with it.

    The dimensions come from the header before anything is decoded, so a decompression bomb costs nothing.
    """
    kind = sniff_image(stream.read(16))
    stream.seek(0)
    if kind is None:
        raise ApiError(415, "unsupported_media_type", "the 'image' file is not a JPEG, PNG or WebP image")
    try:
        width, height = image_size(stream, kind)
    except HeaderError:
        raise ApiError(
            422, "corrupt_image", f"the {kind} image header is unreadable; the file may be truncated"
        ) from None
    if width * height > max_pixels:
        raise ApiError(
            413,
            "image_too_large",
            f"the image is {width}×{height} = {width * height} pixels, over the limit of {max_pixels} "
            "(POSE_MAX_IMAGE_PIXELS); downscale it",
        )
    buf = np.frombuffer(stream.read(), dtype=np.uint8)
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ApiError(422, "corrupt_image", f"the {kind} image could not be decoded; the file may be truncated")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@dataclass(frozen=True)
class Sampling:
    """Which frames to analyse; None means 'no limit' for the optional fields."""

    sample_fps: float | None = None
    max_frames: int | None = None
    start_s: float = 0.0
    end_s: float | None = None


def sample_indices(times: Sequence[float], duration_s: float, sampling: Sampling) -> list[int]:
    """Frames (presentation order) to analyse: the first frame at or after each tick of the sample clock.

    `times` are the frames' true presentation times from the start, so a variable-frame-rate clip is
    sampled by time, not by frame count (pure).
    """
    start = max(0.0, sampling.start_s)
    end = duration_s if sampling.end_s is None else min(sampling.end_s, duration_s)
    steps = np.diff(np.asarray(times, dtype=np.float64))
    # Half a source frame of slack absorbs float error in the frame times versus the tick times.
    eps = 0.5 * float(np.median(steps)) if len(steps) else 0.0
    step = 1.0 / sampling.sample_fps if sampling.sample_fps else 0.0
    out: list[int] = []
    next_tick = start
    for i, t in enumerate(times):
        if t < start - 1e-9:
            continue
        if t >= end - 1e-9:
            break
        if t + eps >= next_tick:
            out.append(i)
            if sampling.max_frames is not None and len(out) >= sampling.max_frames:
                break
            if step:
                while next_tick <= t + eps:
                    next_tick += step
    return out


def analysis_scale(width: int, height: int, max_side: int) -> float:
    """Factor (≤ 1) that brings the longer side down to max_side; pose models see ~256 px anyway (pure)."""
    longest = max(width, height)
    return 1.0 if longest <= max_side else max_side / longest


# A window that starts later than this is reached by seeking to the keyframe before it, not by decoding up to it.
SEEK_AFTER_S = 2.0


def decode_frames(path: str, probe: VideoProbe, indices: Sequence[int], max_side: int) -> Iterator[SampledFrame]:
    """Decode with PyAV and yield the wanted frames as RGB in display orientation.

    Each frame's t is its presentation time relative to the first frame and its index its position in
    presentation order, both found from its pts in the probe (so seeking cannot shift them). Frames larger
    than max_side are scaled down for the model (SampledFrame.scale). A truncated stream ends the iteration.
    """
    if not indices:
        return
    first, last = min(indices), max(indices)
    if first > 0 and probe.frame_times[first] > SEEK_AFTER_S:
        got_any = False
        for frame in _decode(path, probe, set(indices), last, max_side, probe.pts[first]):
            if not got_any and frame.index > first:
                break  # the seek landed past the window's start: decode from the beginning instead
            got_any = True
            yield frame
        if got_any:
            return
    yield from _decode(path, probe, set(indices), last, max_side, None)


def _decode(path: str, probe: VideoProbe, wanted: set[int], last: int, max_side: int,
            seek_pts: int | None) -> Iterator[SampledFrame]:  # fmt: skip
    scale = analysis_scale(probe.coded_width, probe.coded_height, max_side)
    width = max(2, round(probe.coded_width * scale))
    height = max(2, round(probe.coded_height * scale))
    tb = float(probe.time_base)
    with av.open(path, metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        position = -1
        try:
            if seek_pts is not None:
                container.seek(seek_pts, stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                index = probe.index_of_pts(frame.pts) if frame.pts is not None else None
                if index is None and seek_pts is not None:
                    continue  # after a seek only a known pts says where we are
                position = index if index is not None else position + 1
                if position > last:
                    return
                if position not in wanted:
                    continue
                rgb = frame.to_ndarray(width=width, height=height, format="rgb24")
                t = (frame.pts - probe.pts[0]) * tb if frame.pts is not None else probe.frame_times[position]
                yield SampledFrame(position, t, probe.orientation.apply(rgb), scale)
        except av.error.FFmpegError:
            return  # truncated or corrupt tail: analyse what decoded
