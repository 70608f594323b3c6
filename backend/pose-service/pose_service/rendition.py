"""Browser-safe playback rendition, poster and scrub sprite, made in one ffmpeg pass.

One decode of the source feeds three outputs (split filter): the H.264 High / yuv420p MP4 with the source's
exact frames and presentation times (-fps_mode passthrough, encoder on the input's time base), the poster
JPEG and a strip of thumbnails. Orientation is applied by our own filters with -noautorotate, because
Debian bookworm's ffmpeg 5.1 ignores mirrored display matrices. ffmpeg 5.1 also copies the source's display
matrix into the output when autorotate is off, so the MP4 is remuxed once (PyAV) with an identity matrix
and +faststart.

A source that is already what the rendition would be (H.264 High, yuv420p, upright, square pixels, within the
size and a bitrate cap) is not re-encoded: its video packets are remuxed as they are, and ffmpeg only decodes for
the poster and sprite. Encoding a 20 s 640×480 clip cost ~2.2 s of CPU (veryfast), decoding it ~0.3 s.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from .errors import ApiError
from .pipeline import Stopped
from .probe import VideoProbe, probe_video

IDENTITY_MATRIX = [65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30]
SPRITE_MAX_TILES = 10
SPRITE_TILE_SIDE = 160
POSTER_AT_S = 1.0
# Above this a browser-safe source is still re-encoded, so a rendition streams at a phone-friendly rate
# (our encode of 1080p at CRF 23 runs ~4-8 Mbit/s).
PASSTHROUGH_MAX_BITRATE = 8_000_000


def _even(x: float, limit: int) -> int:
    """Nearest even integer to x, but never above limit (an odd source side rounds down)."""
    n = 2 * round(x / 2)
    return max(2, n if n <= limit else limit // 2 * 2)


def fit_within(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Even dimensions with the longer side ≤ max_side, aspect kept, never upscaled (pure)."""
    scale = min(1.0, max_side / max(width, height))
    return _even(width * scale, min(width, max_side)), _even(height * scale, min(height, max_side))


@dataclass(frozen=True)
class RenditionPlan:
    """Everything the ffmpeg command needs, decided from the probe alone (pure)."""

    width: int
    height: int
    poster_index: int
    sprite_indices: tuple[int, ...]
    tile_width: int
    tile_height: int
    filters: tuple[str, ...]

    @property
    def sprite_count(self) -> int:
        return len(self.sprite_indices)


def plan_rendition(probe: VideoProbe, max_side: int) -> RenditionPlan:
    width, height = fit_within(probe.display_width, probe.display_height, max_side)
    # Scale in the stored orientation first (cheaper: transposing a 4K frame costs more than a 1080p one).
    stored_w, stored_h = (height, width) if probe.orientation.rotation in (90, 270) else (width, height)
    filters: list[str] = []
    if (stored_w, stored_h) != (probe.coded_width, probe.coded_height):
        filters.append(f"scale={stored_w}:{stored_h}:flags=bicubic")
    filters += ["format=yuv420p", *probe.orientation.ffmpeg_filters(), "setsar=1"]
    duration = probe.duration_s
    poster_t = POSTER_AT_S if duration >= 2 * POSTER_AT_S else duration / 2
    count = min(SPRITE_MAX_TILES, probe.frame_count)
    sprite = sorted({probe.index_at((i + 0.5) * duration / count) for i in range(count)})
    tile_w, tile_h = fit_within(width, height, SPRITE_TILE_SIDE)
    return RenditionPlan(
        width=width,
        height=height,
        poster_index=probe.index_at(poster_t),
        sprite_indices=tuple(sprite),
        tile_width=tile_w,
        tile_height=tile_h,
        filters=tuple(filters),
    )


def passes_through(probe: VideoProbe, max_side: int, size_bytes: int) -> bool:
    """Whether the source's video stream can be the rendition as it is (pure: the probe's facts, the limit and the
    file's size): what the encode would make anyway (H.264 High, 8-bit yuv420p, no rotation or mirror, square
    pixels, within max_side) at a streamable bitrate."""
    bitrate = 8 * size_bytes / probe.duration_s if probe.duration_s > 0 else float("inf")
    return (
        probe.video_codec == "h264"
        and probe.profile == "High"
        and probe.pix_fmt == "yuv420p"
        and probe.container in ("mp4", "mov")
        and probe.orientation.rotation == 0
        and not probe.orientation.mirrored
        and probe.square_pixels
        and max(probe.display_width, probe.display_height) <= max_side
        and probe.display_width % 2 == 0
        and probe.display_height % 2 == 0
        and bitrate <= PASSTHROUGH_MAX_BITRATE
    )


def ffmpeg_command(ffmpeg: str, src: str, plan: RenditionPlan, video_out: str | None, poster_out: str,
                   sprite_out: str, preset: str, crf: int, threads: int = 0) -> list[str]:  # fmt: skip
    """The one ffmpeg invocation (pure): decode once, split into rendition, poster and sprite (without
    `video_out`, the poster and sprite only: a source that passes through is remuxed, not encoded)."""
    pick = "+".join(f"eq(n\\,{i})" for i in plan.sprite_indices)
    outputs = "[r][p][s]" if video_out else "[p][s]"
    graph = (
        f"[0:v:0]{','.join(plan.filters)},split={len(outputs) // 3}{outputs};"
        f"[p]select='eq(n\\,{plan.poster_index})'[poster];"
        f"[s]select='{pick}',scale={plan.tile_width}:{plan.tile_height},tile={plan.sprite_count}x1[sprite]"
    )
    rendition = [
        "-map", "[r]", "-an", "-sn", "-dn", "-map_metadata", "-1",
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-threads", str(threads),
        "-fps_mode", "passthrough", "-enc_time_base", "-1",
        "-f", "mp4", video_out,
    ] if video_out else []  # fmt: skip
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-threads", str(threads), "-noautorotate", "-i", src,
        "-filter_complex", graph,
        *rendition,
        "-map", "[poster]", "-frames:v", "1", "-q:v", "3", "-f", "image2", poster_out,
        "-map", "[sprite]", "-frames:v", "1", "-q:v", "5", "-f", "image2", sprite_out,
    ]  # fmt: skip


def remux_faststart(src: str, dst: str) -> None:
    """Copy the video packets into an MP4 with an identity display matrix and the moov atom first."""
    with av.open(src) as inp:
        ist = inp.streams.video[0]
        with av.open(dst, "w", format="mp4", options={"movflags": "+faststart"}) as out:
            ost = out.add_stream_from_template(ist)
            ost.set_display_matrix(IDENTITY_MATRIX)
            for packet in inp.demux(ist):
                if packet.dts is None:
                    continue
                packet.stream = ost
                out.mux(packet)


def _jpeg_size(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return int(s.codec_context.width), int(s.codec_context.height)


# How often a running ffmpeg is checked for a cancel (the worker's heartbeat notices a deleted task every 0.5 s).
STOP_POLL_S = 0.1
# A terminated ffmpeg gets this long to exit on its own before it is killed.
TERMINATE_GRACE_S = 0.5


def run_ffmpeg(cmd: list[str], log_path: Path, timeout_s: float, should_stop: Callable[[], bool] | None) -> int:
    """Run ffmpeg to its end and return its exit status, its messages in log_path (a file, not a pipe: nothing
    to drain while we wait). Every STOP_POLL_S, should_stop() is asked: when it says stop (a cancelled task, a
    worker shutting down) ffmpeg is terminated, killed after TERMINATE_GRACE_S, and Stopped is raised; the caller
    removes the partial outputs. Past timeout_s it is killed the same way and ApiError 504 is raised."""
    deadline = time.monotonic() + timeout_s
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
        try:
            while True:
                try:
                    return proc.wait(timeout=STOP_POLL_S)
                except subprocess.TimeoutExpired:
                    pass
                if should_stop is not None and should_stop():
                    raise Stopped()
                if time.monotonic() > deadline:
                    raise ApiError(504, "ingest_timeout", f"making the rendition took longer than {timeout_s:g} s")
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(TERMINATE_GRACE_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def ingest(src: Path, out_dir: Path, probe: VideoProbe, *, ffmpeg: str, max_side: int, preset: str, crf: int,
           timeout_s: int, threads: int = 0,
           should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:  # fmt: skip
    """Write rendition.mp4, poster.jpg and sprite.jpg into out_dir; the contract's ingest reply. should_stop()
    is polled while ffmpeg runs: a True stops ffmpeg at once, removes the partial files and raises Stopped."""
    if shutil.which(ffmpeg) is None:
        raise ApiError(503, "ffmpeg_missing", f"ffmpeg ({ffmpeg}) is not installed in the pose service")
    started = time.perf_counter()
    plan = plan_rendition(probe, max_side)
    final = {"video": out_dir / "rendition.mp4", "poster": out_dir / "poster.jpg", "sprite": out_dir / "sprite.jpg"}
    tag = f".tmp-{os.getpid()}-{time.monotonic_ns()}"
    tmp = {k: v.with_name(v.stem + tag + v.suffix) for k, v in final.items()}
    passthrough = passes_through(probe, max_side, src.stat().st_size)
    encoded = src if passthrough else out_dir / f"encoded{tag}.mp4"
    cmd = ffmpeg_command(ffmpeg, str(src), plan, None if passthrough else str(encoded), str(tmp["poster"]),
                         str(tmp["sprite"]), preset, crf, threads)  # fmt: skip
    errors = out_dir / f"ffmpeg{tag}.log"
    try:
        returncode = run_ffmpeg(cmd, errors, timeout_s, should_stop)
        if returncode != 0 or not encoded.exists():
            text = errors.read_text(errors="replace") if errors.exists() else ""
            last = (text.strip().splitlines() or ["no message"])[-1][:300]
            raise ApiError(422, "ingest_failed", f"ffmpeg could not make the rendition: {last}")
        if should_stop is not None and should_stop():
            raise Stopped()
        remux_faststart(str(encoded), str(tmp["video"]))
        rendition = probe_video(str(tmp["video"]))
        for key in ("video", "poster", "sprite"):
            os.replace(tmp[key], final[key])
    finally:
        for path in (*tmp.values(), errors) if passthrough else (*tmp.values(), encoded, errors):
            path.unlink(missing_ok=True)
    poster_w, poster_h = _jpeg_size(final["poster"])
    return {
        "probe": probe.to_json(),
        "rendition": {
            "path": str(final["video"]),
            "width": rendition.display_width,
            "height": rendition.display_height,
            "codec": rendition.video_codec,
            "profile": rendition.profile,
            "pix_fmt": rendition.pix_fmt,
            "frame_count": rendition.frame_count,
            "duration_s": round(rendition.duration_s, 6),
            "size": final["video"].stat().st_size,
            "encoded": not passthrough,
        },
        "poster": {
            "path": str(final["poster"]),
            "width": poster_w,
            "height": poster_h,
            "size": final["poster"].stat().st_size,
            "t": round(probe.frame_times[plan.poster_index], 6),
        },
        "sprite": {
            "path": str(final["sprite"]),
            "size": final["sprite"].stat().st_size,
            "columns": plan.sprite_count,
            "rows": 1,
            "count": plan.sprite_count,
            "interval_s": round(probe.duration_s / plan.sprite_count, 6),
            "tile_width": plan.tile_width,
            "tile_height": plan.tile_height,
            "times": [round(probe.frame_times[i], 6) for i in plan.sprite_indices],
        },
        "timing": {"seconds": round(time.perf_counter() - started, 3)},
    }
