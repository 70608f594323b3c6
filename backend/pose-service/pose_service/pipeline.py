"""The video pose pipeline, without Flask: probe → decode the sampled frames → pose → rider tracking → metrics.

The view (views/pose.py) and the benchmark (bench/bench_pose.py) both call analyse_video; the pose workers
(pose_service/worker) run the same track_on_grid over one segment at a time.

The fixed grid: the tracker starts afresh every FRAMES_PER_CHUNK analysed frames, after a warm-up over the
WARMUP_FRAMES analysed frames before the block. A block's poses then depend only on its own frames and its
warm-up, never on where a segment began, so a video cut into segments (whole multiples of the grid) gives
bit-identical keypoints to one pass, and a segment's overlap frames tell the join who is who across the cut.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .backends.base import FramePoses, PoseBackend, SampledFrame
from .errors import ApiError
from .media import Sampling, analysis_scale, decode_frames, sample_indices
from .metrics.compute import compute_metrics
from .probe import VideoProbe, probe_video
from .runtime import PoseRuntime
from .tracking import BlockPoses, choose_rider, join_blocks, rider_track

# Analysed frames per tracker block; also the pose_frames chunk size (backend/src/db.ts FRAMES_PER_CHUNK).
FRAMES_PER_CHUNK = 100
# Frames a fresh tracker sees before its block starts: MediaPipe's detector → ROI tracking and its landmark
# smoothing settle within a few frames; the same frames are the overlap the join matches identities on.
WARMUP_FRAMES = 8


class Stopped(Exception):
    """Raised between frames when the caller's should_stop() says so (cancelled task, worker shutting down)."""


@dataclass
class GridBlock:
    """One grid block's poses: chunk = first ordinal // FRAMES_PER_CHUNK; keypoints in display pixels."""

    chunk: int
    warmup: list[FramePoses]
    frames: list[FramePoses]
    ordinals: list[int]


def track_on_grid(backend: PoseBackend, decoded: Iterable[SampledFrame], ordinal_of: dict[int, int], start: int,
                  end: int, to_display: float = 1.0, should_stop: Callable[[], bool] | None = None,
                  partial: Callable[[GridBlock], None] | None = None,
                  partial_every: int = 25) -> Iterator[GridBlock]:  # fmt: skip
    """Poses for the analysed ordinals [start, end) (start on the grid), one fresh tracker per grid block.

    `decoded` yields the sampled frames from ordinal max(0, start - WARMUP_FRAMES) on, in order; ordinal_of maps
    a source frame index to its analysed ordinal (frames that failed to decode are simply absent). Frames are
    consumed lazily, so should_stop() is checked before every frame and raises Stopped within one frame's time.
    partial(block so far) is called after every `partial_every` analysed frames of a block (not after its last:
    the whole block is yielded then), so a caller can show a block's first frames early; the frames are the
    same objects the finished block holds, so partial and whole agree to the bit.
    """
    if start % FRAMES_PER_CHUNK:
        raise ValueError(f"a segment must start on the grid of {FRAMES_PER_CHUNK} frames, got {start}")
    source = iter(decoded)
    pending: tuple[int, SampledFrame] | None = None
    recent: deque[tuple[int, SampledFrame]] = deque(maxlen=WARMUP_FRAMES)

    def pull() -> tuple[int, SampledFrame] | None:
        nonlocal pending
        if pending is None:
            for f in source:
                o = ordinal_of.get(f.index)
                if o is not None:
                    pending = (o, f)
                    break
        return pending

    for block_start in range(start, end, FRAMES_PER_CHUNK):
        block_end = min(block_start + FRAMES_PER_CHUNK, end)
        while (nxt := pull()) is not None and nxt[0] < block_start:
            recent.append(nxt)  # warm-up frames before the segment's first block
            pending = None
        warm = [f for o, f in recent if o >= block_start - WARMUP_FRAMES]
        ordinals: list[int] = []

        def feed(warm: list[SampledFrame] = warm, block_end: int = block_end,
                 ordinals: list[int] = ordinals) -> Iterator[SampledFrame]:  # fmt: skip
            nonlocal pending
            for f in warm:
                if should_stop is not None and should_stop():
                    raise Stopped()
                yield f
            while (nxt := pull()) is not None and nxt[0] < block_end:
                if should_stop is not None and should_stop():
                    raise Stopped()
                pending = None
                recent.append(nxt)
                ordinals.append(nxt[0])
                yield nxt[1]

        first = pull()
        if first is None or first[0] >= block_end:
            yield GridBlock(block_start // FRAMES_PER_CHUNK, [], [], [])
            continue
        out: list[FramePoses] = []
        for fp in backend.track_frames(feed()):
            fp.persons = [p.scaled(to_display) for p in fp.persons]
            out.append(fp)
            done = len(out) - len(warm)
            if partial is not None and done > 0 and done % partial_every == 0 and ordinals[done - 1] + 1 < block_end:
                partial(GridBlock(block_start // FRAMES_PER_CHUNK, out[: len(warm)], out[len(warm) :], ordinals[:done]))
        yield GridBlock(block_start // FRAMES_PER_CHUNK, out[: len(warm)], out[len(warm) :], ordinals)


def joined_frames(blocks: Sequence[GridBlock], single_person: bool) -> list[FramePoses]:
    """All blocks' frames in order with one track id per person across the grid (see tracking.join_blocks)."""
    mappings = join_blocks([BlockPoses(b.warmup, b.frames) for b in blocks], single_person)
    out: list[FramePoses] = []
    for b, mapping in zip(blocks, mappings, strict=True):
        for f in b.frames:
            for p in f.persons:
                if p.track_id is not None:
                    p.track_id = mapping.get(p.track_id, p.track_id)
            out.append(f)
    return out


def _probe_for_pose(video_path: str) -> VideoProbe:
    """The probe, with this route's historical error: an unreadable stream is 422 'undecodable_video'."""
    try:
        return probe_video(video_path)
    except ApiError as err:
        if err.code == "unsupported_media":
            raise ApiError(422, "undecodable_video", f"the video cannot be decoded: {err.detail}") from None
        raise


def video_json(probe: VideoProbe) -> dict[str, Any]:
    """The 'video' object of a pose reply: display size, true average fps, orientation and codec."""
    return {
        "fps": round(probe.fps, 4),
        "frame_count": probe.frame_count,
        "width": probe.display_width,
        "height": probe.display_height,
        "duration_s": round(probe.duration_s, 4),
        "rotation": probe.orientation.rotation,
        "mirrored": probe.orientation.mirrored,
        "frame_rate_mode": probe.frame_rate_mode,
        "codec": probe.video_codec,
    }


def analyse_video(rt: PoseRuntime, video_path: str, sampling: Sampling, analysis_max_side: int) -> dict[str, Any]:
    """The body of a /v1/pose/video reply for a ready runtime; raises ApiError for a video it cannot analyse."""
    assert rt.backend is not None
    started = time.perf_counter()
    probe = _probe_for_pose(video_path)
    # A variable-frame-rate clip may be sampled up to its fastest stretch (its average is lower).
    if sampling.sample_fps is not None and sampling.sample_fps > round(probe.peak_fps, 3) + 1e-6:
        raise ApiError(400, "invalid_option", f"sample_fps must be ≤ the video's frame rate ({probe.peak_fps:.3f})")
    if sampling.start_s >= probe.duration_s:
        raise ApiError(400, "invalid_option", f"start_s is beyond the video's duration ({probe.duration_s:.3f} s)")
    indices = sample_indices(probe.frame_times, probe.duration_s, sampling)
    # Frames shrunk for the model: keypoints back to display pixels.
    factor = 1.0 / analysis_scale(probe.coded_width, probe.coded_height, analysis_max_side)
    ordinal_of = {index: o for o, index in enumerate(indices)}
    decoded = decode_frames(video_path, probe, indices, analysis_max_side)
    blocks = list(track_on_grid(rt.backend, decoded, ordinal_of, 0, len(indices), factor))
    frames = joined_frames(blocks, single_person=rt.backend.max_persons == 1)
    if not frames and indices:
        raise ApiError(422, "undecodable_video", "no frame could be decoded: the stream is corrupt")
    rider = choose_rider(frames)
    metrics = compute_metrics(rider_track(frames, rider))
    seconds = time.perf_counter() - started
    return {
        "backend": rt.backend_name,
        "device": rt.device,
        "video": video_json(probe),
        "rider_track_id": rider,
        "frames": [{"index": f.index, "t": round(f.t, 6), "persons": [p.to_json() for p in f.persons]} for f in frames],
        "metrics": metrics,
        "timing": {
            "seconds": round(seconds, 3),
            "frames_per_second": round(len(frames) / seconds, 2) if seconds else None,
        },
    }
