"""The pose worker as processes (`python -m pose_service.worker`, what the pose-worker containers run), on a
real MongoDB-wire server with real MediaPipe: two workers share one job; a worker SIGKILLed mid-segment costs
only its segment, redone after the lease expires; a MongoDB outage is waited out without spending attempts;
SIGTERM hands the running task back."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from conftest import SERVICE_DIR, person_photos, write_pan_zoom_video
from mongo_server import MongoServer, one, submit_video, wait_for
from pymongo.database import Database

LEASE_S = 2.0


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 analysed frames: four segments of one tracker block each with the settings below."""
    return write_pan_zoom_video(tmp_path_factory.mktemp("clips") / "astronaut.mp4", person_photos()["astronaut"], 400)


class WorkerProcess:
    def __init__(self, mongo: MongoServer, db: Database, log: Path):
        env = dict(
            os.environ,
            MONGODB_URI=mongo.uri,
            MONGODB_DB=db.name,
            POSE_BACKEND="mediapipe",
            POSE_TASK_LEASE_S=str(LEASE_S),
            POSE_SEGMENT_MIN_S="1",
            POSE_SEGMENT_MAX_S="3.4",
            POSE_TASK_BACKOFF_S="0.2",
            POSE_WORKER_HEALTH_FILE=str(log.with_suffix(".alive")),
        )
        self.env = env
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pose_service.worker"],
                cwd=SERVICE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.db = db

    @property
    def worker_id(self) -> str:
        doc = self.db.workers.find_one({"pid": self.proc.pid})
        assert doc is not None, f"worker {self.proc.pid} is not registered:\n{self.output()}"
        return str(doc["_id"])

    def wait_registered(self) -> str:
        wait_for(
            lambda: self.proc.poll() is None and self.db.workers.find_one({"pid": self.proc.pid}),
            120,
            f"worker {self.proc.pid} to register",
        )
        return self.worker_id

    def healthy(self) -> bool:
        """The container health check's verdict (python -m pose_service.worker.health)."""
        check = [sys.executable, "-m", "pose_service.worker.health"]
        return subprocess.run(check, cwd=SERVICE_DIR, env=self.env, capture_output=True).returncode == 0

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def workers(mongo: MongoServer, db: Database, tmp_path: Path, n: int) -> Iterator[list[WorkerProcess]]:
    procs = [WorkerProcess(mongo, db, tmp_path / f"worker{i}.log") for i in range(n)]
    try:
        for p in procs:
            p.wait_registered()
        yield procs
    finally:
        for p in procs:
            p.stop()


def running_segment_of(db: Database, worker_id: str) -> dict[str, Any] | None:
    return db.tasks.find_one({"kind": "segment", "state": "running", "workerId": worker_id})


def wait_done(db: Database, job_id: ObjectId, procs: list[WorkerProcess], timeout: float = 400) -> dict[str, Any]:
    def ended() -> bool:
        return one(db.jobs.find_one({"_id": job_id}))["state"] in ("done", "failed")

    try:
        wait_for(ended, timeout, "the job to end", every=0.2)
    except AssertionError:
        raise AssertionError("\n\n".join(p.output() for p in procs)) from None
    return one(db.jobs.find_one({"_id": job_id}))


def test_two_worker_processes_share_the_segments_of_one_job(
    mongo: MongoServer, db: Database, clip: Path, tmp_path: Path
) -> None:
    with workers(mongo, db, tmp_path, 2) as procs:
        ids = {p.worker_id for p in procs}
        assert all(p.healthy() for p in procs)
        _, job_id = submit_video(db, clip)
        job = wait_done(db, job_id, procs)
    assert job["state"] == "done" and job["segmentsTotal"] == 4, job.get("errorDetail")
    by = [t["result"]["worker"] for t in db.tasks.find({"jobId": job_id, "kind": "segment"})]
    assert set(by) == ids, f"segments were done by {by}"
    assert db.workers.count_documents({}) == 0, "workers remove their document on a clean exit"


def test_a_worker_killed_mid_segment_costs_only_its_segment(
    mongo: MongoServer, db: Database, clip: Path, tmp_path: Path
) -> None:
    with workers(mongo, db, tmp_path, 2) as procs:
        victim, survivor = procs
        victim_id, survivor_id = victim.worker_id, survivor.worker_id
        video_id, job_id = submit_video(db, clip)
        held = wait_for(lambda: running_segment_of(db, victim_id), 300, "the victim to run a segment", every=0.05)
        time.sleep(0.5)  # mid-segment: some frames in, most to go
        os.kill(victim.proc.pid, signal.SIGKILL)  # what the OOM killer does; no chance to hand anything back
        killed_at = time.monotonic()
        victim.proc.wait(10)
        job = wait_done(db, job_id, [survivor])
    assert job["state"] == "done" and job["attempts"] == 0, job.get("errorDetail")
    segments = {t["_id"]: t for t in db.tasks.find({"jobId": job_id, "kind": "segment"})}
    redone = segments[held["_id"]]
    assert (redone["lost"], redone["attempts"], redone["result"]["worker"]) == (1, 0, survivor_id)
    # The lease had to run out first: nothing took the task over while the victim could still have been alive.
    assert (redone["finishedAt"].timestamp() - time.time()) + (time.monotonic() - killed_at) >= LEASE_S - 0.5
    others = [t for k, t in segments.items() if k != held["_id"]]
    assert all(t["lost"] == 0 and t["attempts"] == 0 for t in others)
    assert one(db.tasks.find_one({"jobId": job_id, "kind": "finish"}))["lost"] == 0
    assert db.pose_frames.count_documents({"videoId": video_id}) == 4


def test_a_mongodb_outage_is_waited_out_without_spending_attempts(
    mongo: MongoServer, db: Database, clip: Path, tmp_path: Path
) -> None:
    if mongo.external:
        pytest.skip("MONGODB_TEST_URI points at a server this test cannot stop")
    with workers(mongo, db, tmp_path, 1) as procs:
        (proc,) = procs
        _, job_id = submit_video(db, clip)
        wait_for(lambda: running_segment_of(db, proc.worker_id), 300, "a running segment", every=0.05)
        mongo.stop()
        time.sleep(3 * LEASE_S)
        assert proc.proc.poll() is None, f"the worker exited during the outage:\n{proc.output()}"
        mongo.start()
        job = wait_done(db, job_id, procs)
        assert "MongoDB unreachable" in proc.log.read_text(errors="replace")
    assert job["state"] == "done" and job["attempts"] == 0, job.get("errorDetail")
    tasks = list(db.tasks.find({"jobId": job_id}))
    assert all(t["attempts"] == 0 and t["state"] == "done" for t in tasks)
    # One worker, so no one else's sweep took a task from it during the outage: nothing was redone either.
    assert [t["lost"] for t in tasks] == [0] * len(tasks)


def test_sigterm_hands_the_running_task_back_without_spending_an_attempt(
    mongo: MongoServer, db: Database, clip: Path, tmp_path: Path
) -> None:
    with workers(mongo, db, tmp_path, 1) as procs:
        (proc,) = procs
        worker_id = proc.worker_id
        _, job_id = submit_video(db, clip)
        held = wait_for(lambda: running_segment_of(db, worker_id), 300, "a running segment", every=0.05)
        signalled = time.monotonic()
        proc.proc.send_signal(signal.SIGTERM)
        assert proc.proc.wait(10) == 0, proc.output()
        exited_after = time.monotonic() - signalled
    task = one(db.tasks.find_one({"_id": held["_id"]}))
    assert (task["state"], task["attempts"], task["lost"], task["workerId"]) == ("queued", 0, 0, None)
    assert db.workers.count_documents({"_id": worker_id}) == 0
    job = one(db.jobs.find_one({"_id": job_id}))
    assert (job["state"], job["attempts"]) == ("running", 0)
    assert exited_after < 3.0, f"the worker took {exited_after:.1f} s to stop"
    assert not proc.healthy(), "a stopped worker is not healthy"
    assert "released (worker stopping)" in proc.log.read_text(errors="replace")
