"""`invoke bench-analysis`: how fast videos are analysed by the pose workers, against issue 14's goals.

On the running stack (the user's, or SNOWSTACK_PROJECT's), through the API as a user would, with clips made here
(ffmpeg; a photo of a person panning over 640×480 at 30 fps):
  throughput_ratio   one 20 s clip with 1 worker, then with N (default: the cores): frames/s with N ÷ with 1
  clip_60s_done      a 60 s clip: upload start → job done (the upload included)
  first_skeleton     the same clip: upload answered → the first frame with a skeleton readable (partial results)
  three_together     three 20 s clips submitted at once (N workers): the last done ÷ the 20 s clip alone on 1 worker,
                     the single-process pipeline the issue measured against (one clip alone on N workers already
                     uses them all, so three take ~3× that by construction; the detail shows both)
  segment_p95        p95 of the segment tasks' analysis seconds (the workers' own timing, in `tasks`)
  frames_per_gpu     GPU profile only: analysed frames/s with N workers per GPU
The worker count is set back to the project's afterwards. Every run is appended to .snowstack/bench-analysis.jsonl.
What it sends and follows (clips, upload, the job's event stream): analysis_target.py.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from ..errors import SnowstackError
from ..jsonl import append_record
from ..report import to_jsonable
from .analysis_target import AnalysisTarget, make_clip, run_clip
from .rows import Verdict

ANALYSIS_HISTORY_FILE = "bench-analysis.jsonl"


@dataclass(frozen=True)
class Goal:
    """Issue 14's goal for a row (stated for a 2-core machine): `value <= limit` or `value >= limit`."""

    limit: float
    at_least: bool = False

    def verdict(self, value: float | None) -> Verdict:
        if value is None:
            return Verdict.NONE
        ok = value >= self.limit if self.at_least else value <= self.limit
        return Verdict.PASS if ok else Verdict.FAIL

    def describe(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.limit:g}"


GOALS: Mapping[str, Goal] = {
    "throughput_ratio": Goal(1.6, at_least=True),
    "clip_60s_done": Goal(20.0),
    "first_skeleton": Goal(3.0),
    "three_together": Goal(1.7),
}
UNITS = {
    "throughput_ratio": "×",
    "clip_60s_done": "s",
    "first_skeleton": "s",
    "three_together": "×",
    "segment_p95": "s",
    "frames_per_gpu": "fps",
}


@dataclass(frozen=True)
class AnalysisRow:
    name: str
    value: float | None
    detail: str
    goal: Goal | None = None

    @property
    def verdict(self) -> Verdict:
        return self.goal.verdict(self.value) if self.goal else Verdict.NONE


# --- the measurement ----------------------------------------------------------------------------------------------


@dataclass
class AnalysisOutcome:
    rows: list[AnalysisRow]
    runs: dict[str, Any] = field(default_factory=dict)
    workers: int = 0

    @property
    def failed(self) -> bool:
        return any(row.verdict is Verdict.FAIL for row in self.rows)


def p95(values: Sequence[float]) -> float | None:
    """The nearest-rank 95th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def measure(
    target: AnalysisTarget, clips: Mapping[str, Path], workers: int, gpus: int = 0, progress: Callable[[str], None] = lambda _: None
) -> AnalysisOutcome:
    """Every row, in the order that needs the fewest scalings: 1 worker first, then N for the rest."""
    progress("1 worker: the 20 s clip")
    target.use_workers(1)
    one = run_clip(target, clips["20s"])
    progress(f"{workers} workers: the 20 s clip")
    target.use_workers(workers)
    many = run_clip(target, clips["20s"])
    progress(f"{workers} workers: the 60 s clip")
    long = run_clip(target, clips["60s"], watch_skeleton=True)
    progress(f"{workers} workers: three 20 s clips at once")
    with ThreadPoolExecutor(max_workers=3) as pool:
        started = time.perf_counter()
        together = list(pool.map(lambda clip: run_clip(target, clip), [clips["20s"], clips["20s-b"], clips["20s-c"]]))
    last = max(run.done for run in together) - started
    segment_times = [seconds for run in (one, many, long, *together) for seconds in run.segment_seconds]
    ratio = (one.seconds / many.seconds) if many.seconds > 0 else None
    rows = [
        AnalysisRow(
            "throughput_ratio",
            ratio,
            f"{one.frames} frames: 1 worker {one.seconds:.1f} s ({one.frames / one.seconds:.1f} fps), "
            f"{workers} workers {many.seconds:.1f} s ({many.frames / many.seconds:.1f} fps, {many.segments} segments)",
            GOALS["throughput_ratio"],
        ),
        AnalysisRow(
            "clip_60s_done",
            long.done - long.sent,
            f"upload {long.answered - long.sent:.1f} s + analysis {long.seconds:.1f} s, {long.frames} frames, {long.segments} segments",
            GOALS["clip_60s_done"],
        ),
        AnalysisRow(
            "first_skeleton",
            long.first_skeleton,
            "after the upload's answer, polling /pose every 0.1 s" if long.first_skeleton is not None else "never seen before done",
            GOALS["first_skeleton"],
        ),
        AnalysisRow(
            "three_together",
            last / one.seconds if one.seconds > 0 else None,
            f"done at {', '.join(f'{run.done - started:.1f}' for run in sorted(together, key=lambda r: r.done))} s vs one alone "
            f"{one.seconds:.1f} s (1 worker, the issue's single-process baseline; {many.seconds:.1f} s with {workers})",
            GOALS["three_together"],
        ),
        AnalysisRow("segment_p95", p95(segment_times), f"{len(segment_times)} segments of the runs above"),
    ]
    if gpus:
        rows.append(AnalysisRow("frames_per_gpu", many.frames / many.seconds / gpus, f"{workers} workers on {gpus} GPU(s)"))
    runs = {"one": one, "many": many, "60s": long, "together": together, "started_together": started}
    return AnalysisOutcome(rows, runs={k: to_jsonable(v) for k, v in runs.items() if k != "started_together"}, workers=workers)


# --- report -------------------------------------------------------------------------------------------------------


def analysis_table(outcome: AnalysisOutcome) -> Table:
    table = Table(title=f"bench-analysis ({outcome.workers} workers)", title_justify="left")
    for column in ("row", "value", "goal", "verdict", "detail"):
        table.add_column(column, justify="right" if column == "value" else "left", overflow="fold")
    for row in outcome.rows:
        unit = UNITS.get(row.name, "")
        value = f"{row.value:.2f}{unit}" if row.value is not None else "-"
        colour = {Verdict.PASS: "green", Verdict.FAIL: "bold red", Verdict.NONE: "dim"}[row.verdict]
        goal = f"{row.goal.describe()}{unit}" if row.goal else ""
        table.add_row(row.name, value, goal, f"[{colour}]{row.verdict.value}[/]", row.detail.replace("[", r"\["))
    return table


def analysis_record(outcome: AnalysisOutcome, *, commit: str, host: Any) -> dict[str, Any]:
    """One line of bench-analysis.jsonl (and the --json answer)."""
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "host": to_jsonable(host),
        "workers": outcome.workers,
        "rows": [
            {
                "name": row.name,
                "value": None if row.value is None else round(row.value, 3),
                "unit": UNITS.get(row.name, ""),
                "goal": row.goal.describe() if row.goal else None,
                "verdict": row.verdict.value,
                "detail": row.detail,
            }
            for row in outcome.rows
        ],
        "runs": outcome.runs,
        "failed": outcome.failed,
    }


def append_analysis_history(state_dir: Path, record: Mapping[str, Any]) -> Path:
    path = state_dir / ANALYSIS_HISTORY_FILE
    append_record(path, record)
    return path


# --- the task -----------------------------------------------------------------------------------------------------


def gpu_count() -> int:
    """NVIDIA GPUs on this host (`nvidia-smi -L`), 0 without a driver."""
    if shutil.which("nvidia-smi") is None:
        return 0
    result = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
    return sum(1 for line in result.stdout.splitlines() if line.startswith("GPU ")) if result.returncode == 0 else 0


def bench_analysis(workers: int | None = None, progress: Callable[[str], None] = lambda _: None) -> tuple[AnalysisOutcome, dict[str, Any]]:
    """Measure every row on the running stack; returns the outcome and the history record it appended."""
    import tempfile

    import psutil
    from pymongo import MongoClient

    from ..apiclient import sign_in_as_admin
    from ..compose import compose_stack
    from .history import git_commit, host_facts

    project = compose_stack()
    names = project.stack.with_role("worker")
    if not names:
        raise SnowstackError("stack.toml has no service with the `worker` role: nothing to bench")
    urls, env = project.urls(), project.env
    api, database = project.stack.service_with_role("api"), project.stack.service_with_role("database")
    if api not in urls or project.published_port(database) is None:
        raise SnowstackError(f"the stack is not running: start it with `{_invoke(project)} up`")
    count = workers or max(2, psutil.cpu_count() or 1)
    kept = project.workers
    client: MongoClient[dict[str, Any]] = MongoClient(
        f"mongodb://127.0.0.1:{project.published_port(database)}/",
        username=env.get("MONGO_POSE_USERNAME"),
        password=env.get("MONGO_POSE_PASSWORD"),
        authSource="snowboarding",
        tz_aware=True,
        serverSelectionTimeoutMS=5000,
    )

    def scale(replicas: int) -> None:
        for name in names:
            project.scale(name, replicas)

    base = urls[api]
    session = sign_in_as_admin(base, env, project.env_file, _invoke(project))
    target = AnalysisTarget(base, session, client.snowboarding, scale)
    try:
        with tempfile.TemporaryDirectory(prefix="snowstack-bench-analysis-") as folder:
            progress("making the clips (ffmpeg)")
            clips = {
                "20s": make_clip(Path(folder) / "clip-20s.mp4", 20),
                "20s-b": make_clip(Path(folder) / "clip-20s-b.mp4", 20.2),
                "20s-c": make_clip(Path(folder) / "clip-20s-c.mp4", 19.8),
                "60s": make_clip(Path(folder) / "clip-60s.mp4", 60),
            }
            outcome = measure(target, clips, count, gpus=gpu_count() if project.profile.gpu else 0, progress=progress)
    finally:
        progress(f"back to {kept} workers")
        scale(kept)
        client.close()
    record = analysis_record(outcome, commit=git_commit(project.stack.root), host=host_facts())
    append_analysis_history(project.stack.state_dir, record)
    return outcome, record


def _invoke(project: Any) -> str:
    from ..project import invoke_command

    return invoke_command(project.project)
