"""What `invoke bench-analysis` sends and follows: its clips (ffmpeg), the API and the database as the bench sees
them (upload, the job's event stream, the first readable skeleton, the workers' heartbeats and segment timings),
and one clip's run through the stack. The rows and goals built from these runs are in analysis.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from ..errors import SnowstackError

PHOTO = Path(__file__).resolve().parent.parent / "data" / "person.jpg"
LIVE_S = 10  # a worker is live while its heartbeat is younger than this (docs/contracts.md)
JOB_DEADLINE_S = 600


@dataclass
class JobRun:
    """One clip through the stack: when it was sent, answered, first readable, done; its frames and job id."""

    clip: str
    sent: float
    answered: float = 0.0
    first_skeleton: float | None = None
    done: float = 0.0
    frames: int = 0
    job_id: str = ""
    state: str = ""
    segments: int = 0
    segment_seconds: list[float] = field(default_factory=list)  # each segment's analysis, by the worker's clock

    @property
    def seconds(self) -> float:
        """From the end of the upload to done: the analysis as the user waits for it."""
        return self.done - self.answered


# --- clips --------------------------------------------------------------------------------------------------------


def make_clip(path: Path, seconds: float, width: int = 640, height: int = 480, fps: int = 30) -> Path:
    """An H.264 clip of the bundled photo of a person panning slowly (MediaPipe finds the person in every frame)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SnowstackError("ffmpeg is not installed: the analysis bench makes its clips with it (apt-get install ffmpeg)")
    big_w, big_h = width + width // 4, height + height // 4
    pan = f"crop={width}:{height}:'{width // 8}+{width // 10}*sin(2*PI*t/4)':'{height // 8}+{height // 10}*cos(2*PI*t/3)'"
    command = [ffmpeg, "-v", "error", "-y", "-loop", "1", "-framerate", str(fps), "-i", str(PHOTO), "-t", str(seconds)]
    command += ["-vf", f"scale={big_w}:{big_h},{pan},format=yuv420p", "-c:v", "libx264", "-preset", "veryfast", "-r", str(fps), str(path)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SnowstackError(f"ffmpeg could not make the bench clip {path.name}: {result.stderr.strip()[-200:]}")
    return path


# --- the API and the database, as the bench sees them -----------------------------------------------------------


@dataclass
class AnalysisTarget:
    """What the bench talks to: the API, the database (the workers' account), and how to scale the workers."""

    api: str
    session: requests.Session
    database: Any  # pymongo Database of the app
    scale: Callable[[int], None]  # run exactly this many workers, waiting until they are healthy
    poll_s: float = 0.1

    def live_workers(self) -> int:
        return int(self.database.workers.count_documents({"heartbeatAt": {"$gt": datetime.now(UTC) - timedelta(seconds=LIVE_S)}}))

    def use_workers(self, count: int, timeout_s: float = 300) -> None:
        """Scale to `count` workers and wait until exactly that many are live (a stopped one unregisters)."""
        self.scale(count)
        deadline = time.monotonic() + timeout_s
        while self.live_workers() != count:
            if time.monotonic() > deadline:
                raise SnowstackError(f"{self.live_workers()} live pose workers, not {count}, {timeout_s:.0f} s after scaling")
            time.sleep(0.5)

    def upload(self, clip: Path) -> tuple[str, str]:
        with clip.open("rb") as video:
            response = self.session.post(
                f"{self.api}/api/videos", files={"video": (clip.name, video, "video/mp4")}, data={"role": "rider"}, timeout=300
            )
        if response.status_code != 202:
            raise SnowstackError(f"uploading {clip.name}: HTTP {response.status_code}: {response.text[:200]}")
        body = response.json()
        return str(body["videoId"]), str(body["jobId"])

    def follow(self, job_id: str, timeout_s: float) -> dict[str, Any]:
        """The job's event stream, as the web app follows it, until done or failed: the last Job. Polling
        GET /api/jobs/:id every 0.1 s instead cost the API and the database ~9 ms of CPU a request, a tenth of a
        core taken from the workers being measured."""
        deadline = time.monotonic() + timeout_s
        url = f"{self.api}/api/jobs/{job_id}/events"
        with self.session.get(url, stream=True, timeout=(10, 60)) as response:  # the API writes a keep-alive every 15 s
            if response.status_code != 200:
                raise SnowstackError(f"GET /api/jobs/{job_id}/events: HTTP {response.status_code}: {response.text[:200]}")
            for event, data in sse_events(response.iter_lines(decode_unicode=True)):
                if event == "deleted":
                    raise SnowstackError(f"job {job_id} was deleted while the bench followed it")
                if event == "job" and data["state"] in ("done", "failed"):
                    return dict(data)
                if time.monotonic() > deadline:
                    raise SnowstackError(f"job {job_id} still {data.get('state')} after {timeout_s:.0f} s")
        raise SnowstackError(f"the event stream of job {job_id} ended before the job did")

    def has_skeleton(self, video_id: str) -> bool:
        response = self.session.get(f"{self.api}/api/videos/{video_id}/pose", timeout=10)
        return response.status_code == 200 and any(frame.get("persons") for frame in response.json().get("frames", []))

    def delete(self, video_id: str) -> None:
        self.session.delete(f"{self.api}/api/videos/{video_id}", timeout=30)

    def segment_seconds(self, job_ids: Sequence[str]) -> list[float]:
        from bson import ObjectId

        tasks = self.database.tasks.find({"jobId": {"$in": [ObjectId(j) for j in job_ids]}, "kind": "segment", "state": "done"})
        return [float(t["result"]["seconds"]) for t in tasks if (t.get("result") or {}).get("seconds")]


def sse_events(lines: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """(event, parsed JSON data) per Server-Sent Event; comments (the keep-alives) and `retry:` are skipped."""
    event = "message"
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield event, json.loads("\n".join(data))
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))


def run_clip(target: AnalysisTarget, clip: Path, watch_skeleton: bool = False) -> JobRun:
    """Upload a clip and follow its job to the end; the video is deleted afterwards. With `watch_skeleton`, its
    poses are polled every `poll_s` meanwhile, until the first frame with a skeleton is readable."""
    run = JobRun(clip.name, sent=time.perf_counter())
    video_id, run.job_id = target.upload(clip)
    run.answered = time.perf_counter()
    ended = threading.Event()

    def watch() -> None:
        while not ended.is_set():
            if target.has_skeleton(video_id):
                run.first_skeleton = time.perf_counter() - run.answered
                return
            ended.wait(target.poll_s)

    watcher = threading.Thread(target=watch, daemon=True) if watch_skeleton else None
    try:
        if watcher:
            watcher.start()
        job = target.follow(run.job_id, JOB_DEADLINE_S)
        run.done, run.state = time.perf_counter(), job["state"]
        ended.set()
        if watcher:
            watcher.join()
        run.frames = int(job.get("framesTotal") or 0)
        run.segments = int((job.get("segments") or {}).get("total") or 0)
        if run.state != "done":
            raise SnowstackError(f"{clip.name}: job {run.job_id} failed: {job.get('error')} ({job.get('errorDetail')})")
        if watch_skeleton and run.first_skeleton is None and target.has_skeleton(video_id):
            run.first_skeleton = run.done - run.answered
        run.segment_seconds = target.segment_seconds([run.job_id])  # before the delete takes the tasks with it
    finally:
        ended.set()
        target.delete(video_id)
    return run
