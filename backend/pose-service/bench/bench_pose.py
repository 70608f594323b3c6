"""Benchmark: /v1/pose/video through gunicorn versus MediaPipe called directly on the same frames.

Reports frames/s and per-frame latency of both (goal: service ≥ 0.9× raw), cold start to /ready, and the
server's peak RSS (all gunicorn processes together). The service's own pipeline (pose_service.pipeline) also runs
in this process, without HTTP, so the HTTP layer's share of the service's time shows. Usage, from anywhere:
    .venv/bin/python backend/pose-service/bench/bench_pose.py [--frames 90] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SERVICE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(SERVICE_DIR))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
import requests  # noqa: E402

from pose_service.config import Config  # noqa: E402
from pose_service.pipeline import analyse_video  # noqa: E402
from pose_service.runtime import PoseRuntime  # noqa: E402
from pose_service.validation import parse_sampling  # noqa: E402


def synth_video(path: Path, frames: int, fps: float = 30.0) -> Path:
    """A pan/zoom/rotate clip over scikit-image's cameraman photo (a real person, no download)."""
    import skimage.data

    cam = skimage.data.camera()
    bgr = cv2.cvtColor(np.stack([cam] * 3, axis=-1), cv2.COLOR_RGB2BGR)
    h, w = bgr.shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    for i in range(frames):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), 4 * np.sin(i / 8), 1 + 0.1 * i / frames)
        m[0, 2] += 20 * np.sin(i / 10)
        out.write(cv2.warpAffine(bgr, m, (w, h), borderMode=cv2.BORDER_REFLECT))
    out.release()
    return path


def raw_mediapipe(path: Path) -> dict[str, float]:
    """Decode every frame and run BlazePose full in video mode, exactly as a script would."""
    import mediapipe as mp

    started = time.perf_counter()
    per_frame: list[float] = []
    cap = cv2.VideoCapture(str(path))
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            t0 = time.perf_counter()
            pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            per_frame.append(time.perf_counter() - t0)
    cap.release()
    total = time.perf_counter() - started
    return {
        "seconds": total,
        "frames": len(per_frame),
        "fps": len(per_frame) / total,
        "p50_ms": 1000 * statistics.median(per_frame),
        "p95_ms": 1000 * float(np.percentile(per_frame, 95)),
    }


def in_process_runtime() -> tuple[PoseRuntime, Config]:
    """The service's MediaPipe runtime, loaded and warmed up here, as a gunicorn worker holds it."""
    cfg = Config.from_env({"POSE_BACKEND": "mediapipe"})
    rt = PoseRuntime(cfg)
    rt.start(background=False)
    if not rt.ready:
        raise SystemExit(f"pose runtime did not load: {rt.detail}")
    return rt, cfg


def pipeline_direct(rt: PoseRuntime, cfg: Config, path: Path) -> dict[str, float]:
    """The service's video pipeline (probe, decode, pose, tracking, metrics) called without HTTP, default options."""
    t0 = time.perf_counter()
    reply = analyse_video(rt, str(path), parse_sampling({}, cfg.max_frames_limit), cfg.analysis_max_side)
    seconds = time.perf_counter() - t0
    n = len(reply["frames"])
    return {"seconds": seconds, "frames": n, "fps": n / seconds, "mean_ms": 1000 * seconds / n}


class RssSampler:
    """Peak resident memory of a process tree, sampled every 50 ms in a thread."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(frames: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        video = synth_video(Path(tmp) / "bench.mp4", frames)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = dict(
            os.environ, POSE_BIND=f"127.0.0.1:{port}", POSE_BACKEND="mediapipe", UPLOAD_ROOT=tmp, POSE_WORKERS="1"
        )
        started = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=SERVICE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with RssSampler(server.pid) as rss:
                while True:
                    try:
                        if requests.get(f"{url}/ready", timeout=1).status_code == 200:
                            break
                    except requests.ConnectionError:
                        pass
                    if time.perf_counter() - started > 180 or server.poll() is not None:
                        raise SystemExit("pose service did not become ready")
                    time.sleep(0.05)
                cold_start = time.perf_counter() - started
                rt, cfg = in_process_runtime()
                service, raw, pipeline = [], [], []
                for _ in range(repeat):
                    # Alternate so all see the same machine state (caches, thermal, other load).
                    raw.append(raw_mediapipe(video))
                    pipeline.append(pipeline_direct(rt, cfg, video))
                    t0 = time.perf_counter()
                    with open(video, "rb") as fh:
                        r = requests.post(
                            f"{url}/v1/pose/video", files={"video": ("b.mp4", fh, "video/mp4")}, timeout=600
                        )
                    r.raise_for_status()
                    seconds = time.perf_counter() - t0
                    n = len(r.json()["frames"])
                    service.append(
                        {
                            "seconds": seconds,
                            "frames": n,
                            "fps": n / seconds,
                            "mean_ms": 1000 * seconds / n,
                            "server_seconds": r.json()["timing"]["seconds"],
                        }
                    )
        finally:
            server.terminate()
            server.wait(30)
    best_service = statistics.median(s["fps"] for s in service)
    best_raw = statistics.median(s["fps"] for s in raw)
    best_pipeline = statistics.median(s["fps"] for s in pipeline)
    return {
        "frames": frames,
        "repeat": repeat,
        "cold_start_to_ready_s": round(cold_start, 2),
        "peak_rss_mb": round(rss.peak / 2**20, 1),
        "service": {
            "fps_median": round(best_service, 2),
            "ms_per_frame_median": round(statistics.median(s["mean_ms"] for s in service), 2),
            "runs": service,
        },
        "raw_mediapipe": {
            "fps_median": round(best_raw, 2),
            "ms_per_frame_p50": round(statistics.median(s["p50_ms"] for s in raw), 2),
            "ms_per_frame_p95": round(statistics.median(s["p95_ms"] for s in raw), 2),
            "runs": raw,
        },
        "pipeline_in_process": {
            "fps_median": round(best_pipeline, 2),
            "ms_per_frame_median": round(statistics.median(s["mean_ms"] for s in pipeline), 2),
            "runs": pipeline,
        },
        "service_over_raw": round(best_service / best_raw, 3),
        "service_over_pipeline": round(best_service / best_pipeline, 3),
        "goal_service_over_raw": 0.9,
        "cpu_count": os.cpu_count(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=90, help="frames in the synthetic clip (30 fps)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side; medians are reported")
    ap.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    args = ap.parse_args()
    res = run(args.frames, args.repeat)
    if args.json:
        print(json.dumps(res, indent=2))
        return
    rows = [
        ("frames per run", f"{res['frames']}"),
        ("service /v1/pose/video fps (median)", f"{res['service']['fps_median']:.1f}"),
        ("service ms/frame, end to end", f"{res['service']['ms_per_frame_median']:.1f}"),
        ("raw MediaPipe fps (median)", f"{res['raw_mediapipe']['fps_median']:.1f}"),
        (
            "raw ms/frame inference p50 / p95",
            f"{res['raw_mediapipe']['ms_per_frame_p50']:.1f} / {res['raw_mediapipe']['ms_per_frame_p95']:.1f}",
        ),
        ("pipeline in process, no HTTP, fps (median)", f"{res['pipeline_in_process']['fps_median']:.1f}"),
        ("service / raw (goal ≥ 0.9)", f"{res['service_over_raw']:.3f}"),
        ("service / pipeline in process", f"{res['service_over_pipeline']:.3f}"),
        ("cold start to /ready", f"{res['cold_start_to_ready_s']:.2f} s"),
        ("peak RSS of gunicorn (all procs)", f"{res['peak_rss_mb']:.0f} MiB"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
