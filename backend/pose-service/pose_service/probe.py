"""What a video file holds, read with PyAV: container, codec, display orientation, pixel shape and true frame times.

Frame times come from the video stream's packets (demuxing only, no decode of the whole stream); one frame
is decoded to prove the codec is usable and to read the display matrix that FFmpeg attaches to it.
"""

from __future__ import annotations

import math
import struct
import subprocess
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, cast

import av
import numpy as np
from av.sidedata.sidedata import Type as SideDataType

from .errors import ApiError

# Intervals within this fraction of the median (or 1.5 time-base ticks, for coarse Matroska clocks) are CFR.
CFR_TOLERANCE = 0.01


@dataclass(frozen=True)
class Orientation:
    """How stored pixels become what a viewer sees: turn `rotation` degrees clockwise, then mirror left-right."""

    rotation: int = 0
    mirrored: bool = False

    def display_size(self, width: int, height: int) -> tuple[int, int]:
        return (height, width) if self.rotation in (90, 270) else (width, height)

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        """The frame as displayed (contiguous, so native code such as MediaPipe can read it)."""
        out = rgb
        if self.rotation == 90:
            out = np.rot90(out, k=-1)
        elif self.rotation == 180:
            out = out[::-1, ::-1]
        elif self.rotation == 270:
            out = np.rot90(out, k=1)
        if self.mirrored:
            out = out[:, ::-1]
        return out if out is rgb else np.ascontiguousarray(out)

    def ffmpeg_filters(self) -> list[str]:
        """The same transform as ffmpeg filters (to run with -noautorotate)."""
        filters = {90: ["transpose=clock"], 180: ["hflip", "vflip"], 270: ["transpose=cclock"]}.get(self.rotation, [])
        return [*filters, "hflip"] if self.mirrored else filters


def _rotation_get(m: Sequence[int]) -> float:
    """av_display_rotation_get: the matrix's counterclockwise rotation in degrees (NaN if degenerate)."""
    a, b, c, d = (v / 65536.0 for v in (m[0], m[1], m[3], m[4]))
    s0, s1 = math.hypot(a, c), math.hypot(b, d)
    if s0 == 0 or s1 == 0:
        return math.nan
    return -math.degrees(math.atan2(b / s1, a / s0))


def orientation_from_display_matrix(m: Sequence[int] | None) -> Orientation:
    """Decompose an FFmpeg display matrix (9 int32, 16.16 fixed point) into rotation + mirror.

    Follows FFmpeg 7's own autorotate (fftools get_rotation and the transpose/hflip/vflip it inserts), which
    handles mirrored matrices; FFmpeg 5.1 (Debian bookworm) ignores the mirror, so we apply it ourselves.
    """
    if m is None or len(m) < 9:
        return Orientation()
    ccw = _rotation_get(m)
    if not math.isfinite(ccw):
        return Orientation()
    theta = -round(ccw)
    theta -= 360 * math.floor(theta / 360 + 0.9 / 360)  # clockwise degrees in [0, 360)
    quarter = round(theta / 90) % 4 * 90
    if quarter == 90:
        return Orientation(90, m[3] > 0)  # FFmpeg: transpose=cclock_flip (= clockwise, then hflip)
    if quarter == 270:
        return Orientation(270, m[3] < 0)  # FFmpeg: transpose=clock_flip (= counterclockwise, then hflip)
    if quarter == 180:
        hflip, vflip = m[0] < 0, m[4] < 0
        if hflip and vflip:
            return Orientation(180, False)
        if hflip:
            return Orientation(0, True)
        return Orientation(180, True) if vflip else Orientation(0, False)
    return Orientation(180, True) if m[4] < 0 else Orientation(0, False)  # 0°; a vflip alone = 180° + hflip


def frame_rate_mode(times: Sequence[float], time_base: float) -> str:
    """'vfr' when any frame interval strays from the median beyond the tolerance, else 'cfr' (pure)."""
    if len(times) < 3:
        return "cfr"
    dt = np.diff(np.asarray(times, dtype=np.float64))
    median = float(np.median(dt))
    tolerance = max(CFR_TOLERANCE * median, 1.5 * time_base)
    return "vfr" if float(np.max(np.abs(dt - median))) > tolerance else "cfr"


def _container_name(fmt_name: str, major_brand: str | None, head: bytes) -> str:
    names = fmt_name.split(",")
    if "mov" in names or "mp4" in names:
        return "mov" if (major_brand or "").strip() == "qt" else "mp4"
    if "matroska" in names or "webm" in names:
        return "webm" if b"webm" in head[:64] else "mkv"
    return names[0]


@dataclass
class VideoProbe:
    """Facts about one video file (docs/contracts.md, POST /v1/probe)."""

    container: str
    video_codec: str
    profile: str | None
    pix_fmt: str
    bit_depth: int
    coded_width: int
    coded_height: int
    orientation: Orientation
    fps: float
    frame_count: int
    duration_s: float
    has_audio: bool
    pts: list[int] = field(repr=False)  # presentation order, stream time base
    time_base: Fraction = Fraction(1, 1)
    frame_times: list[float] = field(default_factory=list, repr=False)
    frame_rate_mode: str = "cfr"
    # Width:height of one stored pixel (1 = square); internal, not in to_json: it decides whether a source can be
    # the rendition as it is (rendition.passes_through), and no reply or document carries it.
    sample_aspect_ratio: Fraction = Fraction(1, 1)

    @property
    def square_pixels(self) -> bool:
        return self.sample_aspect_ratio == 1

    @property
    def display_width(self) -> int:
        return self.orientation.display_size(self.coded_width, self.coded_height)[0]

    @property
    def display_height(self) -> int:
        return self.orientation.display_size(self.coded_width, self.coded_height)[1]

    @property
    def peak_fps(self) -> float:
        """The highest instantaneous frame rate (1 / shortest frame interval); the average for one frame."""
        steps = [b - a for a, b in zip(self.frame_times, self.frame_times[1:], strict=False) if b > a]
        return max(self.fps, 1.0 / min(steps)) if steps else self.fps

    def index_of_pts(self, pts: int) -> int | None:
        i = bisect_left(self.pts, pts)
        return i if i < len(self.pts) and self.pts[i] == pts else None

    def index_at(self, t: float) -> int:
        """The first frame shown at or after t seconds (the last frame if t is past the end)."""
        return min(bisect_left(self.frame_times, t - 1e-9), self.frame_count - 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "video_codec": self.video_codec,
            "profile": self.profile,
            "pix_fmt": self.pix_fmt,
            "bit_depth": self.bit_depth,
            "coded_width": self.coded_width,
            "coded_height": self.coded_height,
            "rotation": self.orientation.rotation,
            "mirrored": self.orientation.mirrored,
            "display_width": self.display_width,
            "display_height": self.display_height,
            "fps": round(self.fps, 4),
            "frame_rate_mode": self.frame_rate_mode,
            "frame_count": self.frame_count,
            "duration_s": round(self.duration_s, 6),
            "has_audio": self.has_audio,
            "frame_times": [round(t, 6) for t in self.frame_times],
        }


def _unsupported(detail: str) -> ApiError:
    return ApiError(415, "unsupported_media", detail)


def _codec_tag(path: str) -> str:
    """The stream's codec tag (e.g. a FourCC) when PyAV knows no codec for it: ask ffprobe, for the message only."""
    try:
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_tag_string",
             "-of", "default=nw=1:nk=1", path], capture_output=True, text=True, timeout=10, check=False,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    return out[:32] or "unknown"


def _display_matrix(frame: av.VideoFrame) -> list[int] | None:
    try:
        sd = cast(Any, frame.side_data)[SideDataType.DISPLAYMATRIX]
    except KeyError:
        return None
    return list(struct.unpack("<9i", bytes(sd)[:36]))


def _bit_depth(pix_fmt: str) -> int:
    try:
        return int(av.VideoFormat(pix_fmt).components[0].bits)
    except Exception:
        return 8


def probe_video(path: str) -> VideoProbe:
    """Probe a file; ApiError 415 'unsupported_media' names what cannot be read, 422 'empty_video' if no frame."""
    with open(path, "rb") as fh:
        head = fh.read(64)
    try:
        container = av.open(path, metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, OSError) as exc:
        raise _unsupported(
            f"no container ffmpeg can read ({type(exc).__name__}); send an MP4, MOV or WebM video"
        ) from None
    with container:
        if not container.streams.video:
            raise _unsupported("the file has no video stream")
        stream = container.streams.video[0]
        cc = stream.codec_context
        codec = cc.codec.canonical_name if cc is not None and cc.codec is not None else None
        if codec is None:
            tag = _codec_tag(path)
            raise _unsupported(f"the video codec {tag!r} cannot be decoded here (no decoder for it)")
        time_base = stream.time_base or Fraction(1, 90000)
        # FFmpeg's 0/1 (or none) means "unknown": square, as players show it.
        sar = cc.sample_aspect_ratio or Fraction(1, 1)
        # Demux only the video stream: packet pts in presentation order are the frame times.
        pts: list[int] = []
        last_pts, last_duration = None, 0
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or packet.is_discard:
                    continue
                p = packet.pts if packet.pts is not None else packet.dts
                if p is None:
                    continue
                pts.append(int(p))
                if last_pts is None or p > last_pts:
                    last_pts, last_duration = int(p), int(packet.duration or 0)
        except av.error.FFmpegError:
            pass  # a truncated tail: the frames before it still count
        if not pts:
            raise ApiError(422, "empty_video", "the video contains no frames")
        pts.sort()
        # One decoded frame proves the codec works here and carries the display matrix as side data.
        container.seek(0)
        first = None
        try:
            for frame in container.decode(stream):
                first = frame
                break
        except av.error.FFmpegError as exc:
            raise _unsupported(f"the {codec} video stream could not be decoded: {exc}") from None
        if first is None:
            raise _unsupported(f"no frame of the {codec} video stream could be decoded")
        pix_fmt = first.format.name
        width, height = first.width, first.height
        orientation = orientation_from_display_matrix(_display_matrix(first))
        profile = stream.profile
        has_audio = bool(container.streams.audio)
        major_brand = container.metadata.get("major_brand")
        fmt_name = container.format.name
    tb = float(time_base)
    times = [(p - pts[0]) * tb for p in pts]
    steps = np.diff(times)
    step = float(np.median(steps)) if len(steps) else 0.0
    duration = times[-1] + (last_duration * tb if last_duration > 0 else step)
    if duration <= 0:
        duration = step or 1.0 / 30.0
    return VideoProbe(
        container=_container_name(fmt_name, major_brand, head),
        video_codec=codec,
        profile=profile,
        pix_fmt=pix_fmt,
        bit_depth=_bit_depth(pix_fmt),
        coded_width=width,
        coded_height=height,
        orientation=orientation,
        fps=len(times) / duration,
        frame_count=len(times),
        duration_s=duration,
        has_audio=has_audio,
        pts=pts,
        time_base=time_base,
        frame_times=times,
        frame_rate_mode=frame_rate_mode(times, tb),
        sample_aspect_ratio=sar,
    )
