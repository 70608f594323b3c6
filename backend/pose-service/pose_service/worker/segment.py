"""The segment task: pose over analysed frames [frameStart, frameEnd) on the fixed grid (pipeline.track_on_grid),
each block's chunk written every PARTIAL_EVERY frames and when it ends (partial results), with the job's
counters, then the segment's count."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pymongo import ReturnDocument

from ..media import analysis_scale, decode_frames
from ..pipeline import FRAMES_PER_CHUNK, WARMUP_FRAMES, GridBlock, track_on_grid
from .context import InputError, WorkerContext
from .queue import queued_task, utcnow
from .results import chunk_doc

Doc = dict[str, Any]

# Analysed frames between partial writes of a block (its chunk so far + the job's framesDone/progress): the
# tracker still restarts only every FRAMES_PER_CHUNK frames, so the keypoints stay those of the single pass.
PARTIAL_EVERY = 25


def run_segment(ctx: WorkerContext, task: Doc, should_stop: Callable[[], bool]) -> Doc:
    video = ctx.video(task)
    path, probe = ctx.probe(video)
    indices = ctx.sampled(probe)
    start, end = int(task["frameStart"]), int(task["frameEnd"])
    if end > len(indices):
        raise InputError(
            "internal", f"segment [{start}, {end}) is beyond the {len(indices)} analysed frames", permanent=True
        )
    first = max(0, start - WARMUP_FRAMES)
    wanted = indices[first:end]
    ordinal_of = {index: first + i for i, index in enumerate(wanted)}
    max_side = ctx.settings.pose.analysis_max_side
    to_display = 1.0 / analysis_scale(probe.coded_width, probe.coded_height, max_side)
    started = time.perf_counter()
    decoded = decode_frames(str(path), probe, wanted, max_side)
    frames = 0
    counted = start  # the analysed ordinal up to which this segment's frames are counted on the job

    def show_partial(block: GridBlock) -> None:
        """A block's first frames, stored and counted before the block ends (the first skeleton shows after
        PARTIAL_EVERY frames, not a whole block); the block's own write replaces the chunk when it ends."""
        nonlocal counted
        if should_stop() or not ctx.queue.still_ours(task):
            return  # the loop notices at the next frame; nothing more is written
        doc = chunk_doc(task["videoId"], block)
        ctx.db["pose_frames"].replace_one({"videoId": task["videoId"], "chunk": block.chunk}, doc, upsert=True)
        upto = block.ordinals[-1] + 1
        count_step(ctx, task, block.chunk, counted, upto, last=False)
        counted = upto

    blocks = track_on_grid(
        ctx.backend, decoded, ordinal_of, start, end, to_display, should_stop, show_partial, PARTIAL_EVERY
    )
    for block in blocks:
        if not ctx.queue.still_ours(task):
            return {"frames": frames, "abandoned": True}
        # A block with nothing decoded (a corrupt stretch) has no chunk: the single pass has no frames there either.
        if block.frames:
            frames += len(block.frames)
            doc = chunk_doc(task["videoId"], block)
            ctx.db["pose_frames"].replace_one({"videoId": task["videoId"], "chunk": block.chunk}, doc, upsert=True)
        upto = min((block.chunk + 1) * FRAMES_PER_CHUNK, end)
        count_step(ctx, task, block.chunk, counted, upto, last=True)
        counted = upto
    seconds = time.perf_counter() - started
    if not ctx.queue.still_ours(task):
        return {"frames": frames, "abandoned": True}
    count_segment(ctx, task, seconds)
    return {
        "frames": frames,
        "seconds": round(seconds, 3),
        "framesPerSecond": round(frames / seconds, 2) if seconds > 0 else None,
        "backend": ctx.backend.name,
        "maxPersons": ctx.backend.max_persons,
    }


def count_step(ctx: WorkerContext, task: Doc, chunk: int, step_start: int, step_end: int, last: bool) -> None:
    """Count analysed frames [step_start, step_end) on the job once (`stepsDone` holds each step's end ordinal,
    the same on a redo, so a redone segment never counts twice) and move progress forward (never back). The
    block's last step also adds it to `chunksDone` (the finish checks that every block was analysed)."""
    jobs = ctx.db["jobs"]
    added: Doc = {"stepsDone": step_end, "chunksDone": chunk} if last else {"stepsDone": step_end}
    job = jobs.find_one_and_update(
        {"_id": task["jobId"], "stepsDone": {"$ne": step_end}},
        {"$inc": {"framesDone": step_end - step_start}, "$addToSet": added, "$set": {"updatedAt": utcnow()}},
        return_document=ReturnDocument.AFTER,
    )
    if job is not None and job.get("framesTotal"):
        progress = min(1.0, job["framesDone"] / job["framesTotal"])
        jobs.update_one(
            {"_id": job["_id"], "progress": {"$lt": progress}, "state": "running"}, {"$set": {"progress": progress}}
        )


def count_segment(ctx: WorkerContext, task: Doc, seconds: float) -> None:
    """Count the segment on the job once (segmentsDoneSeqs guards a redo), with what the finish needs of it (its
    pose seconds and the backend's maxPersons: the finish may start before this task's `result` is written); the
    update that completes the count inserts the finish task if the ingest's files are recorded too
    (`ingestDone`; else the ingest inserts it; insert_once makes a repeat harmless)."""
    now = utcnow()
    jobs = ctx.db["jobs"]
    job = jobs.find_one_and_update(
        {"_id": task["jobId"], "segmentsDoneSeqs": {"$ne": task["seq"]}},
        {
            "$inc": {"segmentsDone": 1, "poseS": round(seconds, 3)},
            "$max": {"maxPersons": ctx.backend.max_persons or 1_000_000},
            "$addToSet": {"segmentsDoneSeqs": task["seq"]},
            "$set": {"updatedAt": now},
        },
        return_document=ReturnDocument.AFTER,
    ) or jobs.find_one({"_id": task["jobId"]})
    if job is None:
        ctx.video(task)  # raises VideoGone
        return
    total = job.get("segmentsTotal")
    if job.get("ingestDone") and total is not None and job["segmentsDone"] >= total:
        ctx.queue.insert_once(queued_task(task, "finish", job["segmentsTotal"] + 1, now))
