"""The pose worker's deciding parts without a model: the segment plan, the identity join across tracker
restarts, the split metrics, and the queue's claim / lease / sweep / failure rules on a real MongoDB-wire
server (SecantusDB)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import bson
import numpy as np
import pytest
from bson import ObjectId
from mongo_server import MongoServer, one
from pymongo import MongoClient
from pymongo.database import Database
from synth import body, make_track, timeline

from pose_service.backends.base import FramePoses
from pose_service.keypoints import PersonPose
from pose_service.metrics.compute import compute_metrics
from pose_service.tracking import BlockPoses, join_blocks, match_overlap
from pose_service.worker.context import WorkerContext
from pose_service.worker.health import check as health_check
from pose_service.worker.loop import RUNNERS, Worker
from pose_service.worker.plan import plan_segments
from pose_service.worker.queue import LOST_TOO_OFTEN, TaskQueue, retry_delay_s, utcnow
from pose_service.worker.results import join_metrics, split_metrics
from pose_service.worker.settings import WorkerSettings
from pose_service.worker.store import MediaStore

# ---------------------------------------------------------------- segment plan


def covers(plan) -> list[tuple[int, int]]:
    bounds = [plan.bounds(i) for i in range(plan.count)]
    assert [b[0] for b in bounds[1:]] == [b[1] for b in bounds[:-1]], "segments must be contiguous"
    assert all(start % 100 == 0 for start, _ in bounds), "every segment starts on the tracker grid"
    assert (bounds[0][0], bounds[-1][1]) == (0, plan.frames)
    return bounds


def test_plan_of_no_frames_is_empty() -> None:
    plan = plan_segments(0, 30.0, 2)
    assert plan.count == 0
    with pytest.raises(IndexError):
        plan.bounds(0)


@pytest.mark.parametrize("frames", [1, 99, 100, 101])
def test_plan_of_a_short_clip_is_one_segment(frames: int) -> None:
    plan = plan_segments(frames, 30.0, live_workers=4)
    assert covers(plan) == [(0, frames)]


def test_plan_keeps_every_live_worker_busy_within_the_length_bounds() -> None:
    # 60 s at 30 fps = 1800 frames = 18 blocks; 10 s = 3 blocks is the longest segment.
    assert plan_segments(1800, 30.0, 1).length == 300
    assert plan_segments(1800, 30.0, 2).length == 300
    assert len(covers(plan_segments(1800, 30.0, 2))) == 6
    # About three segments per worker, so one that started late (it ran the ingest's rendition) catches up:
    # 20 s on 2 workers is 6 one-block segments, not 2 of 3 blocks; on 1 worker, 3 of 2 blocks.
    assert covers(plan_segments(600, 30.0, 2)) == [(i * 100, i * 100 + 100) for i in range(6)]
    assert covers(plan_segments(600, 30.0, 1)) == [(0, 200), (200, 400), (400, 600)]
    # 9 s with 3 workers: one block each, although a block (3.3 s) is the shortest allowed.
    assert covers(plan_segments(270, 30.0, 3)) == [(0, 100), (100, 200), (200, 270)]
    # More workers than blocks: one block per segment, never less.
    assert plan_segments(250, 30.0, 16).length == 100
    # A tail shorter than 2 s joins the segment before it.
    assert covers(plan_segments(320, 30.0, 4)) == [(0, 100), (100, 200), (200, 320)]


def test_plan_respects_the_minimum_length_at_high_frame_rates() -> None:
    # 240 fps: 2 s = 480 frames → 5 blocks at least, even with many workers.
    plan = plan_segments(10 * 240, 240.0, 8)
    assert plan.length == 500
    covers(plan)


def test_plan_at_a_low_sampled_rate_still_uses_whole_blocks() -> None:
    plan = plan_segments(300, 2.0, 1)  # a block is 50 s of footage at 2 fps: longer than 10 s, one block wins
    assert plan.length == 100 and plan.count == 3


@pytest.mark.parametrize("fps", [0.0, float("nan"), -5.0])
def test_plan_with_an_unknown_rate_assumes_30_fps(fps: float) -> None:
    assert plan_segments(1800, fps, 0) == plan_segments(1800, 30.0, 1)


def test_plan_covers_every_frame_for_many_shapes() -> None:
    rng = np.random.default_rng(1)
    for _ in range(300):
        frames = int(rng.integers(1, 100_000))
        fps = float(rng.choice([5.0, 24.0, 29.97, 30.0, 60.0, 120.0, 240.0]))
        plan = plan_segments(frames, fps, int(rng.integers(0, 33)))
        bounds = covers(plan)
        longest = max(100, math.floor(10 * fps / 100 + 1e-9) * 100, math.ceil(2 * fps / 100 - 1e-9) * 100)
        assert all(end - start < longest + 2 * fps for start, end in bounds)
        assert len(bounds) == 1 or all(end - start >= 2 * fps for start, end in bounds)


# ---------------------------------------------------------------- identity across tracker restarts


def person(x: float, track_id: int, y: float = 100.0, w: float = 80.0, h: float = 200.0) -> PersonPose:
    kp = np.zeros((17, 3))
    kp[:, 0] = np.linspace(x, x + w, 17)
    kp[:, 1] = np.linspace(y, y + h, 17)
    kp[:, 2] = 0.9
    return PersonPose(kp2d=kp, kp3d=None, bbox=(x, y, x + w, y + h), score=0.9, track_id=track_id)


def crossing(indices: range, ids: dict[str, int], third: int | None = None) -> list[FramePoses]:
    """Rider A moves right, B moves left; they cross at frame 100 (the grid boundary)."""
    out = []
    for i in indices:
        persons = [person(4.0 * i, ids["A"]), person(800.0 - 4.0 * i, ids["B"])]
        if third is not None:
            persons.append(person(1200.0, third, y=500.0))
        out.append(FramePoses(i, i / 30, persons))
    return out


def test_two_riders_crossing_a_boundary_keep_their_identity() -> None:
    # Block 1's fresh tracker numbered them the other way round, and saw a newcomer (id 1) in it.
    block0 = BlockPoses([], crossing(range(0, 100), {"A": 1, "B": 2}))
    block1 = BlockPoses(crossing(range(92, 100), {"A": 2, "B": 1}), crossing(range(100, 200), {"A": 2, "B": 1}, 7))
    block2 = BlockPoses(crossing(range(192, 200), {"A": 5, "B": 6}, 4), crossing(range(200, 300), {"A": 5, "B": 6}, 4))
    mappings = join_blocks([block0, block1, block2])
    assert mappings[0] == {1: 1, 2: 2}
    assert mappings[1] == {2: 1, 1: 2, 7: 3}
    assert mappings[2] == {5: 1, 6: 2, 4: 3}


def test_a_track_seen_in_no_overlap_gets_a_new_id_and_an_empty_block_breaks_nothing() -> None:
    block0 = BlockPoses([], crossing(range(0, 100), {"A": 1, "B": 2}))
    gap = BlockPoses([], [])
    block2 = BlockPoses([], crossing(range(200, 300), {"A": 1, "B": 2}))
    assert join_blocks([block0, gap, block2]) == [{1: 1, 2: 2}, {}, {1: 3, 2: 4}]


def test_a_single_person_backend_has_one_identity() -> None:
    blocks = [
        BlockPoses([], crossing(range(0, 10), {"A": 1, "B": 1})),
        BlockPoses([], crossing(range(20, 30), {"A": 1, "B": 1})),
    ]
    assert join_blocks(blocks, single_person=True) == [{1: 1}, {1: 1}]


def test_boxes_that_barely_overlap_are_not_joined() -> None:
    before = [FramePoses(0, 0.0, [person(0.0, 1)])]
    after = [FramePoses(0, 0.0, [person(70.0, 9)])]  # IoU ≈ 0.06
    assert match_overlap(before, after) == {}


# ---------------------------------------------------------------- split metrics


def test_metrics_of_a_30_minute_clip_split_into_documents_under_1_mb() -> None:
    t = timeline(30 * 60, 30.0)
    yaw = np.degrees(np.sin(t / 3.0))
    metrics = compute_metrics(make_track(t, [body(150.0)] * len(t), yaw, noise_px=1.0, noise_m=0.005, seed=5))
    video_id = ObjectId()
    head, chunks = split_metrics(video_id, metrics)
    assert head["frames"] == 54_000 and head["seriesChunks"] == len(chunks) == 54
    sizes = [len(bson.encode(d)) for d in [head, *chunks]]
    assert max(sizes) < 1_000_000, sizes
    # The unsplit document is what used to approach MongoDB's 16 MB limit.
    assert len(bson.encode({"_id": video_id, "metrics": metrics})) > 8_000_000
    assert join_metrics(head, list(reversed(chunks))) == metrics


# ---------------------------------------------------------------- the queue on SecantusDB


def settings(**kw) -> WorkerSettings:
    return WorkerSettings(mongodb_uri="mongodb://unused", **kw)


def add_task(db: Database, job_id: ObjectId, kind: str, seq: int, priority, **kw) -> ObjectId:
    now = utcnow()
    doc = {
        "jobId": job_id,
        "videoId": ObjectId(),
        "kind": kind,
        "seq": seq,
        "state": "queued",
        "priority": priority,
        "attempts": 0,
        "lost": 0,
        "runAfter": now,
        "workerId": None,
        "leaseUntil": None,
        **kw,
    }
    return db.tasks.insert_one(doc).inserted_id


def test_claims_go_fifo_across_jobs_and_by_seq_within_a_job(db: Database) -> None:
    q = TaskQueue(db, settings(), "w1")
    q.ensure_indexes()
    old, new = utcnow() - timedelta(minutes=1), utcnow()
    job_a, job_b = ObjectId(), ObjectId()
    add_task(db, job_b, "ingest", 0, new)
    add_task(db, job_a, "segment", 2, old)
    add_task(db, job_a, "segment", 1, old)
    add_task(db, job_a, "segment", 3, old, runAfter=utcnow() + timedelta(hours=1))  # backing off
    order = [(t["jobId"], t["seq"]) for t in iter(q.claim, None)]
    assert order == [(job_a, 1), (job_a, 2), (job_b, 0)]
    task = one(db.tasks.find_one({"jobId": job_a, "seq": 1}))
    assert task["state"] == "running" and task["workerId"] == "w1" and task["leaseUntil"] > utcnow()


def test_concurrent_claims_never_hand_one_task_to_two_workers(db: Database, mongo: MongoServer) -> None:
    job = ObjectId()
    for seq in range(40):
        add_task(db, job, "segment", seq, utcnow())
    got: dict[str, list[int]] = {}

    def claim_all(name: str) -> None:
        client: MongoClient = MongoClient(mongo.uri, tz_aware=True)
        q = TaskQueue(client[db.name], settings(), name)
        got[name] = [t["seq"] for t in iter(q.claim, None)]
        client.close()

    threads = [threading.Thread(target=claim_all, args=(f"w{i}",)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    seqs = [s for claimed in got.values() for s in claimed]
    assert sorted(seqs) == list(range(40))


def test_a_deleted_task_fails_its_heartbeat(db: Database) -> None:
    q = TaskQueue(db, settings(), "w1")
    add_task(db, ObjectId(), "segment", 1, utcnow())
    task = one(q.claim())
    assert q.extend(task) and q.still_ours(task)
    db.tasks.delete_one({"_id": task["_id"]})
    assert not q.extend(task) and not q.still_ours(task)
    assert not q.complete(task, {"frames": 1})


def test_the_sweep_requeues_an_expired_lease_and_fails_after_five(db: Database) -> None:
    dead = TaskQueue(db, settings(lease_s=1.0), "dead")
    sweeper = TaskQueue(db, settings(), "alive")
    job = db.jobs.insert_one({"state": "running"}).inserted_id
    add_task(db, job, "segment", 1, utcnow())
    for lost in range(1, 6):
        task = one(dead.claim())
        assert task is not None
        db.tasks.update_one({"_id": task["_id"]}, {"$set": {"leaseUntil": utcnow() - timedelta(seconds=1)}})
        assert sweeper.sweep() == 1
        after = one(db.tasks.find_one({"_id": task["_id"]}))
        assert after["lost"] == lost and after["attempts"] == 0 and after["workerId"] is None
        assert not dead.complete(task, {})  # the dead worker's late write is refused
    assert after["state"] == "failed" and after["errorKind"] == "internal" and after["errorDetail"] == LOST_TOO_OFTEN
    assert one(db.jobs.find_one({"_id": job}))["state"] == "failed"


def test_the_sweep_leaves_live_leases_alone(db: Database) -> None:
    q = TaskQueue(db, settings(), "w1")
    add_task(db, ObjectId(), "segment", 1, utcnow())
    one(q.claim())
    assert q.sweep() == 0


def test_input_failures_spend_attempts_with_backoff_then_fail_the_job(db: Database) -> None:
    q = TaskQueue(db, settings(max_attempts=3, backoff_s=2.0), "w1")
    q.ensure_indexes()
    job = db.jobs.insert_one({"state": "running", "attempts": 0}).inserted_id
    tid = add_task(db, job, "segment", 1, utcnow())
    sibling = add_task(db, job, "segment", 2, utcnow() + timedelta(seconds=1))
    video = one(db.tasks.find_one({"_id": tid}))["videoId"]
    db.videos.insert_one({"_id": video, "status": "running"})
    for attempt in (1, 2):
        task = one(q.claim())
        assert task["_id"] == tid
        before = utcnow()
        assert q.fail(task, "undecodable", "bad bytes") == "queued"
        after = one(db.tasks.find_one({"_id": tid}))
        assert after["attempts"] == attempt
        assert after["runAfter"] >= before + timedelta(seconds=retry_delay_s(2.0, attempt) - 0.01)
        db.tasks.update_one({"_id": tid}, {"$set": {"runAfter": utcnow()}})
    task = one(q.claim())
    assert q.fail(task, "undecodable", "bad bytes") == "failed"
    job_doc = one(db.jobs.find_one({"_id": job}))
    assert job_doc["state"] == "failed" and job_doc["errorKind"] == "undecodable" and job_doc["attempts"] == 3
    assert "attempt 3 of 3" in job_doc["errorDetail"]
    assert db.tasks.find_one({"_id": sibling}) is None, "the failed job's other tasks are withdrawn"
    assert one(db.videos.find_one({"_id": video}))["status"] == "failed"


def test_release_hands_a_task_back_without_spending_an_attempt(db: Database) -> None:
    q = TaskQueue(db, settings(), "w1")
    add_task(db, ObjectId(), "segment", 1, utcnow())
    task = one(q.claim())
    assert q.release(task)
    after = one(db.tasks.find_one({"_id": task["_id"]}))
    assert (after["state"], after["attempts"], after["lost"], after["workerId"]) == ("queued", 0, 0, None)


def test_a_task_handed_back_and_claimed_again_runs_to_its_end(db: Database, tmp_path: Path, monkeypatch) -> None:
    """After a MongoDB outage the worker hands its task back and, it being the oldest, claims it again at once;
    the heartbeat had meanwhile noted the first hold as lost. The new hold must not be stopped by that note.
    The segment runner is replaced by one that only records what the loop tells it (the loop is under test)."""
    q = TaskQueue(db, settings(), "w1")
    add_task(db, ObjectId(), "segment", 1, utcnow())
    worker = Worker(WorkerContext(db, q, MediaStore(db), None, settings(), tmp_path))  # type: ignore[arg-type]
    told_to_stop: list[bool] = []

    def run(ctx: WorkerContext, task: dict, should_stop: Callable[[], bool]) -> dict:
        told_to_stop.append(should_stop())
        return {}

    monkeypatch.setitem(RUNNERS, "segment", run)
    first = one(q.claim())
    assert q.release(first)
    worker._lost_id = first["_id"]  # what the heartbeat writes when extending the handed-back hold fails
    again = one(q.claim())
    assert worker.handle(again) == "done"
    assert told_to_stop == [False]
    assert one(db.tasks.find_one({"_id": first["_id"]}))["state"] == "done"


def test_live_workers_are_those_with_a_recent_heartbeat(db: Database) -> None:
    a, b = TaskQueue(db, settings(), "a"), TaskQueue(db, settings(), "b")
    a.register({"hostname": "h"})
    b.register({"hostname": "h"})
    db.workers.update_one({"_id": "b"}, {"$set": {"heartbeatAt": utcnow() - timedelta(seconds=30)}})
    assert a.live_workers() == 1
    b.beat(None, 12.5)
    assert a.live_workers() == 2
    a.unregister()
    assert a.live_workers() == 1


def test_settings_read_the_password_from_its_file(tmp_path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    s = WorkerSettings.from_env(
        {
            "MONGODB_URI": "mongodb://db:27017/?directConnection=true",
            "MONGODB_USERNAME": "snowboarding-pose",
            "MONGODB_PASSWORD_FILE": str(secret),
        }
    )
    opts = s.client_options()
    assert (opts["username"], opts["password"], opts["authSource"]) == ("snowboarding-pose", "s3cret", "snowboarding")
    assert "s3cret" not in repr(s)
    with pytest.raises(ValueError, match="MONGODB_URI"):
        WorkerSettings.from_env({})
    with pytest.raises(ValueError, match="MONGODB_USERNAME"):
        WorkerSettings.from_env({"MONGODB_URI": "mongodb://db", "MONGODB_PASSWORD_FILE": str(secret)})


def test_the_health_check_wants_a_fresh_heartbeat_file(tmp_path: Path) -> None:
    alive = tmp_path / "alive"
    assert "does not exist" in (health_check(alive, 15) or "")
    alive.touch()
    assert health_check(alive, 15) is None
    assert "stuck or gone" in (health_check(alive, 15, now=alive.stat().st_mtime + 60) or "")
