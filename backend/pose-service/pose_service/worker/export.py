"""The export task (issue 18, item 9): an MP4 of the clip with the rider's skeleton drawn on it.

The API inserts an `exports` record and one task of kind `export` whose `jobId` is the export's id (not the
analysis job's), so the queue's job-scoped writes — stage, attempts, failing a job — match no analysis job; this
module keeps the export record itself: state, framesDone / framesTotal, progress, the GridFS file.

Frames come from the rendition (display orientation, the original's exact frames), are decoded with PyAV, get the
skeleton painted with OpenCV in the web overlay's confidence styling (pose/skeleton.ts: solid at or above
summary.joint_score_min, faded and dashed from half of it, not drawn below), and are piped as raw RGB into the
image's ffmpeg (libx264, yuv420p, +faststart). ffmpeg reads them at the clip's mean frame rate (frame count and
duration are the clip's); a variable-frame-rate clip is encoded without B-frames and its packets then get the
rendition's own frame times (retime), so it plays with the clip's timing.
"""

from __future__ import annotations

import contextlib
import logging
import math
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from bson import ObjectId
from pymongo.errors import PyMongoError

from ..errors import ApiError
from ..media import decode_frames
from ..metrics.track import VISIBLE_SCORE
from ..pipeline import Stopped
from ..probe import probe_video
from .context import InputError, VideoGone, WorkerContext
from .queue import utcnow

log = logging.getLogger(__name__)

Doc = dict[str, Any]
RGB = tuple[int, int, int]

# pose/skeleton.ts: COCO-17 limbs with their body side, the side colours, the faded share and alpha.
SKELETON_EDGES: tuple[tuple[int, int, str], ...] = (
    (0, 1, "left"), (0, 2, "right"), (1, 3, "left"), (2, 4, "right"),
    (5, 6, "center"), (5, 7, "left"), (7, 9, "left"), (6, 8, "right"), (8, 10, "right"),
    (5, 11, "left"), (6, 12, "right"), (11, 12, "center"),
    (11, 13, "left"), (13, 15, "left"), (12, 14, "right"), (14, 16, "right"),
)  # fmt: skip
SIDE_COLORS: dict[str, RGB] = {"left": (0x38, 0xBD, 0xF8), "right": (0xF4, 0x72, 0xB6), "center": (0xE2, 0xE8, 0xF0)}
JOINT_COLOR: RGB = (0xFD, 0xE0, 0x47)
HALO_COLOR: RGB = (2, 6, 23)
HALO_ALPHA = 0.55
UNSURE_SHARE = 0.5
FADED_ALPHA = 0.4

# Progress is written at most this often (one small update; the API polls it).
PROGRESS_EVERY_S = 0.5
EXPORT_PRESET = "veryfast"
EXPORT_CRF = 23


def joint_confidence(score: float, min_score: float) -> str:
    """'seen' | 'unsure' | 'hidden', as the web overlay decides it (pure)."""
    if not math.isfinite(score):
        return "hidden"
    if score >= min_score:
        return "seen"
    return "unsure" if score >= min_score * UNSURE_SHARE else "hidden"


def limb_style(a: str, b: str) -> str | None:
    if "hidden" in (a, b):
        return None
    return "solid" if a == b == "seen" else "faded"


def line_width(frame_width: int) -> int:
    """The web overlay's stroke, max(2, min(5, width / 160)), in the frame's own pixels."""
    return round(max(2.0, min(5.0, frame_width / 160)))


def rider_of(frame: Doc | None, rider_track_id: int | None) -> Doc | None:
    """The rider in a stored pose frame: the person with riderTrackId, else the highest-scoring one."""
    if not frame or not frame.get("persons"):
        return None
    persons = frame["persons"]
    if rider_track_id is not None:
        for p in persons:
            if p.get("track_id") == rider_track_id:
                return p
    return max(persons, key=lambda p: p.get("score") or 0.0)


def _dashes(a: tuple[float, float], b: tuple[float, float], dash: float) -> Iterator[tuple[tuple[int, int], ...]]:
    """Dash segments (on, off, on, …) of length `dash` along a→b."""
    length = math.hypot(b[0] - a[0], b[1] - a[1])
    if length == 0:
        return
    ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
    s = 0.0
    while s < length:
        e = min(length, s + dash)
        yield ((round(a[0] + ux * s), round(a[1] + uy * s)), (round(a[0] + ux * e), round(a[1] + uy * e)))
        s += 2 * dash


def draw_skeleton(rgb: np.ndarray, keypoints: Sequence[Doc], scale: float, min_score: float) -> dict[str, int]:
    """Paint one person onto an RGB frame in place; `scale` maps stored keypoint pixels to this frame's.

    Returns how many joints got each style (the overlay's data-joints), for tests and logs.
    """
    lw = line_width(rgb.shape[1])
    pts = [(float(k["x"]) * scale, float(k["y"]) * scale) for k in keypoints]
    conf = [
        joint_confidence(float(k["score"]) if k.get("score") is not None else math.nan, min_score)
        if math.isfinite(float(k["x"])) and math.isfinite(float(k["y"]))
        else "hidden"
        for k in keypoints
    ]

    def ip(p: tuple[float, float]) -> tuple[int, int]:
        return round(p[0]), round(p[1])

    faded = [(a, b, side) for a, b, side in SKELETON_EDGES if limb_style(conf[a], conf[b]) == "faded"]
    unsure = [i for i, c in enumerate(conf) if c == "unsure"]
    if faded or unsure:
        layer = rgb.copy()
        thin = max(1, round(lw * 0.6))
        for a, b, side in faded:
            for p, q in _dashes(pts[a], pts[b], lw * 2):
                cv2.line(layer, p, q, SIDE_COLORS[side], thin, cv2.LINE_AA)
        for i in unsure:
            cv2.circle(layer, ip(pts[i]), round(lw * 0.6 + 1), JOINT_COLOR, -1, cv2.LINE_AA)
        cv2.addWeighted(layer, FADED_ALPHA, rgb, 1 - FADED_ALPHA, 0, dst=rgb)
    solid = [(a, b, side) for a, b, side in SKELETON_EDGES if limb_style(conf[a], conf[b]) == "solid"]
    if solid:
        halo = rgb.copy()
        for a, b, _side in solid:
            cv2.line(halo, ip(pts[a]), ip(pts[b]), HALO_COLOR, lw + 3, cv2.LINE_AA)
        cv2.addWeighted(halo, HALO_ALPHA, rgb, 1 - HALO_ALPHA, 0, dst=rgb)
        for a, b, side in solid:
            cv2.line(rgb, ip(pts[a]), ip(pts[b]), SIDE_COLORS[side], lw, cv2.LINE_AA)
    for i, c in enumerate(conf):
        if c == "seen":
            cv2.circle(rgb, ip(pts[i]), round(lw * 0.9 + 1), JOINT_COLOR, -1, cv2.LINE_AA)
    return {c: conf.count(c) for c in ("seen", "unsure", "hidden")}


def encode_command(ffmpeg: str, width: int, height: int, fps: float, out: Path, threads: int,
                   b_frames: bool = True) -> list[str]:  # fmt: skip
    """ffmpeg reading raw RGB frames on stdin at the clip's mean rate, writing H.264 High / yuv420p (pure).

    Without B-frames the packets come in presentation order, so `retime` can give each its source frame's time.
    """
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-framerate", f"{fps:.6f}", "-i", "pipe:0",
        "-an", "-c:v", "libx264", "-preset", EXPORT_PRESET, "-crf", str(EXPORT_CRF), "-profile:v", "high",
        *([] if b_frames else ["-bf", "0"]),
        "-pix_fmt", "yuv420p", "-threads", str(threads), "-movflags", "+faststart", "-f", "mp4", str(out),
    ]  # fmt: skip


def retime(src: Path, dst: Path, pts: Sequence[int], time_base: Fraction, last_duration: int) -> int:
    """Copy the encoded packets (no B-frames: decode order is presentation order) into an MP4 where packet k has the
    source's presentation time pts[k] (from 0): a variable-frame-rate clip keeps its own frame times. Returns the
    number of packets written."""
    written = 0
    with av.open(str(src)) as inp:
        ist = inp.streams.video[0]
        with av.open(str(dst), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            ost = out.add_stream_from_template(ist)
            for packet in inp.demux(ist):
                if packet.dts is None or written >= len(pts):
                    continue
                k = written
                packet.pts = packet.dts = pts[k] - pts[0]
                packet.duration = pts[k + 1] - pts[k] if k + 1 < len(pts) else last_duration
                packet.time_base = time_base
                packet.stream = ost
                out.mux(packet)
                written += 1
    return written


def mean_fps(times: Sequence[float], count: int, fallback: float) -> float:
    """The rate that gives `count` frames the clip's duration: (count - 1) steps over the first→last span, so
    count frames last the span plus one mean step, as the clip does (pure)."""
    if count < 2 or times[-1] <= times[0]:
        return fallback if fallback > 0 else 30.0
    return (count - 1) / (times[-1] - times[0])


class ExportRecord:
    """Writes to the `exports` document, every write conditional on it still existing (deleted = cancelled)."""

    def __init__(self, ctx: WorkerContext, export_id: ObjectId):
        self.coll = ctx.db["exports"]
        self.id = export_id

    def update(self, fields: Doc) -> bool:
        res = self.coll.update_one({"_id": self.id}, {"$set": {**fields, "updatedAt": utcnow()}})
        return res.matched_count == 1

    def fail(self, kind: str, detail: str) -> None:
        now = utcnow()
        self.update({"state": "failed", "errorKind": kind, "errorDetail": detail, "finishedAt": now})


class PoseCursor:
    """The stored pose frame of each video frame, read chunk by chunk as the render advances (frame numbers only
    grow): one 100-frame chunk in memory, however long the clip."""

    def __init__(self, chunks: Iterator[Doc]):
        self._chunks = chunks
        self._frames: dict[int, Doc] = {}
        self._last = -1  # the highest frame number read so far
        self._done = False

    def at(self, index: int) -> Doc | None:
        while not self._done and index > self._last:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._done = True
                break
            self._frames = {int(f["index"]): f for f in chunk["frames"]}
            self._last = max(self._frames, default=self._last)
        return self._frames.get(index)


def _min_score(ctx: WorkerContext, video_id: ObjectId) -> float:
    head = ctx.db["metrics"].find_one({"_id": video_id}, {"summary.joint_score_min": 1})
    value = ((head or {}).get("summary") or {}).get("joint_score_min")
    return float(value) if isinstance(value, (int, float)) else VISIBLE_SCORE


def run_export(ctx: WorkerContext, task: Doc, should_stop: Callable[[], bool]) -> Doc:
    record = ExportRecord(ctx, task["jobId"])
    export = ctx.db["exports"].find_one({"_id": record.id})
    if export is None:
        raise Stopped()  # cancelled before it started
    video = ctx.db["videos"].find_one({"_id": task["videoId"]})
    if video is None:
        raise VideoGone(f"video {task['videoId']} was deleted")
    try:
        return _render(ctx, task, video, record, should_stop)
    except (Stopped, VideoGone, InputError, PyMongoError):
        raise  # the loop's rules: cancelled, gone, recorded already, or MongoDB away (handed back, no attempt)
    except ApiError as err:
        record.fail("undecodable", err.detail)
        raise InputError("undecodable", err.detail, permanent=True) from None
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"
        log.exception("export %s failed", record.id)
        record.fail("internal", detail)
        raise InputError("internal", detail, permanent=True) from None


def _render(ctx: WorkerContext, task: Doc, video: Doc, record: ExportRecord, should_stop: Callable[[], bool]) -> Doc:
    ffmpeg = ctx.settings.pose.ffmpeg_bin
    if shutil.which(ffmpeg) is None:
        record.fail("internal", f"ffmpeg ({ffmpeg}) is not installed in the pose worker")
        raise InputError("internal", f"ffmpeg ({ffmpeg}) is missing", permanent=True)
    rendition = (video.get("rendition") or {}).get("fileId")
    if rendition is None:
        detail = "the video has no rendition yet (its analysis is not finished)"
        record.fail("not_ready", detail)
        raise InputError("no_frames", detail, permanent=True)
    started = time.perf_counter()
    poses = PoseCursor(ctx.db["pose_frames"].find({"videoId": video["_id"]}, {"warmup": 0}).sort("chunk", 1))
    min_score = _min_score(ctx, video["_id"])
    rider = video.get("riderTrackId")
    display_w = video.get("width")
    with tempfile.TemporaryDirectory(prefix="export-", dir=ctx.workdir) as tmp:
        src = Path(tmp) / "rendition.mp4"
        ctx.store.download(rendition, src)
        probe = probe_video(str(src))
        total = probe.frame_count
        width, height = probe.display_width, probe.display_height
        scale = width / display_w if display_w else 1.0
        fps = mean_fps(probe.frame_times, total, probe.fps)
        if not record.update({"state": "running", "framesTotal": total, "framesDone": 0, "progress": 0.0,
                              "startedAt": utcnow(), "workerId": ctx.queue.worker_id}):  # fmt: skip
            raise Stopped()
        # A variable-frame-rate clip is encoded without B-frames and then given its own frame times (retime).
        vfr = probe.frame_rate_mode == "vfr"
        encoded = Path(tmp) / "encoded.mp4"
        out = Path(tmp) / "export.mp4"
        cmd = encode_command(ffmpeg, width, height, fps, encoded, ctx.settings.pose.rendition_threads, b_frames=not vfr)
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert proc.stdin is not None
        done, drawn = 0, 0
        next_write = time.monotonic() + PROGRESS_EVERY_S
        try:
            for frame in decode_frames(str(src), probe, range(total), max(width, height)):
                if should_stop():
                    raise Stopped()
                rgb = np.ascontiguousarray(frame.rgb)
                person = rider_of(poses.at(frame.index), rider)
                if person is not None:
                    draw_skeleton(rgb, person["keypoints"], scale, min_score)
                    drawn += 1
                proc.stdin.write(rgb.tobytes())
                done += 1
                if time.monotonic() >= next_write:
                    next_write = time.monotonic() + PROGRESS_EVERY_S
                    if not record.update({"framesDone": done, "progress": round(done / max(1, total), 4)}):
                        raise Stopped()  # the export (or its video) was deleted
            proc.stdin.close()
            rc = proc.wait(timeout=max(60, ctx.settings.pose.ingest_timeout_s))
        except BrokenPipeError:
            rc = proc.wait(timeout=30)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
        if rc != 0 or not encoded.exists():
            last = (err.splitlines() or ["no message"])[-1][:300]
            record.fail("internal", f"ffmpeg could not encode the export: {last}")
            raise InputError("internal", f"ffmpeg exited {rc}: {last}", permanent=True)
        if done == 0:
            record.fail("no_frames", "no frame of the rendition could be decoded")
            raise InputError("no_frames", "no frame decoded", permanent=True)
        if vfr and done == total:
            step = round((probe.duration_s - probe.frame_times[-1]) / float(probe.time_base))
            retime(encoded, out, probe.pts, probe.time_base, max(1, step))
        else:
            encoded.replace(out)
        render_s = time.perf_counter() - started
        if should_stop():
            raise Stopped()
        title = (video.get("title") or video.get("originalName") or str(video["_id"])).rsplit(".", 1)[0]
        file_id = ctx.store.bucket.upload_from_stream(
            f"{title}-skeleton.mp4",
            out.open("rb"),
            metadata={"videoId": video["_id"], "kind": "export", "contentType": "video/mp4", "exportId": record.id},
        )
        size = out.stat().st_size
    ok = record.update({"state": "done", "fileId": file_id, "size": size, "framesDone": done, "progress": 1.0,
                        "width": width, "height": height, "durationS": round(probe.duration_s, 6),
                        "finishedAt": utcnow()})  # fmt: skip
    # Deleted meanwhile (the export or its video): the file must not outlive them.
    if not ok or ctx.db["videos"].count_documents({"_id": video["_id"]}, limit=1) == 0:
        with contextlib.suppress(Exception):
            ctx.store.bucket.delete(file_id)
        return {"abandoned": True}
    return {
        "exportId": record.id,
        "renderFps": round(done / render_s, 2) if render_s > 0 else None,
        "renderS": round(render_s, 3),
        "framesRendered": done,
        "framesWithSkeleton": drawn,
        "size": size,
    }
