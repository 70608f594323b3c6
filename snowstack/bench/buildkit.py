"""BuildKit's rawjson progress → build steps, and which of them came from the cache."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

DEPENDENCY_WORDS = ("npm ci", "pip install", "apt-get")


@dataclass(frozen=True)
class BuildStep:
    """One BuildKit vertex after all its progress updates: `[deps 3/4] RUN pip install ...`."""

    name: str
    cached: bool
    started: datetime | None
    completed: datetime | None
    error: str | None = None

    @property
    def ran(self) -> bool:
        """Executed in this build (not taken from the cache)."""
        return self.started is not None and not self.cached

    @property
    def seconds(self) -> float | None:
        if self.started is None or self.completed is None:
            return None
        return max(0.0, (self.completed - self.started).total_seconds())


_STEP_NAME = re.compile(r"^\[(?P<prefix>[^\]]*?)\s*(?P<index>\d+/\d+)\]\s+(?P<instruction>.*)$", re.DOTALL)


def _timestamp(text: Any) -> datetime | None:
    if not isinstance(text, str) or text.startswith("0001-"):
        return None
    # BuildKit writes nanoseconds; Python keeps microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_rawjson(lines: Iterable[str]) -> list[BuildStep]:
    """BuildKit's machine-readable progress (`--progress rawjson`, compose's `--progress json`) → one step per vertex.

    A vertex is reported many times as it progresses: keep its name, cached if any update says so, the earliest
    start, the latest completion and the error. Non-JSON lines (compose's own status) are ignored.
    """
    merged: dict[str, dict[str, Any]] = {}
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        for vertex in message.get("vertexes") or []:
            digest = vertex.get("digest") or vertex.get("name")
            if not digest:
                continue
            entry = merged.setdefault(digest, {"name": "", "cached": False, "started": None, "completed": None, "error": None})
            entry["name"] = vertex.get("name") or entry["name"]
            entry["cached"] = entry["cached"] or bool(vertex.get("cached"))
            started, completed = _timestamp(vertex.get("started")), _timestamp(vertex.get("completed"))
            if started and (entry["started"] is None or started < entry["started"]):
                entry["started"] = started
            if completed and (entry["completed"] is None or completed > entry["completed"]):
                entry["completed"] = completed
            entry["error"] = vertex.get("error") or entry["error"]
    return [BuildStep(**entry) for entry in merged.values() if entry["name"]]


def step_parts(name: str, targets: Iterable[str] = ()) -> tuple[str | None, str | None, str] | None:
    """(target, stage, instruction) of a Dockerfile step, or None for BuildKit's bookkeeping vertexes.

    `[deps 3/4] RUN x` → (None, 'deps', 'RUN x'); `[api deps 3/4] RUN x` → ('api', 'deps', 'RUN x') when building
    several targets; `[api 2/2] COPY x` → ('api', None, 'COPY x') when 'api' is one of `targets`.
    """
    match = _STEP_NAME.match(name)
    if not match:
        return None
    words = match["prefix"].split()
    target = words.pop(0) if words and (len(words) > 1 or words[0] in set(targets)) else None
    return target, (words[-1] if words else None), match["instruction"].strip()


def is_dependency_step(name: str, targets: Iterable[str] = ()) -> bool:
    """A RUN/COPY of a stage named `deps`, or any step that installs packages (npm ci, pip install, apt-get)."""
    parts = step_parts(name, targets)
    if parts is None:
        return False
    _, stage, instruction = parts
    if stage == "deps" and instruction.split(" ", 1)[0] in ("RUN", "COPY", "ADD"):
        return True
    return any(word in instruction for word in DEPENDENCY_WORDS)


@dataclass(frozen=True)
class CacheReport:
    """Which Dockerfile steps of one build came from the cache and which re-ran.

    FROM steps are `base`: BuildKit reports resolving a local base image as work done, but nothing is rebuilt.
    """

    cached: tuple[str, ...]
    rebuilt: tuple[str, ...]
    dependency_rebuilt: tuple[str, ...]
    base: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


def _is_from(name: str, targets: Iterable[str]) -> bool:
    parts = step_parts(name, targets)
    return parts is not None and parts[2].startswith("FROM ")


def cache_report(steps: Iterable[BuildStep], targets: Iterable[str] = ()) -> CacheReport:
    steps, targets = list(steps), list(targets)
    dockerfile_steps = [step for step in steps if step_parts(step.name, targets) is not None]
    base = [step.name for step in dockerfile_steps if _is_from(step.name, targets)]
    rebuilt = [step.name for step in dockerfile_steps if step.ran and step.name not in base]
    return CacheReport(
        cached=tuple(step.name for step in dockerfile_steps if step.cached and step.name not in base),
        rebuilt=tuple(rebuilt),
        dependency_rebuilt=tuple(name for name in rebuilt if is_dependency_step(name, targets)),
        base=tuple(base),
        errors=tuple(f"{step.name}: {step.error}" for step in steps if step.error),
    )


def code_change_problems(report: CacheReport) -> list[str]:
    """A code change must rebuild application steps only."""
    problems = [f"dependency step re-ran: {name}" for name in report.dependency_rebuilt]
    if not report.rebuilt:
        problems.append("no step re-ran: the edit never reached the build (is the file in .dockerignore?)")
    return problems


def dependency_change_problems(report: CacheReport) -> list[str]:
    """A dependency change must re-run the dependency install (else the bench measured nothing)."""
    if not report.dependency_rebuilt:
        return ["no dependency step re-ran: the requirements edit never reached the deps stage"]
    return []


def cached_build_problems(report: CacheReport) -> list[str]:
    return [f"step re-ran with nothing changed: {name}" for name in report.rebuilt]


def describe_cache(report: CacheReport) -> str:
    """`re-ran: [build 2/4] COPY …; cached 9`: short enough for a table cell."""
    rebuilt = "; ".join(_short(name) for name in report.rebuilt) or "nothing"
    return f"re-ran: {rebuilt}; cached: {len(report.cached)} steps"


def _short(name: str, width: int = 60) -> str:
    name = " ".join(name.split())
    return name if len(name) <= width else name[: width - 1] + "…"
