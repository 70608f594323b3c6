"""`invoke bench-rebuild`: how long a change takes to reach a running service, against stack.toml's targets.

Rows (each over N runs; min / median / max), named for their [targets] entry:
  code_change_rebuild        edit a service's `bench_source` → `compose build <service>`; BuildKit's rawjson progress
                             proves that no dependency step re-ran
  code_change_healthy        the same build plus `compose up -d --no-deps --wait <service>`
  dev_sync                   edit → the change is served through `compose watch` (the dev profile)
  dependency_change_rebuild  a pinned package added to `bench_dependency` → rebuild; the deps stage must re-run
  cached_build               `compose build` of every built service with nothing changed: every step cached
  pose_ready                 `compose restart pose-service` → its container start to /ready 200
  base_build                 bootstrap's base image builds, from its history file

Every edit is restored (on success, failure, Ctrl-C and SIGTERM) and checked by hash; a journal in the state
folder restores an edit that a killed process left behind on the next run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Any

import requests
from rich.table import Table

from .engine import Engine, engine_errors, format_version
from .errors import EngineError, SnowstackError, require_known
from .images import read_history as read_build_history
from .report import Status, styled, to_jsonable
from .stack import Service, Stack, Target, load_stack

ROWS = (
    "code_change_rebuild",
    "code_change_healthy",
    "dev_sync",
    "dependency_change_rebuild",
    "cached_build",
    "pose_ready",
    "base_build",
)
HISTORY_FILE = "bench.jsonl"
PLOTS_FOLDER = "plots"
JOURNAL_FOLDER = "bench-edits"
DEV_COMPOSE_FILE = "docker-compose.dev.yml"
# The row that times the pose model's start; the service name is the compose file's.
POSE_SERVICE = "pose-service"
# A small pure-Python wheel nothing in the stack uses: adding it changes the requirements, not the service.
BENCH_PACKAGE = "tomli-w==1.2.0"
DEPENDENCY_WORDS = ("npm ci", "pip install", "apt-get")
MARKER_PREFIX = "snowstack.bench"  # dots only: a marker must also be a valid PEP 440 local version


# --- BuildKit progress --------------------------------------------------------------------------------


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


# --- statistics and verdicts --------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    runs: int
    min: float
    median: float
    max: float


def summarize(samples: Sequence[float]) -> Summary | None:
    if not samples:
        return None
    return Summary(len(samples), min(samples), statistics.median(samples), max(samples))


class Verdict(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    NONE = "-"


def seed_verdict(median: float | None, limit: float | None) -> Verdict:
    """The seed's requirement is a strict upper bound (`< 30 s`)."""
    if median is None or limit is None:
        return Verdict.NONE
    return Verdict.PASS if median < limit else Verdict.FAIL


def goal_verdict(median: float | None, limit: float | None) -> Verdict:
    """Our goals are inclusive (`≤ 3 s median`)."""
    if median is None or limit is None:
        return Verdict.NONE
    return Verdict.PASS if median <= limit else Verdict.FAIL


@dataclass(frozen=True)
class BenchRow:
    """One measured thing: its samples, the targets it is held to, and what the build analysis found."""

    name: str
    service: str
    samples: tuple[float, ...]
    seed: float | None
    goal: float | None
    status: Status
    detail: str = ""
    problems: tuple[str, ...] = ()

    @property
    def summary(self) -> Summary | None:
        return summarize(self.samples)

    @property
    def seed_verdict(self) -> Verdict:
        summary = self.summary
        return seed_verdict(summary.median if summary else None, self.seed)

    @property
    def goal_verdict(self) -> Verdict:
        summary = self.summary
        return goal_verdict(summary.median if summary else None, self.goal)

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL or Verdict.FAIL in (self.seed_verdict, self.goal_verdict)

    @property
    def key(self) -> str:
        return f"{self.name}/{self.service}"


def measured_row(
    name: str, service: str, samples: Sequence[float], targets: Mapping[str, Target], problems: Sequence[str] = (), detail: str = ""
) -> BenchRow:
    target = targets.get(name)
    problems = list(dict.fromkeys(problems))
    return BenchRow(
        name=name,
        service=service,
        samples=tuple(round(s, 3) for s in samples),
        seed=target.seed if target else None,
        goal=target.goal if target else None,
        status=Status.FAIL if problems or not samples else Status.OK,
        detail="; ".join(problems) if problems else detail,
        problems=tuple(problems),
    )


def skipped_row(name: str, service: str, reason: str, targets: Mapping[str, Target]) -> BenchRow:
    target = targets.get(name)
    return BenchRow(name, service, (), target.seed if target else None, target.goal if target else None, Status.SKIP, reason)


# --- reversible edits ---------------------------------------------------------------------------------


def new_marker() -> str:
    return f"{MARKER_PREFIX}.{uuid.uuid4().hex[:10]}"


def edited_source(path: Path, original: str, marker: str) -> str:
    """The source with one line added that carries `marker`, in the file's own comment syntax.

    A Python module that defines `__version__` gets a PEP 440 local version instead, so the version string the
    service serves shows the edit (what the dev-sync probe looks for).
    """
    suffix = path.suffix.lower()
    body = original if original.endswith("\n") or not original else original + "\n"
    if suffix == ".py" and re.search(r"^__version__\s*=", original, re.MULTILINE):
        line = f'__version__ = f"{{__version__}}+{marker}"  # reverted by invoke bench-rebuild'
    elif suffix in (".ts", ".tsx", ".js", ".mjs", ".cjs", ".jsx"):
        line = f"// {marker}: reverted by invoke bench-rebuild"
    elif suffix in (".html", ".htm", ".svg", ".xml", ".md"):
        line = f"<!-- {marker}: reverted by invoke bench-rebuild -->"
    elif suffix in (".css", ".scss"):
        line = f"/* {marker}: reverted by invoke bench-rebuild */"
    else:
        line = f"# {marker}: reverted by invoke bench-rebuild"
    return body + line + "\n"


def edited_requirements(original: str, marker: str) -> str:
    """Requirements with a harmless pinned package added; the marker makes every run's file (and cache key) new."""
    body = original if original.endswith("\n") or not original else original + "\n"
    return body + f"# {marker}: reverted by invoke bench-rebuild\n{BENCH_PACKAGE}\n"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class SourceEdit:
    """Writes an edit and always restores the original bytes, verified by hash.

    Restores on normal exit, exceptions, Ctrl-C and SIGTERM/SIGHUP (turned into KeyboardInterrupt while the edit is
    in place); signals are held off during the restore itself. A journal (original bytes + both hashes) in the
    state folder lets `recover_edits` undo an edit whose process was killed outright.
    """

    def __init__(self, path: Path, edited: str, journal: Path) -> None:
        self.path, self.edited, self.journal = path, edited.encode(), journal
        self.original = b""
        self._handlers: dict[int, Any] = {}
        key = sha256(str(path.resolve()).encode())[:16]
        self._entry, self._backup = journal / f"{key}.json", journal / f"{key}.orig"

    def __enter__(self) -> SourceEdit:
        self.original = self.path.read_bytes()
        self.journal.mkdir(parents=True, exist_ok=True)
        self._backup.write_bytes(self.original)
        entry = {"path": str(self.path.resolve()), "original": sha256(self.original), "edited": sha256(self.edited)}
        self._entry.write_text(json.dumps(entry))
        self._install_handlers()
        self.path.write_bytes(self.edited)
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()

    def restore(self) -> None:
        blocked = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
        in_main = threading.current_thread() is threading.main_thread()
        if in_main:
            signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
        try:
            current = self.path.read_bytes() if self.path.exists() else b""
            if current != self.original:
                if sha256(current) != sha256(self.edited):
                    raise SnowstackError(f"{self.path} changed during the bench (not by it): left as is; its original is in {self._backup}")
                self.path.write_bytes(self.original)
            if sha256(self.path.read_bytes()) != sha256(self.original):
                raise SnowstackError(f"restoring {self.path} failed: its hash differs; the original is in {self._backup}")
            self._entry.unlink(missing_ok=True)
            self._backup.unlink(missing_ok=True)
        finally:
            self._restore_handlers()
            if in_main:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)

    def _install_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._handlers[sig] = signal.signal(sig, _interrupt)

    def _restore_handlers(self) -> None:
        for sig, handler in self._handlers.items():
            signal.signal(sig, handler)
        self._handlers.clear()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def recover_edits(journal: Path) -> list[str]:
    """Undo edits a killed bench left behind (from the journal); one line per file about what was done."""
    notes = []
    for entry_file in sorted(journal.glob("*.json")) if journal.is_dir() else []:
        entry = json.loads(entry_file.read_text())
        path, backup = Path(entry["path"]), entry_file.with_suffix(".orig")
        current = sha256(path.read_bytes()) if path.exists() else ""
        if current == entry["edited"] and backup.exists():
            path.write_bytes(backup.read_bytes())
            notes.append(f"restored {path} (a bench was interrupted before it could)")
        elif current != entry["original"]:
            notes.append(f"{path} differs from before an interrupted bench; not touched (its original: {backup})")
            continue
        entry_file.unlink()
        backup.unlink(missing_ok=True)
    return notes


# --- the project being benched ------------------------------------------------------------------------


@dataclass
class BenchProject:
    """A compose project (engine bound to its files) and the stack description of its services."""

    stack: Stack
    engine: Engine
    progress: Callable[[str], None] = field(default=lambda text: None)

    @property
    def compose_command(self) -> list[str]:
        return [str(part) for part in self.engine.client.client_config.docker_compose_cmd]

    def containers(self) -> dict[str, Any]:
        with engine_errors("compose ps"):
            found = self.engine.compose.ps(all=True)
        return {c.config.labels.get("com.docker.compose.service", c.name): c for c in found}

    def running(self, service: str) -> bool:
        container = self.containers().get(service)
        return container is not None and str(container.state.status) == "running"

    def url(self, service: str) -> str | None:
        """http://127.0.0.1:<published port> of the service's declared port, or None when not published."""
        container = self.containers().get(service)
        if container is None:
            return None
        port = self.stack.services[service].port
        published = container.network_settings.ports or {}
        # The declared port is the container's (the stack's compose files publish it as is); otherwise the
        # service's one published port.
        candidates = published.get(f"{port}/tcp") or [binding for bindings in published.values() for binding in bindings or []]
        for binding in candidates:
            host_port = binding["HostPort"] if isinstance(binding, dict) else binding.host_port
            return f"http://127.0.0.1:{host_port}"
        return None

    def build(self, services: Sequence[str]) -> tuple[float, list[BuildStep]]:
        """`compose build` with BuildKit's JSON progress: wall seconds and the parsed steps."""
        command = [*self.compose_command, "--progress", "json", "build", *services]
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
        seconds = time.perf_counter() - started
        lines = (result.stdout + "\n" + result.stderr).splitlines()
        steps = parse_rawjson(lines)
        if result.returncode != 0:
            failing = [f"{step.name}: {step.error}" for step in steps if step.error]
            reason = failing[0] if failing else (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise EngineError(f"compose build {' '.join(services)} failed: {reason[:300]}", log_tail=result.stderr.splitlines()[-30:])
        return seconds, steps

    def up_wait(self, service: str, timeout: int) -> float:
        """`compose up -d --no-deps --wait <service>`: recreate it and wait for its healthcheck."""
        started = time.perf_counter()
        self.engine.run_compose(
            f"up {service}",
            lambda: self.engine.compose.up([service], detach=True, wait=True, wait_timeout=timeout, dependencies=False, quiet=True),
        )
        return time.perf_counter() - started

    def restart(self, service: str) -> None:
        self.engine.run_compose(f"restart {service}", lambda: self.engine.compose.restart([service]))

    def started_at(self, service: str) -> datetime | None:
        container = self.containers().get(service)
        if container is None:
            return None
        started = container.state.started_at
        return started if isinstance(started, datetime) else None


def poll(url: str, accept: Callable[[requests.Response], bool], timeout: float, interval: float = 0.02) -> float:
    """Seconds until a GET of `url` is accepted; raises SnowstackError after `timeout`."""
    started = time.perf_counter()
    last = "no answer"
    with requests.Session() as session:
        while time.perf_counter() - started < timeout:
            try:
                response = session.get(url, timeout=2)
                if accept(response):
                    return time.perf_counter() - started
                last = f"HTTP {response.status_code}"
            except requests.RequestException as error:
                last = type(error).__name__
            time.sleep(interval)
    raise SnowstackError(f"{url} did not answer as expected within {timeout:.0f}s (last: {last})")


# --- measurements -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchOptions:
    runs: int = 5
    services: tuple[str, ...] = ()  # empty: every built service
    only: tuple[str, ...] = ()  # empty: every row
    up_timeout: int = 300
    sync_timeout: float = 60.0

    def wants(self, row: str) -> bool:
        return not self.only or row in self.only


def bench_code_change(project: BenchProject, service: Service, options: BenchOptions) -> list[BenchRow]:
    """code_change_rebuild (+ code_change_healthy when the service runs): edit → build (→ up --wait), N times."""
    targets, journal = project.stack.targets, project.stack.state_dir / JOURNAL_FOLDER
    if service.bench_source is None:
        reason = "no bench_source in stack.toml for this service"
        return [skipped_row(name, service.name, reason, targets) for name in ("code_change_rebuild", "code_change_healthy")]
    healthy = options.wants("code_change_healthy") and project.running(service.name)
    rebuild_s: list[float] = []
    healthy_s: list[float] = []
    problems: list[str] = []
    detail = ""
    try:
        for run in range(options.runs):
            project.progress(f"code change → rebuild {service.name} ({run + 1}/{options.runs})")
            original = service.bench_source.read_text()
            with SourceEdit(service.bench_source, edited_source(service.bench_source, original, new_marker()), journal):
                seconds, steps = project.build([service.name])
            report = cache_report(steps, [service.name])
            problems += code_change_problems(report)
            detail = describe_cache(report)
            rebuild_s.append(seconds)
            if healthy:
                project.progress(f"code change → {service.name} healthy ({run + 1}/{options.runs})")
                healthy_s.append(seconds + project.up_wait(service.name, options.up_timeout))
    except EngineError as error:
        problems.append(str(error))
    finally:
        # The image (and the container, when we recreated it) must run the restored source again.
        project.progress(f"rebuilding {service.name} from the restored source")
        project.build([service.name])
        if healthy:
            project.up_wait(service.name, options.up_timeout)
    rows = [measured_row("code_change_rebuild", service.name, rebuild_s, targets, problems, detail)]
    if healthy:
        rows.append(measured_row("code_change_healthy", service.name, healthy_s, targets, problems, detail))
    else:
        rows.append(skipped_row("code_change_healthy", service.name, f"{service.name} is not running: run `invoke up` first", targets))
    return rows


def bench_dependency_change(project: BenchProject, service: Service, options: BenchOptions) -> BenchRow:
    targets, journal = project.stack.targets, project.stack.state_dir / JOURNAL_FOLDER
    name = "dependency_change_rebuild"
    if service.bench_dependency is None:
        return skipped_row(
            name,
            service.name,
            "no bench_dependency: a real npm dependency change needs a lockfile change (npm ci); benched on the Python service",
            targets,
        )
    samples: list[float] = []
    problems: list[str] = []
    detail = ""
    try:
        for run in range(options.runs):
            project.progress(f"dependency change → rebuild {service.name} ({run + 1}/{options.runs})")
            original = service.bench_dependency.read_text()
            with SourceEdit(service.bench_dependency, edited_requirements(original, new_marker()), journal):
                seconds, steps = project.build([service.name])
            report = cache_report(steps, [service.name])
            problems += dependency_change_problems(report)
            detail = f"added {BENCH_PACKAGE}; " + describe_cache(report)
            samples.append(seconds)
    except EngineError as error:
        problems.append(str(error))
    finally:
        project.progress(f"rebuilding {service.name} from the restored requirements")
        project.build([service.name])
    return measured_row(name, service.name, samples, targets, problems, detail)


def bench_cached_build(project: BenchProject, services: Sequence[str], options: BenchOptions) -> BenchRow:
    samples: list[float] = []
    problems: list[str] = []
    detail = ""
    try:
        project.build(services)  # warm: the first build after a bench edit may still export a restored image
        for run in range(options.runs):
            project.progress(f"cached build of {', '.join(services)} ({run + 1}/{options.runs})")
            seconds, steps = project.build(services)
            report = cache_report(steps, services)
            problems += cached_build_problems(report)
            detail = f"{len(report.cached)} steps cached, {len(report.rebuilt)} re-ran"
            samples.append(seconds)
    except EngineError as error:
        problems.append(str(error))
    return measured_row("cached_build", "all", samples, project.stack.targets, problems, detail)


def bench_pose_ready(project: BenchProject, service: Service, options: BenchOptions) -> BenchRow:
    """`compose restart` → the engine's container start time to the first /ready 200."""
    targets, name = project.stack.targets, "pose_ready"
    url = project.url(service.name)
    if not project.running(service.name) or url is None or service.health is None:
        return skipped_row(name, service.name, f"{service.name} is not running (or publishes no port): run `invoke up` first", targets)
    samples: list[float] = []
    problems: list[str] = []
    try:
        for run in range(options.runs):
            project.progress(f"restart {service.name} → {service.health} 200 ({run + 1}/{options.runs})")
            project.restart(service.name)
            poll(url + service.health, lambda r: r.status_code == 200, options.up_timeout, interval=0.1)
            ready_at = datetime.now(UTC)
            started = project.started_at(service.name)
            if started is None:
                raise SnowstackError(f"{service.name} has no start time after the restart")
            samples.append((ready_at - started).total_seconds())
    except (EngineError, SnowstackError) as error:
        problems.append(str(error))
    return measured_row(name, service.name, samples, targets, problems, f"container start → {service.health} 200")


def bench_dev_sync(project: BenchProject, service: Service, options: BenchOptions) -> BenchRow:
    """`compose watch --no-up <service>` running; edit `bench_source` → its marker is served at `bench_probe`."""
    targets, journal, name = project.stack.targets, project.stack.state_dir / JOURNAL_FOLDER, "dev_sync"
    if service.bench_source is None or service.bench_probe is None:
        return skipped_row(name, service.name, "needs bench_source and bench_probe in stack.toml", targets)
    url = project.url(service.name)
    if not project.running(service.name) or url is None:
        return skipped_row(name, service.name, f"{service.name} is not running in dev mode: run `invoke up --dev` first", targets)
    probe = url + service.bench_probe
    samples: list[float] = []
    problems: list[str] = []
    with compose_watch(project, service.name, options.sync_timeout):
        try:
            for run in range(options.runs):
                project.progress(f"dev sync {service.name}: edit → served ({run + 1}/{options.runs})")
                marker, original = new_marker(), service.bench_source.read_text()
                with SourceEdit(service.bench_source, edited_source(service.bench_source, original, marker), journal):
                    samples.append(poll(probe, serves(marker, True), options.sync_timeout))
                # Wait for the restored file to be served before the next edit (and before watch stops).
                wait_for_restore(service.bench_source, probe, marker, options.sync_timeout)
        except SnowstackError as error:
            problems.append(str(error))
    return measured_row(name, service.name, samples, targets, problems, f"edit → {service.bench_probe} serves it (compose watch)")


def wait_for_restore(path: Path, probe: str, marker: str, timeout: float, nudge_every: float = 3.0) -> None:
    """Until the restored file is served. compose watch can miss a write that lands while it is still syncing the
    previous one (seen with Compose 2.40): rewriting the same original bytes gives it a fresh event."""
    deadline = time.perf_counter() + timeout
    original = path.read_bytes()
    while True:
        try:
            poll(probe, serves(marker, False), min(nudge_every, max(0.1, deadline - time.perf_counter())))
            return
        except SnowstackError:
            if time.perf_counter() >= deadline:
                raise
            if path.read_bytes() == original:
                path.write_bytes(original)


def serves(marker: str, present: bool) -> Callable[[requests.Response], bool]:
    """Accepts a 200 whose body does (or, after the restore, does not) contain the edit's marker."""
    return lambda response: response.status_code == 200 and (marker in response.text) == present


@contextmanager
def compose_watch(project: BenchProject, service: str, timeout: float) -> Iterator[subprocess.Popen[str]]:
    """`compose watch --no-up <service>` in the background until the block ends; waits until it watches."""
    process = subprocess.Popen(
        [*project.compose_command, "watch", "--no-up", service],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ.copy(),
    )
    ready = threading.Event()
    output: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip())
            if "watch enabled" in line.lower():
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(timeout) or process.poll() is not None:
            raise SnowstackError(f"compose watch {service} did not start: {(output or ['no output'])[-1]}")
        time.sleep(0.2)  # the file watcher is armed just after the message
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def base_build_rows(stack: Stack, runs: int) -> list[BenchRow]:
    """Bootstrap's real builds (not 'up to date' skips) per image, the last `runs` of each, from its history."""
    builds: dict[str, list[float]] = {}
    failures: dict[str, int] = {}
    for record in read_build_history(stack):
        if record.outcome == "built":
            builds.setdefault(record.name, []).append(record.seconds)
        elif record.outcome == "failed":
            failures[record.name] = failures.get(record.name, 0) + 1
    if not builds:
        return [skipped_row("base_build", "-", "bootstrap has not built anything yet (no history)", stack.targets)]
    rows = []
    for name, seconds in builds.items():
        note = f"last {min(runs, len(seconds))} of {len(seconds)} builds in bootstrap's history"
        if failures.get(name):
            note += f"; {failures[name]} failed build(s) in the history"
        rows.append(measured_row("base_build", name, seconds[-runs:], stack.targets, detail=note))
    return rows


def run_bench(project: BenchProject, options: BenchOptions, dev_project: BenchProject | None, dev_skip: str = "") -> list[BenchRow]:
    """Every wanted row, in the issue's order; a row that cannot run here is a skip with its reason."""
    stack = project.stack
    for note in recover_edits(stack.state_dir / JOURNAL_FOLDER):
        project.progress(note)
    built = [s for s in stack.services.values() if s.built]
    chosen = [stack.service(name) for name in options.services] if options.services else built
    for service in chosen:
        if not service.built:
            names = ", ".join(s.name for s in built)
            raise SnowstackError(f"{service.name} runs an upstream image: nothing of ours to rebuild (built: {names})")
    rows: list[BenchRow] = []
    if options.wants("code_change_rebuild") or options.wants("code_change_healthy"):
        for service in chosen:
            rows += [row for row in bench_code_change(project, service, options) if options.wants(row.name)]
    if options.wants("dev_sync"):
        for service in chosen:
            if dev_project is None:
                rows.append(skipped_row("dev_sync", service.name, dev_skip or "no dev profile", stack.targets))
            elif service.bench_probe is not None:
                rows.append(bench_dev_sync(dev_project, service, options))
    if options.wants("dependency_change_rebuild"):
        rows += [bench_dependency_change(project, service, options) for service in chosen]
    if options.wants("cached_build"):
        rows.append(bench_cached_build(project, [s.name for s in built], options))
    if options.wants("pose_ready") and POSE_SERVICE in stack.services and (not options.services or POSE_SERVICE in options.services):
        rows.append(bench_pose_ready(project, stack.services[POSE_SERVICE], options))
    if options.wants("base_build"):
        rows += base_build_rows(stack, options.runs)
    return rows


# --- history, comparison, table, plots ----------------------------------------------------------------


@dataclass(frozen=True)
class HostFacts:
    cpu_count: int | None
    memory_bytes: int
    load: tuple[float, float, float]


def host_facts() -> HostFacts:
    import psutil

    return HostFacts(psutil.cpu_count(), psutil.virtual_memory().total, tuple(round(x, 2) for x in psutil.getloadavg()))  # type: ignore[arg-type]


def git_commit(root: Path) -> str:
    try:

        def git(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()

        head, dirty = git("rev-parse", "--short=12", "HEAD"), git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def bench_record(rows: Sequence[BenchRow], *, runs: int, commit: str, engine_version: str, host: HostFacts) -> dict[str, Any]:
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
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as history:
        history.write(json.dumps(record) + "\n")


def read_history(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


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


def describe_change(old: float, delta: float) -> str:
    percent = f" ({delta / old * 100:+.0f}%)" if old > 0 else ""
    colour = "red" if delta > 0.05 * max(old, 0.1) else ("green" if delta < -0.05 * max(old, 0.1) else "dim")
    return f"[{colour}]{delta:+.2f}s{percent}[/]"


def _verdict_cell(verdict: Verdict, limit: float | None, sign: str) -> str:
    if limit is None:
        return ""
    colour = {Verdict.PASS: "green", Verdict.FAIL: "bold red", Verdict.NONE: "dim"}[verdict]
    return f"{sign} {limit:g}s [{colour}]{verdict.value}[/]"


def bench_table(rows: Sequence[BenchRow], compared: Mapping[str, tuple[float, float]] | None = None, title: str = "bench-rebuild") -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("row", "service", "runs", "min", "median", "max", "seed", "goal", "status"):
        table.add_column(column, justify="right" if column in ("runs", "min", "median", "max") else "left")
    if compared is not None:
        table.add_column("vs previous", justify="right")
    table.add_column("detail", overflow="fold")
    for row in rows:
        summary = row.summary
        numbers = [f"{x:.2f}s" for x in (summary.min, summary.median, summary.max)] if summary else ["", "", ""]
        status = Status.FAIL if row.failed else row.status
        cells = [
            row.name,
            row.service,
            str(summary.runs) if summary else "0",
            *numbers,
            _verdict_cell(row.seed_verdict, row.seed, "<"),
            _verdict_cell(row.goal_verdict, row.goal, "≤"),
            styled(status),
        ]
        if compared is not None:
            change = compared.get(row.key)
            cells.append(describe_change(*change) if change else "")
        table.add_row(*cells, row.detail.replace("[", r"\["))
    return table


def plot_history(records: Sequence[Mapping[str, Any]], folder: Path) -> list[Path]:
    """One PNG per row name: the median of each service per run, its min–max band, the seed and goal lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    series: dict[str, dict[str, list[tuple[int, float, float, float]]]] = {}
    limits: dict[str, tuple[float | None, float | None]] = {}
    for index, record in enumerate(records):
        for row in record.get("rows", []):
            if row.get("median") is None:
                continue
            series.setdefault(row["name"], {}).setdefault(row["service"], []).append((index, row["min"], row["median"], row["max"]))
            limits[row["name"]] = (row.get("seed"), row.get("goal"))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, by_service in series.items():
        figure, axes = plt.subplots(figsize=(8, 4.5))
        for service, points in by_service.items():
            xs = [p[0] + 1 for p in points]
            axes.plot(xs, [p[2] for p in points], marker="o", label=f"{service} (median)")
            axes.fill_between(xs, [p[1] for p in points], [p[3] for p in points], alpha=0.2)
        seed, goal = limits[name]
        if seed:
            axes.axhline(seed, color="tab:red", linestyle="--", label=f"seed < {seed:g}s")
        if goal:
            axes.axhline(goal, color="tab:green", linestyle=":", label=f"goal ≤ {goal:g}s")
        axes.set_title(f"{name}: seconds per bench run (band: min–max)")
        axes.set_xlabel("bench run (bench.jsonl line)")
        axes.set_ylabel("seconds")
        axes.set_ylim(bottom=0)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
        path = folder / f"{name}.png"
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)
    return written


# --- the whole stack ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchOutcome:
    rows: list[BenchRow]
    record: dict[str, Any]
    previous: dict[str, Any] | None
    plots: list[Path]

    @property
    def failed(self) -> bool:
        return any(row.failed for row in self.rows)


def bench_project(
    project: BenchProject, options: BenchOptions, *, dev_project: BenchProject | None = None, dev_skip: str = "", plot: bool = False
) -> BenchOutcome:
    """Run the bench on a project, append the record to the history and (optionally) plot the history."""
    stack = project.stack
    history_path = stack.state_dir / HISTORY_FILE
    history = read_history(history_path)
    rows = run_bench(project, options, dev_project, dev_skip)
    facts = project.engine.facts()
    engine_version = format_version(facts.server_version)
    record = bench_record(rows, runs=options.runs, commit=git_commit(stack.root), engine_version=engine_version, host=host_facts())
    append_history(history_path, record)
    plots = plot_history([*history, record], stack.state_dir / PLOTS_FOLDER) if plot else []
    return BenchOutcome(rows, record, history[-1] if history else None, plots)


def bench_stack(options: BenchOptions, *, plot: bool = False, progress: Callable[[str], None] | None = None) -> BenchOutcome:
    """The bench on this host's compose stack (its profile); dev sync through the dev profile when it exists."""
    from .workflows import compose_stack

    require_known("row", options.only, ROWS, "--only")
    require_known("service", options.services, load_stack().built_services(), "--service")
    compose = compose_stack()
    say = progress or (lambda text: None)
    project = BenchProject(compose.stack, compose.engine, say)
    dev_project, dev_skip = None, ""
    try:
        dev = compose_stack(offline=compose.profile.offline, online=not compose.profile.offline, dev=True)
        dev_project = BenchProject(dev.stack, dev.engine, say)
    except SnowstackError as error:
        dev_skip = f"no dev profile yet ({error}); measured on the busybox fixture by tests/test_bench.py"
    if dev_project is not None and running_with_file(project, DEV_COMPOSE_FILE):
        # The stack runs in dev mode: rebuild and recreate with the same files, or `up` would swap in prod images.
        project = dev_project
    elif dev_project is not None:
        # Syncing into prod containers measures nothing real (no dev server, no dev stop settings).
        dev_project, dev_skip = None, "the stack runs the prod profile: run `invoke up --dev` first to bench dev sync"
    return bench_project(project, options, dev_project=dev_project, dev_skip=dev_skip, plot=plot)


def running_with_file(project: BenchProject, file_name: str) -> bool:
    """Whether the services we build run containers created with this compose file (compose labels each one).

    Only built services count: a third-party service whose config the file does not touch keeps the labels of
    whichever `up` created it, even after the stack went back to the other profile.
    """
    built = {name for name, service in project.stack.services.items() if service.built}
    containers = [c for name, c in project.containers().items() if name in built]
    return bool(containers) and all(
        any(Path(path).name == file_name for path in c.config.labels.get("com.docker.compose.project.config_files", "").split(","))
        for c in containers
    )


def bench_changes(outcome: BenchOutcome) -> dict[str, tuple[float, float]]:
    """--compare: each row's median against the previous run's."""
    return changes(outcome.rows, outcome.previous)
