"""Benchmark: one clip analysed by 1 pose worker process, then by N (= CPU cores), through the real queue.

Each run starts SecantusDB (the offline MongoDB-wire stand-in) and `python -m pose_service.worker` processes,
waits until they have loaded the model, submits the clip as the API does (GridFS original, video, job, ingest
task) and times it to `done`. Reported per worker count: upload→done, upload→first stored skeleton, the
analysis phase (segments queued → finish done; they are queued after the ingest's probe and run beside its
ffmpeg), frames/s, and the p95 segment time; then the
throughput ratio N vs 1 (goal ≥ 1.6 on 2 cores). The clip is 640×480 at 30 fps from scikit-image's astronaut,
panning. Usage, from anywhere:
    .venv/bin/python backend/pose-service/bench/bench_workers.py [--seconds 20] [--workers N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SERVICE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(SERVICE_DIR))
sys.path.insert(0, str(SERVICE_DIR / "tests"))

import psutil  # noqa: E402
from bson import ObjectId  # noqa: E402
from mongo_server import MongoServer, submit_video, wait_for  # noqa: E402
from pymongo import MongoClient  # noqa: E402
from pymongo.database import Database  # noqa: E402


def make_clip(folder: Path, seconds: float, fps: int = 30) -> Path:
    import cv2
    import skimage.data

    photo = folder / "astronaut.png"
    cv2.imwrite(str(photo), cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR))
    out = folder / f"astronaut-{seconds:g}s.mp4"
    vf = "scale=480:480,pad=640:480:80:0,crop=640:480:x='20*sin(n/20)':y='10*sin(n/15)',format=yuv420p"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-loop",
            "1",
            "-framerate",
            str(fps),
            "-i",
            str(photo),
            "-frames:v",
            str(round(fps * seconds)),
            "-vf",
            vf,
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-g",
            str(fps),
            str(out),
        ],
        check=True,
    )
    return out


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a worker process and its children (ffmpeg during the ingest)."""
    try:
        proc = psutil.Process(pid)
        t = proc.cpu_times()
        return t.user + t.system + t.children_user + t.children_system
    except psutil.Error:
        return 0.0


def p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(mongo: MongoServer, clip: Path, workers: int, logs: Path) -> dict[str, Any]:
    client: MongoClient = MongoClient(mongo.uri, tz_aware=True)
    db: Database = client[f"bench{ObjectId()}"]
    env = dict(os.environ, MONGODB_URI=mongo.uri, MONGODB_DB=db.name, POSE_BACKEND="mediapipe")
    procs = []
    for i in range(workers):
        with open(logs / f"w{workers}-{i}.log", "wb") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "pose_service.worker"],
                    cwd=SERVICE_DIR,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        wait_for(lambda: db.workers.count_documents({}) == workers, 180, f"{workers} workers to load the model")
        cpu_before = sum(_cpu_s(p.pid) for p in procs)
        load_before = os.getloadavg()[0]
        started = time.time()
        video_id, job_id = submit_video(db, clip)
        submitted = time.perf_counter()
        first_skeleton: list[float] = []

        def ended() -> bool:
            # As bench-analysis does through /pose: the first stored frame with a person, polled every 0.05 s.
            with_person = {"videoId": video_id, "frames.persons.0": {"$exists": 1}}
            if not first_skeleton and db.pose_frames.find_one(with_person):
                first_skeleton.append(time.perf_counter() - submitted)
            return (db.jobs.find_one({"_id": job_id}) or {}).get("state") in ("done", "failed")

        wait_for(ended, 3600, "the job to end", every=0.05)
        cpu_s = sum(_cpu_s(p.pid) for p in procs) - cpu_before
        job = db.jobs.find_one({"_id": job_id}) or {}
        if job.get("state") != "done":
            raise SystemExit(f"the job failed: {job.get('errorKind')}: {job.get('errorDetail')}")
        segments = list(db.tasks.find({"jobId": job_id, "kind": "segment"}))
        ingest = db.tasks.find_one({"jobId": job_id, "kind": "ingest"}) or {}
        # Segments are queued right after the ingest's probe and run beside its ffmpeg: the analysis phase runs
        # from the first segment's start (its heartbeat was set at the claim and moves on, so: its createdAt).
        first_start = min(t["createdAt"].timestamp() for t in segments)
        total_s = job["finishedAt"].timestamp() - started
        analysis_s = job["finishedAt"].timestamp() - first_start
        seg_s = [t["result"]["seconds"] for t in segments]
        return {
            "workers": workers,
            "frames": job["framesTotal"],
            "segments": len(segments),
            "segment_workers": len({t["result"]["worker"] for t in segments}),
            "upload_to_done_s": round(total_s, 2),
            "first_skeleton_s": round(first_skeleton[0], 2) if first_skeleton else None,
            "ingest_s": round(ingest["result"]["ingestS"], 2),
            "analysis_s": round(analysis_s, 2),
            "frames_per_s": round(job["framesTotal"] / analysis_s, 2),
            "segment_p95_s": round(p95(seg_s) or 0.0, 2),
            "segment_median_s": round(statistics.median(seg_s), 2),
            # CPU the workers got over the run, in cores: N workers on N idle cores would get ≈ N.
            "worker_cores_used": round(cpu_s / total_s, 2),
            "cpu_ms_per_frame": round(1000 * cpu_s / job["framesTotal"], 1),
            "load_avg_1m": round((load_before + os.getloadavg()[0]) / 2, 1),
        }
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        client.drop_database(db.name)
        client.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0, help="clip length (default 20; the issue's goal uses 60)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="N, the second run (default: cores)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        folder = Path(tmp)
        clip = make_clip(folder, args.seconds)
        mongo = MongoServer()
        mongo.start()
        try:
            rows = [run(mongo, clip, n, folder) for n in (1, max(1, args.workers))]
        finally:
            mongo.dispose()
    ratio = round(rows[1]["frames_per_s"] / rows[0]["frames_per_s"], 2)
    ratio_total = round(rows[0]["upload_to_done_s"] / rows[1]["upload_to_done_s"], 2)
    res = {
        "clip_s": args.seconds,
        "cpu_count": os.cpu_count(),
        "runs": rows,
        "analysis_throughput_ratio": ratio,
        "upload_to_done_ratio": ratio_total,
        "goal_ratio": 1.6,
    }
    if args.json:
        print(json.dumps(res, indent=2))
        return
    print(f"clip {args.seconds:g} s 640×480 30 fps, {os.cpu_count()} CPUs, MediaPipe")
    head = list(rows[0])
    print("  ".join(f"{h:>17}" for h in head))
    for row in rows:
        print("  ".join(f"{row[h]!s:>17}" for h in head))
    print(
        f"throughput ratio {rows[1]['workers']} vs 1 worker: analysis {ratio} (goal ≥ 1.6), upload→done {ratio_total}"
    )


if __name__ == "__main__":
    main()
