"""The finish task: join the rider's track across the grid blocks (tracking.join_blocks on each chunk's
overlap frames), write the joined track ids back, compute the metrics over the whole track, write them split,
and mark the job and the video done."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from ..backends.base import FramePoses
from ..metrics.compute import compute_metrics
from ..pipeline import FRAMES_PER_CHUNK, Stopped
from ..tracking import BlockPoses, choose_rider, join_blocks, rider_track
from .context import InputError, WorkerContext
from .queue import utcnow
from .results import frames_from_json, split_metrics

Doc = dict[str, Any]


def _local_frames(chunk: Doc) -> list[FramePoses]:
    """A chunk's frames with the ids its own tracker gave (a redone finish undoes its earlier rewrite)."""
    frames = frames_from_json(chunk["frames"])
    local = chunk.get("localTrackIds")
    if local is not None:
        for f, ids in zip(frames, local, strict=True):
            for p, tid in zip(f.persons, ids, strict=True):
                p.track_id = tid
    return frames


def run_finish(ctx: WorkerContext, task: Doc, should_stop: Callable[[], bool]) -> Doc:
    ctx.video(task)
    job = ctx.db["jobs"].find_one({"_id": task["jobId"]})
    assert job is not None
    # Every grid block must have been analysed (counted in chunksDone), or the metrics would silently miss frames.
    blocks_total = math.ceil((job.get("framesTotal") or 0) / FRAMES_PER_CHUNK)
    missing = sorted(set(range(blocks_total)) - set(job.get("chunksDone") or []))
    if missing:
        raise InputError("internal", f"analysed-frame blocks {missing[:10]} were never analysed", permanent=True)
    started = time.perf_counter()
    coll = ctx.db["pose_frames"]
    chunks = {c["chunk"]: c for c in coll.find({"videoId": task["videoId"]})}
    # A single-person model's track id means nothing across tracker restarts: one identity (as in one pass).
    # The segments wrote the largest maxPersons on the job (not only in their task's result, which their
    # worker writes after this task may already run).
    single = job.get("maxPersons") == 1
    if "maxPersons" not in job:  # a job planned by an older worker: its segments' results are all there is
        segments = list(ctx.db["tasks"].find({"jobId": task["jobId"], "kind": "segment"}, {"result": 1}))
        single = bool(segments) and all((s.get("result") or {}).get("maxPersons") == 1 for s in segments)
    blocks: list[BlockPoses] = []
    local: list[list[FramePoses]] = []
    for k in range(max(chunks, default=-1) + 1):
        c = chunks.get(k)
        frames = _local_frames(c) if c else []
        local.append(frames)
        blocks.append(BlockPoses(frames_from_json(c.get("warmup", [])) if c else [], frames))
    if not any(local):
        raise InputError("undecodable", "no frame could be decoded: the stream is corrupt", permanent=True)
    if should_stop():
        raise Stopped()
    mappings = join_blocks(blocks, single_person=single)
    joined: list[FramePoses] = []
    for k, (frames, mapping) in enumerate(zip(local, mappings, strict=True)):
        ids = [[p.track_id for p in f.persons] for f in frames]
        for f in frames:
            for p in f.persons:
                if p.track_id is not None:
                    p.track_id = mapping.get(p.track_id, p.track_id)
        joined.extend(frames)
        if any(tid is not None and mapping.get(tid, tid) != tid for row in ids for tid in row):
            chunk = chunks[k]
            for fj, f in zip(chunk["frames"], frames, strict=True):
                for pj, p in zip(fj["persons"], f.persons, strict=True):
                    pj["track_id"] = p.track_id
            coll.update_one({"_id": chunk["_id"]}, {"$set": {"frames": chunk["frames"], "localTrackIds": ids}})
    rider = choose_rider(joined)
    metrics = compute_metrics(rider_track(joined, rider))
    head, series = split_metrics(task["videoId"], metrics)
    ctx.video(task)
    for doc in series:
        ctx.db["metric_series"].replace_one({"videoId": doc["videoId"], "chunk": doc["chunk"]}, doc, upsert=True)
    ctx.db["metric_series"].delete_many({"videoId": task["videoId"], "chunk": {"$gte": len(series)}})
    ctx.db["metrics"].replace_one({"_id": task["videoId"]}, head, upsert=True)
    now = utcnow()
    began = job.get("startedAt") or job.get("createdAt")
    timing = {
        "probeS": job.get("probeS"),
        "ingestS": job.get("ingestS"),
        "poseS": round(float(job.get("poseS") or 0.0), 3),
        "totalS": round((now - began).total_seconds(), 3) if began is not None else None,
    }
    if not ctx.queue.still_ours(task):
        return {"abandoned": True}
    ctx.db["videos"].update_one(
        {"_id": task["videoId"]},
        # maxRotationDeg (the spin's size, either way; null when unavailable): the library sorts on it without
        # reading the metrics of every video.
        {"$set": {"riderTrackId": rider, "timing": timing, "status": "done", "maxRotationDeg": _spin(metrics)}},
    )
    ctx.db["jobs"].update_one(
        {"_id": task["jobId"]},
        {
            "$set": {
                "state": "done",
                "stage": None,
                "progress": 1.0,
                "framesDone": job.get("framesTotal") or 0,
                "errorKind": None,
                "error": None,
                "errorDetail": None,
                "finishedAt": now,
                "updatedAt": now,
            }
        },
    )
    return {"riderTrackId": rider, "frames": len(joined), "seconds": round(time.perf_counter() - started, 3)}


def _spin(metrics: dict[str, Any]) -> float | None:
    value = metrics["summary"].get("max_rotation_deg")
    return None if value is None else abs(float(value))
