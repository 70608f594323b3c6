"""bench.jsonl: one record per run, with the host and commit to compare runs by; the change against the last."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..jsonl import append_record, read_records
from ..report import to_jsonable
from .rows import BenchRow

HISTORY_FILE = "bench.jsonl"


@dataclass(frozen=True)
class BenchHost:
    """The bench host's size and load when the run started (doctor.HostFacts is the engine's facts)."""

    cpu_count: int | None
    memory_bytes: int
    load: tuple[float, float, float]


def host_facts() -> BenchHost:
    import psutil

    return BenchHost(psutil.cpu_count(), psutil.virtual_memory().total, tuple(round(x, 2) for x in psutil.getloadavg()))  # type: ignore[arg-type]


def git_commit(root: Path) -> str:
    try:

        def git(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()

        head, dirty = git("rev-parse", "--short=12", "HEAD"), git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def bench_record(rows: Sequence[BenchRow], *, runs: int, commit: str, engine_version: str, host: BenchHost) -> dict[str, Any]:
    """One line of bench.jsonl: the rows with their statistics and verdicts, and the facts to compare runs by."""
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "engine": engine_version,
        "host": to_jsonable(host),
        "runs": runs,
        "rows": [row_json(row) for row in rows],
    }


def row_json(row: BenchRow) -> dict[str, Any]:
    summary = row.summary
    return {
        "name": row.name,
        "service": row.service,
        "status": row.status.value,
        "samples": list(row.samples),
        "min": round(summary.min, 3) if summary else None,
        "median": round(summary.median, 3) if summary else None,
        "max": round(summary.max, 3) if summary else None,
        "seed": row.seed,
        "goal": row.goal,
        "seed_verdict": row.seed_verdict.value,
        "goal_verdict": row.goal_verdict.value,
        "failed": row.failed,
        "detail": row.detail,
    }


def append_history(path: Path, record: Mapping[str, Any]) -> None:
    append_record(path, record)


def read_history(path: Path) -> list[dict[str, Any]]:
    return read_records(path)


def changes(rows: Sequence[BenchRow], previous: Mapping[str, Any] | None) -> dict[str, tuple[float, float]]:
    """Row key → (previous median, change in seconds), for rows measured in both runs."""
    if not previous:
        return {}
    before = {f"{r['name']}/{r['service']}": r.get("median") for r in previous.get("rows", [])}
    result = {}
    for row in rows:
        summary, old = row.summary, before.get(row.key)
        if summary is not None and old is not None:
            result[row.key] = (float(old), summary.median - float(old))
    return result
