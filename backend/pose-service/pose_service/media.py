"""Recognising and decoding uploads: images by magic bytes, videos with OpenCV (FFmpeg inside)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from .backends.base import SampledFrame
from .errors import ApiError


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


def decode_image(data: bytes, max_pixels: int) -> np.ndarray:
    """RGB uint8 pixels of a JPEG/PNG/WebP upload, or an ApiError saying what is wrong with it."""
    kind = sniff_image(data[:16])
    if kind is None:
        raise ApiError(415, "unsupported_media_type", "the 'image' file is not a JPEG, PNG or WebP image")
    buf = np.frombuffer(data, dtype=np.uint8)
    # Read the header first so a decompression bomb is refused before its pixels are allocated.
    header = cv2.imdecode(buf, cv2.IMREAD_REDUCED_COLOR_8)
    if header is None:
        raise ApiError(422, "corrupt_image", f"the {kind} image could not be decoded; the file may be truncated")
    if header.shape[0] * header.shape[1] * 64 > max_pixels:
        raise ApiError(413, "image_too_large", f"the image has more than {max_pixels} pixels; downscale it")
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ApiError(422, "corrupt_image", f"the {kind} image could not be decoded; the file may be truncated")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@dataclass(frozen=True)
class VideoInfo:
    fps: float
    frame_count: int
    width: int
    height: int

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps if self.fps > 0 else 0.0

    def to_json(self) -> dict[str, float | int]:
        return {
            "fps": round(self.fps, 4),
            "frame_count": self.frame_count,
            "width": self.width,
            "height": self.height,
            "duration_s": round(self.duration_s, 4),
        }


@dataclass(frozen=True)
class Sampling:
    """Which frames to analyse; None means 'no limit' for the optional fields."""

    sample_fps: float | None = None
    max_frames: int | None = None
    start_s: float = 0.0
    end_s: float | None = None


def sample_indices(info: VideoInfo, sampling: Sampling) -> list[int]:
    """Source frame numbers to analyse: the first frame at or after each tick of the sample clock (pure)."""
    fps = info.fps
    start = max(0.0, sampling.start_s)
    end = info.duration_s if sampling.end_s is None else min(sampling.end_s, info.duration_s)
    step = 1.0 / (sampling.sample_fps or fps)
    # Half a source frame of slack absorbs float error in i/fps versus the tick times.
    eps = 0.5 / fps
    out: list[int] = []
    first = max(0, math.ceil(start * fps - 1e-9))
    next_tick = start
    for i in range(first, info.frame_count):
        t = i / fps
        if t >= end - 1e-9:
            break
        if t + eps >= next_tick:
            out.append(i)
            if sampling.max_frames is not None and len(out) >= sampling.max_frames:
                break
            while next_tick <= t + eps:
                next_tick += step
    return out


class VideoReader:
    """An opened video file; raises ApiError for anything undecodable (corrupt, unknown codec, empty)."""

    def __init__(self, path: str):
        self.path = path
        self.cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
        if not self.cap.isOpened():
            self.cap.release()
            raise ApiError(
                422, "undecodable_video", "the video could not be opened: corrupt file or unsupported container"
            )
        fps = float(self.cap.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        width = int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        height = int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        ok, first = self.cap.read()
        if not ok or first is None:
            self.cap.release()
            if count <= 0:
                raise ApiError(422, "empty_video", "the video contains no frames")
            raise ApiError(
                422, "undecodable_video", "no frame could be decoded: the codec is unsupported or the stream is corrupt"
            )
        if not math.isfinite(fps) or fps <= 0 or fps > 1000:
            self.cap.release()
            raise ApiError(422, "undecodable_video", "the video does not declare a usable frame rate")
        if count <= 0:
            # Some containers (WebM) carry no frame count; count by decoding once, cheaply with grab().
            count = 1
            while self.cap.grab():
                count += 1
        self._first: np.ndarray | None = first
        self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        height, width = first.shape[:2] if (height <= 0 or width <= 0) else (height, width)
        self.info = VideoInfo(fps=fps, frame_count=count, width=width, height=height)

    def frames(self, indices: list[int]) -> Iterator[SampledFrame]:
        """Decode sequentially (seeking is inexact for many codecs) and yield the wanted frames as RGB."""
        wanted = set(indices)
        last = indices[-1] if indices else -1
        cap = cv2.VideoCapture(self.path, cv2.CAP_FFMPEG)
        try:
            for i in range(last + 1):
                if i in wanted:
                    ok, bgr = cap.read()
                    if not ok or bgr is None:
                        return  # truncated stream: analyse what decoded
                    yield SampledFrame(i, i / self.info.fps, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                elif not cap.grab():
                    return
        finally:
            cap.release()

    def close(self) -> None:
        self.cap.release()
        self._first = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
