"""The pose workers under faults, on the real engine: a worker killed mid-job, every worker stopped for a minute, a
video deleted mid-analysis (issue 14). Two workers (`invoke up --workers 2`) on the suite's isolated project.

What the tests read comes from where it happens: the job through the API (as the web app sees it), the tasks and
the workers from MongoDB (with the workers' own account), the kill from the host's process table.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from polling import wait_for
from pymongo import MongoClient
from pymongo.database import Database

from snowstack.apiclient import ApiClient, sign_in_as_admin
from snowstack.bench.analysis_target import make_clip
from snowstack.compose import ComposeStack
from snowstack.workflows import compose_stack

pytestmark = [pytest.mark.engine, pytest.mark.stack]

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
WORKER = "pose-worker"
LEASE_S = 10  # a task's lease (docs/contracts.md): a dead worker's segment is taken back after it
HEARTBEAT_S = 0.5  # a worker's heartbeat (docs/contracts.md): it writes its current taskId this often


def invoke(*args: str, timeout: int = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def project(engine: object) -> Iterator[ComposeStack]:
    result = invoke("up", "--workers", str(WORKERS), "--timeout", "900", "--skip-lint")  # lint has its own tests
    assert result.returncode == 0, f"invoke up failed\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    yield compose_stack()
    invoke("down", "--volumes")


@pytest.fixture(scope="module")
def db(project: ComposeStack) -> Iterator[Database[dict[str, Any]]]:
    env = project.env
    client: MongoClient[dict[str, Any]] = MongoClient(
        f"mongodb://127.0.0.1:{project.published_port('mongodb')}/",
        username=env["MONGO_POSE_USERNAME"],
        password=env["MONGO_POSE_PASSWORD"],
        authSource="snowboarding",
        tz_aware=True,
    )
    with client:
        yield client.snowboarding


@pytest.fixture(scope="module")
def api(project: ComposeStack) -> ApiClient:
    """Signed in as the project's first admin: relative paths go to the API, writes carry the CSRF token."""
    return sign_in_as_admin(project.urls()["backend-api"], project.env, project.env_file)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    # 12 s at 30 fps = 360 analysed frames: two 200-frame segments, one per worker (the plan keeps every live
    # worker busy). Short, because this machine is shared: a 40 s clip took minutes at a load average of 40.
    return {"two-segments": make_clip(folder / "two.mp4", seconds=12), "short": make_clip(folder / "short.mp4", seconds=4)}


def upload(api: ApiClient, clip: Path) -> tuple[str, str]:
    with clip.open("rb") as video:
        response = api.post("/api/videos", files={"video": (clip.name, video, "video/mp4")}, data={"role": "rider"}, timeout=120)
    assert response.status_code == 202, response.text
    return response.json()["videoId"], response.json()["jobId"]


def job(api: ApiClient, job_id: str) -> dict[str, Any]:
    response = api.get(f"/api/jobs/{job_id}", timeout=10)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def wait_done(api: ApiClient, job_id: str, timeout_s: float = 300) -> tuple[dict[str, Any], list[float]]:
    """The job at its end and every progress value seen on the way (polled like the web app's fallback)."""
    seen: list[float] = []

    def ended() -> dict[str, Any] | None:
        answer = job(api, job_id)
        seen.append(float(answer.get("progress") or 0))
        return answer if answer["state"] in ("done", "failed") else None

    final: dict[str, Any] = wait_for(f"job {job_id} to end", ended, timeout_s, every_s=0.5)
    return final, seen


def assert_monotone(progress: list[float]) -> None:
    assert all(b >= a for a, b in itertools.pairwise(progress)), progress


def segments(db: Database[dict[str, Any]], job_id: str) -> list[dict[str, Any]]:
    from bson import ObjectId

    return list(db.tasks.find({"jobId": ObjectId(job_id), "kind": "segment"}).sort("seq", 1))


def worker_containers(project: ComposeStack) -> dict[str, Any]:
    """The running worker containers by hostname (what a worker writes into its `workers` document)."""
    found = {}
    for container in project.compose.ps():
        if container.config.labels.get("com.docker.compose.service") == WORKER:
            found[str(container.config.hostname)] = container
    return found


def delete(api: ApiClient, video_id: str) -> None:
    response = api.delete(f"/api/videos/{video_id}", timeout=30)
    assert response.status_code in (204, 404), response.text


# --- the compose description ------------------------------------------------------------------------------------


def test_the_workers_scale_without_names_or_ports_and_reach_only_mongodb(project: ComposeStack) -> None:
    config = project.compose.config(return_json=True)
    worker = config["services"][WORKER]
    assert "container_name" not in worker and not worker.get("ports"), worker
    assert worker["deploy"]["replicas"] == WORKERS
    assert set(worker["networks"]) == {"data"}
    assert worker["image"] == config["services"]["pose-service"]["image"]  # one image, built once
    assert len(worker_containers(project)) == WORKERS
    states = {state.name: state for state in project.states()}
    assert {f"{WORKER} #1", f"{WORKER} #2"} <= set(states), states  # `invoke ps` lists each replica
    assert all(states[f"{WORKER} #{n}"].health == "healthy" for n in (1, 2))


# --- faults -------------------------------------------------------------------------------------------------------


def test_a_worker_killed_mid_job_costs_only_its_own_segment(
    project: ComposeStack, api: ApiClient, db: Database[dict[str, Any]], clips: dict[str, Path]
) -> None:
    video_id, job_id = upload(api, clips["two-segments"])
    try:
        # A segment that a worker has just claimed, so that it is still running when the kill lands.
        def fresh_running_segment() -> dict[str, Any] | None:
            running = [t for t in segments(db, job_id) if t["state"] == "running" and t.get("workerId")]
            return max(running, key=lambda t: t["updatedAt"]) if running else None

        victim_task = wait_for("a running segment", fresh_running_segment, 600, every_s=0.1)
        victim_worker = db.workers.find_one({"_id": victim_task["workerId"]})
        assert victim_worker is not None, victim_task
        container = worker_containers(project)[victim_worker["hostname"]]
        restarts_before = project.engine.client.container.inspect(container.id).restart_count
        pid = project.engine.client.container.inspect(container.id).state.pid
        assert pid and pid > 1
        # The host's kill, not `docker kill` (a manual stop, which the restart policy honours).
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()

        final, progress = wait_done(api, job_id, timeout_s=600)
        assert final["state"] == "done", final
        assert_monotone(progress)
        tasks = segments(db, job_id)
        assert len(tasks) == final["segments"]["total"] >= WORKERS, tasks
        assert all(t["state"] == "done" and t["attempts"] == 0 for t in tasks), tasks
        redone = [t["seq"] for t in tasks if t["lost"]]
        assert redone == [victim_task["seq"]], f"redone: {redone}, killed mid segment {victim_task['seq']}"
        assert next(t for t in tasks if t["seq"] == victim_task["seq"])["lost"] == 1
        assert final["attempts"] == 0 and final["framesDone"] == final["framesTotal"], final
        # The killed container came back by itself (a crash, not a stop) and its worker is live again.
        wait_for(
            "the killed worker's container to restart",
            lambda: project.engine.client.container.inspect(container.id).restart_count > restarts_before,
            60,
            every_s=0.2,
        )
        wait_for("two live workers again", lambda: len(live_workers(db)) == WORKERS, 120, every_s=0.2)
        assert time.monotonic() - killed_at >= LEASE_S * 0.5  # the segment waited for its lease, not for luck
    finally:
        delete(api, video_id)


def live_workers(db: Database[dict[str, Any]]) -> list[dict[str, Any]]:
    from datetime import UTC, datetime, timedelta

    return list(db.workers.find({"heartbeatAt": {"$gt": datetime.now(UTC) - timedelta(seconds=10)}}))


def test_with_every_worker_stopped_jobs_wait_for_workers_and_finish_when_they_return(
    project: ComposeStack, api: ApiClient, db: Database[dict[str, Any]], clips: dict[str, Path]
) -> None:
    video_id, job_id = upload(api, clips["two-segments"])
    try:
        wait_for("the analysis to start", lambda: any(t["state"] == "running" for t in segments(db, job_id)) or None, 600, every_s=0.2)
        project.compose.stop([WORKER])  # SIGTERM: each hands its task back, no attempt spent
        stopped_at = time.monotonic()
        progress: list[float] = []
        waiting_seen = 0
        while time.monotonic() - stopped_at < 60:
            answer = job(api, job_id)
            progress.append(float(answer.get("progress") or 0))
            assert answer["state"] in ("queued", "running"), answer
            if time.monotonic() - stopped_at > 12:  # past the live window of the last heartbeat
                assert answer.get("waiting") == "workers", answer
                waiting_seen += 1
            time.sleep(1)
        assert waiting_seen >= 10 and not live_workers(db), waiting_seen
        assert not [t for t in segments(db, job_id) if t["state"] == "running"], "a task stayed claimed by a stopped worker"
        project.compose.start([WORKER])
        final, after = wait_done(api, job_id, timeout_s=600)
        assert final["state"] == "done" and final.get("waiting") is None, final
        assert_monotone(progress + after)
        # Stopped, not crashed: each worker handed its segment back (no lease ran out, no attempt was spent).
        assert final["attempts"] == 0 and all(t["attempts"] == 0 and t["lost"] == 0 for t in segments(db, job_id)), segments(db, job_id)
    finally:
        project.up(timeout_s=600)  # the workers back, whatever happened
        delete(api, video_id)


def test_deleting_a_video_mid_analysis_frees_the_workers_within_a_second(
    project: ComposeStack, api: ApiClient, db: Database[dict[str, Any]], clips: dict[str, Path]
) -> None:
    from bson import ObjectId

    wait_for("two live workers", lambda: len(live_workers(db)) == WORKERS, 120, every_s=0.2)
    video_id, job_id = upload(api, clips["two-segments"])
    busy = wait_for(
        "both workers on a segment",
        lambda: sum(1 for t in segments(db, job_id) if t["state"] == "running") == WORKERS,
        600,
        every_s=0.1,
    )
    assert busy
    oid = ObjectId(video_id)
    # The API's DELETE removes the job's tasks first (that is the cancellation), then the video's files and frames;
    # on this shared machine the whole request can take seconds, so the clock starts when the tasks are gone.
    with ThreadPoolExecutor(max_workers=1) as pool:
        deleting = pool.submit(delete, api, video_id)
        cancelled = wait_for(
            "the tasks to be deleted", lambda: db.tasks.count_documents({"videoId": oid}) == 0 and time.monotonic(), 60, every_s=0.02
        )
        freed = wait_for(
            "the workers to drop the deleted video's segments",
            lambda: all(w.get("taskId") is None for w in live_workers(db)) and time.monotonic(),
            10,
            every_s=0.02,
        )
        deleting.result()
    # Within a second, observed through the workers' own documents: a worker writes taskId at its next 0.5 s
    # heartbeat after it let go, so up to one heartbeat of reporting delay comes on top.
    assert freed - cancelled <= 1.0 + HEARTBEAT_S, f"freed {freed - cancelled:.2f} s after the tasks were deleted"
    time.sleep(2)  # a stopped segment writes nothing more, and what it wrote is removed
    assert db.tasks.count_documents({"videoId": oid}) == 0
    assert db.pose_frames.count_documents({"videoId": oid}) == 0
    assert db["media.files"].count_documents({"metadata.videoId": oid}) == 0
    # Freed means working again: the next video is taken at once.
    short_video, short_job = upload(api, clips["short"])
    try:
        final, progress = wait_done(api, short_job, timeout_s=600)
        assert final["state"] == "done" and final["attempts"] == 0, final
        assert_monotone(progress)
    finally:
        delete(api, short_video)
