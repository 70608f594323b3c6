"""The ingest task: the original from GridFS → probe → the video's probe fields → the segment plan and its tasks
(analysis starts now) → rendition, poster, sprite into GridFS → `ingestDone` on the job. Idempotent: a redone
ingest replaces its files and reuses the plan."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pymongo import ReturnDocument

from ..errors import ApiError
from ..pipeline import Stopped
from ..probe import VideoProbe
from ..rendition import ingest as make_rendition
from .context import InputError, WorkerContext
from .plan import SegmentPlan, plan_segments
from .queue import queued_task, utcnow

Doc = dict[str, Any]

CONTENT_TYPES = {"rendition": "video/mp4", "poster": "image/jpeg", "sprite": "image/jpeg"}


def probe_fields(probe: VideoProbe) -> Doc:
    """The video document's `probe` (the API's VideoProbe shape, camelCase, source 'ingest')."""
    return {
        "source": "ingest",
        "container": probe.container,
        "codec": probe.video_codec,
        "profile": probe.profile,
        "pixFmt": probe.pix_fmt,
        "bitDepth": probe.bit_depth,
        "codedWidth": probe.coded_width,
        "codedHeight": probe.coded_height,
        "rotation": probe.orientation.rotation,
        "mirrored": probe.orientation.mirrored,
        "displayWidth": probe.display_width,
        "displayHeight": probe.display_height,
        "fps": round(probe.fps, 4),
        "frameRateMode": probe.frame_rate_mode,
        "frameCount": probe.frame_count,
        "durationS": round(probe.duration_s, 6),
        "hasAudio": probe.has_audio,
    }


def derived_fields(made: Doc, file_ids: dict[str, Any]) -> Doc:
    """rendition / poster / sprite as the video document stores them: {fileId, width, height, size, codec?, layout?}."""
    r, p, s = made["rendition"], made["poster"], made["sprite"]
    return {
        "rendition": {
            "fileId": file_ids["rendition"],
            "width": r["width"],
            "height": r["height"],
            "size": r["size"],
            "codec": r["codec"],
        },
        "poster": {"fileId": file_ids["poster"], "width": p["width"], "height": p["height"], "size": p["size"]},
        "sprite": {
            "fileId": file_ids["sprite"],
            "width": s["tile_width"] * s["columns"],
            "height": s["tile_height"] * s["rows"],
            "size": s["size"],
            "layout": {
                "columns": s["columns"],
                "rows": s["rows"],
                "tileWidth": s["tile_width"],
                "tileHeight": s["tile_height"],
                "times": s["times"],
            },
        },
    }


def run_ingest(ctx: WorkerContext, task: Doc, should_stop: Callable[[], bool]) -> Doc:
    video = ctx.video(task)
    started = time.perf_counter()
    src, probe = ctx.probe(video)
    probe_s = round(time.perf_counter() - started, 3)
    # The probe's fields and the segment plan first: analysis starts while ffmpeg makes the rendition.
    res = ctx.db["videos"].update_one(
        {"_id": video["_id"]},
        {
            "$set": {
                "probe": probe_fields(probe),
                "width": probe.display_width,
                "height": probe.display_height,
                "fps": round(probe.fps, 4),
                "durationS": round(probe.duration_s, 6),
                "frameCount": probe.frame_count,
            }
        },
    )
    if res.matched_count == 0:
        ctx.video(task)  # raises VideoGone
    indices = ctx.sampled(probe)
    if not indices:
        raise InputError("no_frames", "the sampling selected no frame of the video", permanent=True)
    span = probe.frame_times[indices[-1]] - probe.frame_times[indices[0]]
    analysed_fps = (len(indices) - 1) / span if span > 0 else probe.fps
    plan = plan_segments(
        len(indices), analysed_fps, ctx.queue.live_workers(), ctx.settings.segment_min_s, ctx.settings.segment_max_s
    )
    plan_segment_tasks(ctx, task, plan.frames, plan.length, plan.count)
    cfg = ctx.settings.pose
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ingest-", dir=ctx.workdir) as out:
        try:
            made = make_rendition(
                src,
                Path(out),
                probe,
                ffmpeg=cfg.ffmpeg_bin,
                max_side=cfg.rendition_max_side,
                preset=cfg.rendition_preset,
                crf=cfg.rendition_crf,
                timeout_s=cfg.ingest_timeout_s,
                threads=cfg.rendition_threads,
                should_stop=should_stop,  # a delete (or SIGTERM) stops ffmpeg within a heartbeat
            )
        except ApiError as err:
            raise InputError("ingest_failed", err.detail) from None
        if should_stop():
            raise Stopped()
        ctx.video(task)  # deleted while ffmpeg ran: nothing gets written
        paths = {
            "rendition": made["rendition"]["path"],
            "poster": made["poster"]["path"],
            "sprite": made["sprite"]["path"],
        }
        file_ids = {k: ctx.store.upload(Path(v), video["_id"], k, CONTENT_TYPES[k]) for k, v in paths.items()}
    ingest_s = round(time.perf_counter() - t0, 3)
    res = ctx.db["videos"].update_one({"_id": video["_id"]}, {"$set": derived_fields(made, file_ids)})
    # Older copies (a redone ingest) go; so do these if the video was deleted meanwhile.
    ctx.store.remove(video["_id"], keep=() if res.matched_count == 0 else tuple(file_ids.values()))
    if res.matched_count == 0:
        ctx.video(task)  # raises VideoGone
    mark_ingest_done(ctx, task, probe_s, ingest_s)
    return {
        "probeS": probe_s,
        "ingestS": ingest_s,
        "framesTotal": plan.frames,
        "segments": plan.count,
        "segmentLength": plan.length,
    }


def plan_segment_tasks(ctx: WorkerContext, task: Doc, frames: int, length: int, count: int) -> None:
    """Record the plan on the job once (a redone ingest keeps the first plan), then insert its segment tasks."""
    now = utcnow()
    ctx.db["jobs"].update_one(
        {"_id": task["jobId"], "segmentsTotal": None},
        {
            "$set": {
                "framesTotal": frames,
                "segmentsTotal": count,
                "segmentLength": length,
                "framesDone": 0,
                "segmentsDone": 0,
                "segmentsDoneSeqs": [],
                "chunksDone": [],
                "stepsDone": [],
                "stage": "analysis",
                "ingestDone": False,  # this run's files are not made yet (a retried job had it true)
                # What the finish reads (the tasks' `result` is written only after the finish may have started):
                # the ingest sets probeS/ingestS, each segment adds its seconds and the backend's maxPersons.
                "probeS": None,
                "ingestS": None,
                "poseS": 0.0,
                "maxPersons": 0,
                "updatedAt": now,
            }
        },
    )
    job = ctx.db["jobs"].find_one({"_id": task["jobId"]})
    if job is None:
        ctx.video(task)
        return
    plan = SegmentPlan(frames=job["framesTotal"], length=job["segmentLength"], count=job["segmentsTotal"])
    for i in range(plan.count):
        start, end = plan.bounds(i)
        ctx.queue.insert_once(queued_task(task, "segment", i + 1, now, frameStart=start, frameEnd=end))


def mark_ingest_done(ctx: WorkerContext, task: Doc, probe_s: float, ingest_s: float) -> None:
    """The files are recorded: say so on the job, with the ingest's timing (the finish reads it from the job: this
    task's `result` is written only after it lets go, and the finish may run before that); if every segment is
    already counted, insert the finish task. The last segment does the same with the roles swapped; both are
    atomic updates of the job, so at least one sees both done (insert_once makes a second insert harmless)."""
    now = utcnow()
    job = ctx.db["jobs"].find_one_and_update(
        {"_id": task["jobId"]},
        {"$set": {"ingestDone": True, "probeS": probe_s, "ingestS": ingest_s, "updatedAt": now}},
        return_document=ReturnDocument.AFTER,
    )
    if job is None:
        ctx.video(task)
        return
    if job.get("segmentsTotal") is not None and job.get("segmentsDone", 0) >= job["segmentsTotal"]:
        ctx.queue.insert_once(queued_task(task, "finish", job["segmentsTotal"] + 1, now))
