"""Benchmark: ingest (probe + rendition + poster + sprite) time over clip duration, and peak memory.

Rows: a 1080p30 H.264 clip (goal: ingest ≤ 0.5× the clip's duration) and a 4K60 clip (goal: peak resident
memory of the service process plus its ffmpeg child < 500 MB). Clips are made first with ffmpeg from
scikit-image's cameraman photo, panning so the encoder has real motion. Usage, from anywhere:
    .venv/bin/python backend/pose-service/bench/bench_ingest.py [--seconds 10] [--uhd-seconds 3] [--json]
Env RENDITION_PRESET / RENDITION_MAX_SIDE are honoured as in the service.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SERVICE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(SERVICE_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil  # noqa: E402
from bench_pose import RssSampler  # noqa: E402

from pose_service.config import Config  # noqa: E402
from pose_service.probe import probe_video  # noqa: E402
from pose_service.rendition import ingest  # noqa: E402


def make_clip(folder: Path, name: str, width: int, height: int, fps: int, seconds: float, codec: list[str]) -> Path:
    import cv2
    import skimage.data

    photo = folder / "camera.png"
    if not photo.exists():
        cv2.imwrite(str(photo), skimage.data.camera())
    out = folder / name
    side = height
    # Temporal noise stands in for a phone sensor's grain: a clean still would flatter the encoder.
    vf = (f"scale={side}:{side},pad={width}:{height}:(ow-iw)/2:0,"
          f"crop={width}:{height}:x='20*sin(n/20)':y='10*sin(n/15)',noise=alls=6:allf=t,format=yuv420p")  # fmt: skip
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-framerate", str(fps),
         "-i", str(photo), "-frames:v", str(round(fps * seconds)), "-vf", vf, *codec, str(out)], check=True,
    )  # fmt: skip
    return out


class ChildRss(RssSampler):
    """Peak resident memory of this process's children alone (the ffmpeg encoder), and of this process alone."""

    def __init__(self) -> None:
        super().__init__(os.getpid())
        self.child_peak = 0
        self.self_peak = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                kids = self.root.children(recursive=True)
                child = sum(p.memory_info().rss for p in kids if p.is_running())
                own = self.root.memory_info().rss
                self.child_peak = max(self.child_peak, child)
                self.self_peak = max(self.self_peak, own)
                self.peak = max(self.peak, own + child)
            except psutil.Error:
                pass
            time.sleep(0.05)

    def __enter__(self) -> ChildRss:
        super().__enter__()
        return self


def measure(src: Path, out_dir: Path, cfg: Config) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    baseline = psutil.Process().memory_info().rss
    own_cpu = time.process_time()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with ChildRss() as rss:
        probe = probe_video(str(src))
        probed = time.perf_counter() - started
        reply = ingest(src, out_dir, probe, ffmpeg=cfg.ffmpeg_bin, max_side=cfg.rendition_max_side,
                       preset=cfg.rendition_preset, crf=cfg.rendition_crf, timeout_s=cfg.ingest_timeout_s,
                       threads=cfg.rendition_threads)  # fmt: skip
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - kids.ru_utime) + (after.ru_stime - kids.ru_stime) + (time.process_time() - own_cpu)
    cores = os.cpu_count() or 1
    return {
        "clip": f"{probe.display_width}x{probe.display_height}@{probe.fps:.0f} {probe.video_codec}",
        "duration_s": round(probe.duration_s, 3),
        "frames": probe.frame_count,
        "probe_s": round(probed, 3),
        "ingest_s": round(seconds, 3),
        "ingest_over_duration": round(seconds / probe.duration_s, 3),
        # CPU seconds spread over this machine's cores: what the wall time would be with no other load.
        "cpu_s": round(cpu, 2),
        "cpu_over_duration_per_core": round(cpu / cores / probe.duration_s, 3),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "peak_rss_mb": round(rss.peak / 2**20, 1),
        "ffmpeg_peak_rss_mb": round(rss.child_peak / 2**20, 1),
        "process_growth_mb": round((rss.self_peak - baseline) / 2**20, 1),
        "rendition": f"{reply['rendition']['width']}x{reply['rendition']['height']}",
        "rendition_mb": round(reply["rendition"]["size"] / 2**20, 2),
        "source_mbit_s": round(src.stat().st_size * 8 / probe.duration_s / 1e6, 1),
    }


def run(seconds: float, uhd_seconds: float) -> dict[str, Any]:
    cfg = Config.from_env()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # Phone bitrates: ~16 Mbit/s for 1080p30, ~50 Mbit/s for 4K60 (what decoding costs depends on it).
        def h264(rate: str) -> list[str]:
            return ["-c:v", "libx264", "-preset", "ultrafast", "-b:v", rate, "-maxrate", rate, "-bufsize", rate]

        fhd = make_clip(folder, "fhd30.mp4", 1920, 1080, 30, seconds, h264("16M"))
        uhd = make_clip(folder, "uhd60.mp4", 3840, 2160, 60, uhd_seconds, h264("50M"))
        rows = [measure(fhd, folder / "fhd-out", cfg), measure(uhd, folder / "uhd-out", cfg)]
    return {
        "preset": cfg.rendition_preset,
        "max_side": cfg.rendition_max_side,
        "cpu_count": os.cpu_count(),
        "rows": rows,
        "goal_ingest_over_duration_1080p30": 0.5,
        "goal_peak_rss_mb_4k60": 500,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the 1080p30 clip")
    ap.add_argument("--uhd-seconds", type=float, default=3.0, help="length of the 4K60 clip")
    ap.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    args = ap.parse_args()
    res = run(args.seconds, args.uhd_seconds)
    if args.json:
        print(json.dumps(res, indent=2))
        return
    print(f"preset {res['preset']}, long side ≤ {res['max_side']}, {res['cpu_count']} CPUs")
    head = ("clip", "source_mbit_s", "duration_s", "ingest_s", "ingest_over_duration", "cpu_s",
            "cpu_over_duration_per_core", "load_avg_1m", "peak_rss_mb",
            "ffmpeg_peak_rss_mb", "process_growth_mb", "rendition", "rendition_mb")  # fmt: skip
    print("  ".join(f"{h:>10}" for h in head))
    for row in res["rows"]:
        print("  ".join(f"{row[h]!s:>10}" for h in head))
    print("wall time depends on other load; cpu_over_duration_per_core is the idle-machine equivalent")
    print("goals: 1080p30 ingest_over_duration ≤ 0.5; 4K60 peak_rss_mb (this process + ffmpeg) < 500")


if __name__ == "__main__":
    main()
