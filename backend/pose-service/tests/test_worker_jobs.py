"""The pose worker end to end in this process (the Worker loop in a thread, as `python -m pose_service.worker`
runs it), on a real MongoDB-wire server and real MediaPipe: segmented results equal the single pass, a corrupt
upload fails as 'undecodable' after its attempts, and deleting a job's tasks stops the worker within a second."""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bson import ObjectId
from conftest import POSE_CONFIG, person_photos, running_worker, write_pan_zoom_video
from mongo_server import MongoServer, one, submit_video, wait_for
from pymongo.database import Database

from pose_service.pipeline import analyse_video
from pose_service.runtime import PoseRuntime
from pose_service.tracking import BlockPoses, join_blocks
from pose_service.validation import parse_sampling
from pose_service.worker import finish as finish_module
from pose_service.worker.context import WorkerContext
from pose_service.worker.loop import RUNNERS
from pose_service.worker.queue import TaskQueue
from pose_service.worker.results import frames_from_json, join_metrics
from pose_service.worker.settings import WorkerSettings
from pose_service.worker.store import MediaStore


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """250 analysed frames: three tracker blocks (100, 100, 50), so it can be cut into 1, 2 or 3 segments."""
    return write_pan_zoom_video(tmp_path_factory.mktemp("clips") / "astronaut.mp4", person_photos()["astronaut"], 250)


@pytest.fixture(scope="module")
def reference(runtime: PoseRuntime, clip: Path) -> dict[str, Any]:
    """The single pass: POST /v1/pose/video's body for the clip."""
    return analyse_video(runtime, str(clip), parse_sampling({}, POSE_CONFIG.max_frames_limit), 1280)


def job_of(db: Database, job_id: ObjectId) -> dict[str, Any]:
    job = one(db.jobs.find_one({"_id": job_id}))
    assert job is not None
    return job


def wait_job_end(
    db: Database, job_id: ObjectId, timeout: float = 300, seen: list[float] | None = None
) -> dict[str, Any]:
    """Wait until the job is done or failed; `seen` collects the progress values it passed through."""

    def ended() -> bool:
        job = job_of(db, job_id)
        if seen is not None and (not seen or seen[-1] != job["progress"]):
            seen.append(job["progress"])
        return job["state"] in ("done", "failed")

    wait_for(ended, timeout, "the job to end", every=0.1)
    return job_of(db, job_id)


def close(a: Any, b: Any, tol: float, where: str) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            close(a[k], b[k], tol, f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        if a and all(isinstance(v, (int, float)) or v is None for v in a + b):
            x = np.array([np.nan if v is None else v for v in a], dtype=float)
            y = np.array([np.nan if v is None else v for v in b], dtype=float)
            np.testing.assert_allclose(x, y, atol=tol, equal_nan=True, err_msg=where)
        else:
            for i, (u, v) in enumerate(zip(a, b, strict=True)):
                close(u, v, tol, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, abs=tol), where
    else:
        assert a == b, where


@pytest.mark.parametrize(
    ("bounds", "min_s", "max_s"),
    [
        ([(0, 250)], 10.0, 10.0),  # a 10 s minimum: the whole 8.3 s clip is one segment
        ([(0, 100), (100, 250)], 2.0, 3.4),  # the 50-frame tail (1.7 s) joins the segment before it
        ([(0, 100), (100, 200), (200, 250)], 1.0, 3.4),
    ],
)
def test_segmented_analysis_equals_the_single_pass(
    mongo: MongoServer,
    db: Database,
    runtime: PoseRuntime,
    clip: Path,
    reference: dict[str, Any],
    bounds: list[tuple[int, int]],
    min_s: float,
    max_s: float,
) -> None:
    segments = len(bounds)
    with running_worker(mongo, db, runtime, segment_min_s=min_s, segment_max_s=max_s):
        video_id, job_id = submit_video(db, clip)
        progress: list[float] = []
        job = wait_job_end(db, job_id, seen=progress)
    assert job["state"] == "done", job.get("errorDetail")
    # Progress moves every 25 analysed frames (0.1 of the 250), never backwards: ≥ 5 steps seen between 0 and 1.
    assert progress == sorted(progress) and progress[-1] == 1.0, progress
    assert len({p for p in progress if 0 < p < 1}) >= 5 and min(p for p in progress if p > 0) <= 0.2, progress
    assert (job["segmentsTotal"], job["segmentsDone"], job["framesTotal"], job["framesDone"]) == (
        segments,
        segments,
        250,
        250,
    )
    assert job["progress"] == 1.0 and job["attempts"] == 0 and job["stage"] is None
    tasks = list(db.tasks.find({"jobId": job_id}).sort("seq", 1))
    assert [t["kind"] for t in tasks] == ["ingest"] + ["segment"] * segments + ["finish"]
    assert all(t["state"] == "done" for t in tasks)
    assert [(t["frameStart"], t["frameEnd"]) for t in tasks if t["kind"] == "segment"] == bounds

    # Every frame's keypoints, boxes, scores and track ids: identical to the one pass, as stored JSON.
    chunks = list(db.pose_frames.find({"videoId": video_id}).sort("chunk", 1))
    assert [c["chunk"] for c in chunks] == [0, 1, 2]
    stored = [f for c in chunks for f in c["frames"]]
    assert len(stored) == len(reference["frames"]) == 250
    for got, want in zip(stored, reference["frames"], strict=True):
        assert got == want, f"frame {want['index']} differs"
    assert one(db.videos.find_one({"_id": video_id}))["riderTrackId"] == reference["rider_track_id"] == 1

    # The metrics, read back from the split documents, equal the one pass's within rounding.
    head = one(db.metrics.find_one({"_id": video_id}))
    series = list(db.metric_series.find({"videoId": video_id}))
    assert head["frames"] == 250 and head["seriesChunks"] == len(series) == 1
    # The finish reads the stored keypoints (2 decimals), the single pass its own floats: series agree to 0.05;
    # the summary is rounded to 0.1 (degrees), so a value on a rounding edge may differ by one step.
    got = join_metrics(head, series)
    close(got["series"], reference["metrics"]["series"], 0.05, "metrics.series")
    close(got["summary"], reference["metrics"]["summary"], 0.11, "metrics.summary")

    video = one(db.videos.find_one({"_id": video_id}))
    assert video["status"] == "done"
    assert video["probe"]["source"] == "ingest" and video["frameCount"] == 250
    files = {f["metadata"]["kind"]: f for f in db["media.files"].find({"metadata.videoId": video_id})}
    assert set(files) == {"original", "rendition", "poster", "sprite"}
    assert video["rendition"]["fileId"] == files["rendition"]["_id"]
    assert video["sprite"]["layout"]["columns"] >= 1
    assert video["timing"]["poseS"] > 0
    spin = reference["metrics"]["summary"]["max_rotation_deg"]
    assert video["maxRotationDeg"] == pytest.approx(abs(spin), abs=0.11), "the library's rotation sort key"


def test_the_join_on_real_mediapipe_output_keeps_one_rider_without_the_single_person_shortcut(
    mongo: MongoServer, db: Database, runtime: PoseRuntime, clip: Path
) -> None:
    with running_worker(mongo, db, runtime, segment_min_s=1.0, segment_max_s=3.4):
        video_id, job_id = submit_video(db, clip)
        assert wait_job_end(db, job_id)["state"] == "done"
    chunks = list(db.pose_frames.find({"videoId": video_id}).sort("chunk", 1))
    blocks = [BlockPoses(frames_from_json(c["warmup"]), frames_from_json(c["frames"])) for c in chunks]
    assert [len(b.warmup) for b in blocks] == [0, 8, 8]
    assert join_blocks(blocks, single_person=False) == [{1: 1}, {1: 1}, {1: 1}]


def test_a_corrupt_upload_fails_as_undecodable_after_its_attempts(
    mongo: MongoServer, db: Database, runtime: PoseRuntime, tmp_path: Path
) -> None:
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(200_000))
    with running_worker(mongo, db, runtime, backoff_s=0.2, max_attempts=3):
        video_id, job_id = submit_video(db, bad)
        job = wait_job_end(db, job_id, 60)
    assert job["state"] == "failed" and job["errorKind"] == "undecodable" and job["attempts"] == 3
    assert "attempt 3 of 3" in job["errorDetail"]
    task = one(db.tasks.find_one({"jobId": job_id}))
    assert (task["state"], task["attempts"], task["lost"]) == ("failed", 3, 0)
    assert one(db.videos.find_one({"_id": video_id}))["status"] == "failed"


def test_deleting_a_jobs_tasks_stops_the_worker_within_a_second(
    mongo: MongoServer, db: Database, runtime: PoseRuntime, tmp_path: Path
) -> None:
    long_clip = write_pan_zoom_video(tmp_path / "long.mp4", person_photos()["astronaut"], 600)
    with running_worker(mongo, db, runtime, segment_max_s=30.0) as worker:
        video_id, job_id = submit_video(db, long_clip)
        wait_for(lambda: db.pose_frames.count_documents({"videoId": video_id}) >= 1, 300, "the first chunk")
        assert worker.current is not None and worker.current["kind"] == "segment"
        # What DELETE /api/videos/:id does first: the tasks, then the video and its job.
        deleted = time.monotonic()
        db.tasks.delete_many({"jobId": job_id})
        db.jobs.delete_one({"_id": job_id})
        db.videos.delete_one({"_id": video_id})
        wait_for(lambda: worker.current is None, 5, "the worker to drop the task", every=0.02)
        stopped_after = time.monotonic() - deleted
        assert stopped_after < 1.0, f"the worker went on for {stopped_after:.2f} s"
        # It removed what it had written for the deleted video (pose frames, derived media).
        wait_for(lambda: db.pose_frames.count_documents({"videoId": video_id}) == 0, 5, "its frames to go")
        assert db["media.files"].count_documents({"metadata.videoId": video_id, "metadata.kind": "rendition"}) == 0


def test_segment_tasks_are_queued_before_the_ingests_rendition_exists(
    mongo: MongoServer, db: Database, runtime: PoseRuntime, clip: Path, tmp_path: Path
) -> None:
    """The ingest plans the segments right after the probe, then makes the rendition: with an ffmpeg slowed by
    3 s (a wrapper script, the real ffmpeg after a sleep) the segment tasks are queued while the ingest still
    runs and no rendition exists; the finish still waits for both, and the job ends done with its rendition."""
    real = shutil.which("ffmpeg")
    assert real is not None
    slow = tmp_path / "slow-ffmpeg"
    slow.write_text(f'#!/bin/sh\nsleep 3\nexec "{real}" "$@"\n')
    slow.chmod(0o755)
    pose = dataclasses.replace(POSE_CONFIG, ffmpeg_bin=str(slow))
    with running_worker(mongo, db, runtime, pose=pose, segment_min_s=1.0, segment_max_s=3.4):
        video_id, job_id = submit_video(db, clip)

        def segments_queued() -> bool:
            return db.tasks.count_documents({"jobId": job_id, "kind": "segment", "state": "queued"}) == 3

        wait_for(segments_queued, 60, "the segment tasks", every=0.05)
        ingest = one(db.tasks.find_one({"jobId": job_id, "kind": "ingest"}))
        assert ingest["state"] == "running", "the segments are queued while the ingest still runs"
        video = one(db.videos.find_one({"_id": video_id}))
        assert video.get("rendition") is None and video["probe"]["source"] == "ingest"
        assert db.tasks.count_documents({"jobId": job_id, "kind": "finish"}) == 0
        assert job_of(db, job_id).get("ingestDone") is False
        job = wait_job_end(db, job_id)
    assert job["state"] == "done", job.get("errorDetail")
    assert job["ingestDone"] is True and job["segmentsDone"] == job["segmentsTotal"] == 3
    tasks = list(db.tasks.find({"jobId": job_id}).sort("seq", 1))
    assert [t["kind"] for t in tasks] == ["ingest", "segment", "segment", "segment", "finish"]
    video = one(db.videos.find_one({"_id": video_id}))
    assert video["status"] == "done" and video["rendition"]["fileId"] is not None
    assert db["media.files"].count_documents({"metadata.videoId": video_id, "metadata.kind": "rendition"}) == 1


def test_the_finish_needs_no_task_result_written_by_the_loop(
    mongo: MongoServer, db: Database, runtime: PoseRuntime, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop writes a task's `result` only after its handler returns, and the ingest or the last segment
    inserts the finish before that: another worker can run the finish first. Here every handler runs and no
    `result` is ever written (the race at its worst): the finish still has the ingest's timing, the pose seconds
    and the single-person shortcut (MediaPipe tracks one person), because the handlers put them on the job."""
    assert runtime.backend is not None and runtime.backend.max_persons == 1
    settings = WorkerSettings(
        mongodb_uri=mongo.uri, database=db.name, pose=POSE_CONFIG, segment_min_s=1.0, segment_max_s=3.4
    )
    workdir = Path(tempfile.mkdtemp(prefix="worker-test-"))
    ctx = WorkerContext(db, TaskQueue(db, settings), MediaStore(db), runtime.backend, settings, workdir)
    shortcut: list[bool] = []
    join = finish_module.join_blocks

    def spy(blocks: list[BlockPoses], *, single_person: bool) -> Any:  # records the finish's choice
        shortcut.append(single_person)
        return join(blocks, single_person=single_person)

    monkeypatch.setattr(finish_module, "join_blocks", spy)
    video_id, job_id = submit_video(db, clip)
    ran = []
    try:
        while (task := ctx.queue.claim()) is not None:
            RUNNERS[task["kind"]](ctx, task, lambda: False)  # no queue.complete(): `result` stays None
            ran.append(task["kind"])
    finally:
        ctx.close()
    assert ran == ["ingest", "segment", "segment", "segment", "finish"]
    assert all(t["result"] is None for t in db.tasks.find({"jobId": job_id}))
    assert job_of(db, job_id)["state"] == "done"
    timing = one(db.videos.find_one({"_id": video_id}))["timing"]
    assert timing["probeS"] is not None and timing["probeS"] >= 0, timing
    assert timing["ingestS"] is not None and timing["ingestS"] > 0, timing
    assert timing["poseS"] > 0, timing
    assert shortcut == [True]


def test_deleting_a_video_mid_ingest_stops_ffmpeg_within_a_second(
    mongo: MongoServer, db: Database, runtime: PoseRuntime, clip: Path, tmp_path: Path
) -> None:
    """ffmpeg made to encode at the clip's own pace (a wrapper adding `-re`: 250 frames take ~8 s), then the
    video is deleted as DELETE /api/videos/:id does it: the worker stops ffmpeg and lets go within 1.5 s (one
    heartbeat to notice, one poll, the terminate), no ffmpeg is left running, and nothing of the video stays in
    GridFS or in the worker's folder."""
    import psutil
    from gridfs import GridFSBucket

    real = shutil.which("ffmpeg")
    assert real is not None
    paced = tmp_path / "paced-ffmpeg"
    paced.write_text(f'#!/bin/sh\nexec "{real}" -re "$@"\n')
    paced.chmod(0o755)
    pose = dataclasses.replace(POSE_CONFIG, ffmpeg_bin=str(paced))

    def ffmpegs() -> list[psutil.Process]:
        return [p for p in psutil.Process().children(recursive=True) if p.name() == "ffmpeg"]

    with running_worker(mongo, db, runtime, pose=pose) as worker:
        video_id, job_id = submit_video(db, clip)
        wait_for(ffmpegs, 60, "the ingest's ffmpeg", every=0.05)
        time.sleep(1.0)  # well inside the encode
        assert worker.current is not None and worker.current["kind"] == "ingest"
        running = ffmpegs()
        deleted = time.monotonic()
        db.tasks.delete_many({"jobId": job_id})
        bucket = GridFSBucket(db, bucket_name="media")
        for f in db["media.files"].find({"metadata.videoId": video_id}):
            bucket.delete(f["_id"])
        db.jobs.delete_one({"_id": job_id})
        db.videos.delete_one({"_id": video_id})
        wait_for(lambda: worker.current is None, 10, "the worker to drop the ingest", every=0.02)
        let_go_after = time.monotonic() - deleted
        assert let_go_after < 1.5, f"the worker went on for {let_go_after:.2f} s"
        # The workers view shows it idle at once, and no heartbeat that read the old task writes its id back.
        for _ in range(8):
            assert one(db.workers.find_one({"_id": worker.queue.worker_id}))["taskId"] is None
            time.sleep(0.1)
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in running), "ffmpeg still runs"
        assert db["media.files"].count_documents({"metadata.videoId": video_id}) == 0
        assert db["media.chunks"].count_documents({}) == db["media.chunks"].count_documents(
            {"files_id": {"$in": [f["_id"] for f in db["media.files"].find({}, {"_id": 1})]}}
        ), "no orphaned GridFS chunks"
        assert list(worker.ctx.workdir.iterdir()) == [], "no partial rendition or original left on disk"
        assert db.pose_frames.count_documents({"videoId": video_id}) == 0


def test_a_blocks_first_frames_are_readable_before_the_block_ends(
    mongo: MongoServer, db: Database, runtime: PoseRuntime, clip: Path, reference: dict[str, Any]
) -> None:
    """The first skeleton need not wait for a whole 100-frame block: the segment stores its block every 25
    frames (chunk so far + framesDone), and what it stores early is exactly what the single pass computes."""
    with running_worker(mongo, db, runtime, segment_min_s=1.0, segment_max_s=10.0):
        video_id, job_id = submit_video(db, clip)
        first = wait_for(lambda: db.pose_frames.find_one({"videoId": video_id}), 300, "the first chunk", every=0.02)
        job = job_of(db, job_id)
        assert wait_job_end(db, job_id)["state"] == "done"
    assert first["chunk"] == 0 and len(first["frames"]) in (25, 50, 75), len(first["frames"])
    assert first["frames"] == reference["frames"][: len(first["frames"])]
    # Counted as it was stored (the count follows the write: a poll may fall between them), the block not yet.
    assert job["framesDone"] in (0, 25, 50, 75) and 0 not in job["chunksDone"], job
    assert job_of(db, job_id)["framesDone"] == 250
