"""The bench rows: each edit → build (→ healthy, → served) measured N times, and the whole stack's bench."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from ..engine import format_version
from ..errors import EngineError, SnowstackError, require_known
from ..images import read_history as read_build_history
from ..stack import Service, Stack
from ..stack_toml import load_stack
from .buildkit import cache_report, cached_build_problems, code_change_problems, dependency_change_problems, describe_cache
from .edits import BENCH_PACKAGE, JOURNAL_FOLDER, SourceEdit, edited_requirements, edited_source, new_marker, recover_edits
from .history import HISTORY_FILE, append_history, bench_record, changes, git_commit, host_facts, read_history
from .report import PLOTS_FOLDER, plot_history
from .rows import BenchRow, measured_row, skipped_row
from .target import ONE_STAGE_DOCKERFILE, BenchTarget, poll

ROWS = (
    "code_change_rebuild",
    "code_change_healthy",
    "code_change_one_stage",
    "dev_sync",
    "dependency_change_rebuild",
    "cached_build",
    "pose_ready",
    "base_build",
)
DEV_COMPOSE_FILE = "docker-compose.dev.yml"
# The pose_ready row times the start of the service with this stack.toml role (the pose model's readiness).
POSE_ROLE = "pose"


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


CODE_CHANGE_ROWS = ("code_change_rebuild", "code_change_healthy", "code_change_one_stage")


def bench_code_change(project: BenchTarget, service: Service, options: BenchOptions) -> list[BenchRow]:
    """code_change_rebuild (+ code_change_healthy when the service runs, + code_change_one_stage when its context
    holds a one-stage Dockerfile): edit → build (→ recreate → its health path answers) (→ the one-stage build of
    the same edit), N times."""
    targets, journal = project.stack.targets, project.stack.state_dir / JOURNAL_FOLDER
    if service.bench_source is None:
        reason = "no bench_source in stack.toml for this service"
        return [skipped_row(name, service.name, reason, targets) for name in CODE_CHANGE_ROWS]
    healthy = options.wants("code_change_healthy") and project.running(service.name)
    one_stage = project.one_stage_dockerfile(service) if options.wants("code_change_one_stage") else None
    one_stage_tag = f"snowstack-bench/{service.name}-one-stage:{project.compose.project_name}"
    rebuild_s: list[float] = []
    healthy_s: list[float] = []
    one_stage_s: list[float] = []
    problems: list[str] = []
    one_stage_problems: list[str] = []
    detail = ""
    try:
        for run in range(options.runs):
            project.progress(f"code change → rebuild {service.name} ({run + 1}/{options.runs})")
            original = service.bench_source.read_text()
            with SourceEdit(service.bench_source, edited_source(service.bench_source, original, new_marker()), journal):
                seconds, steps = project.build([service.name])
                if one_stage is not None:
                    project.progress(f"the same change → one-stage build of {service.name} ({run + 1}/{options.runs})")
                    try:
                        one_stage_s.append(project.build_one_stage(service, one_stage, one_stage_tag))
                    except EngineError as error:
                        one_stage_problems.append(str(error))
            report = cache_report(steps, [service.name])
            problems += code_change_problems(report)
            detail = describe_cache(report)
            rebuild_s.append(seconds)
            if healthy:
                project.progress(f"code change → {service.name} healthy ({run + 1}/{options.runs})")
                healthy_s.append(seconds + project.recreate_until_healthy(service, options.up_timeout))
    except (EngineError, SnowstackError) as error:
        problems.append(str(error))
    finally:
        # The image (and the container, when we recreated it) must run the restored source again.
        project.progress(f"rebuilding {service.name} from the restored source")
        project.build([service.name])
        if healthy:
            project.compose.up([service.name], timeout_s=options.up_timeout, dependencies=False)
        if one_stage is not None:
            project.compose.engine.images.remove(one_stage_tag)
    rows = [measured_row("code_change_rebuild", service.name, rebuild_s, targets, problems, detail)]
    if healthy:
        observed = f"{service.health} 200 polled from the host" if service.health else "Docker's healthcheck"
        rows.append(measured_row("code_change_healthy", service.name, healthy_s, targets, problems, f"→ {observed}; {detail}"))
    else:
        rows.append(skipped_row("code_change_healthy", service.name, f"{service.name} is not running: run `invoke up` first", targets))
    if one_stage is not None:
        note = one_stage_note(one_stage_s, rebuild_s, one_stage.name)
        rows.append(measured_row("code_change_one_stage", service.name, one_stage_s, targets, one_stage_problems, note))
    else:
        reason = f"no {ONE_STAGE_DOCKERFILE} in its context" if options.wants("code_change_one_stage") else "not asked for"
        rows.append(skipped_row("code_change_one_stage", service.name, reason, targets))
    return rows


def one_stage_note(one_stage_s: Sequence[float], staged_s: Sequence[float], dockerfile: str) -> str:
    """The baseline row's detail: its median as a multiple of the staged build's (same edits, same run, same load)."""
    if not one_stage_s or not staged_s:
        return f"{dockerfile}, the same edit"
    ratio = statistics.median(one_stage_s) / max(statistics.median(staged_s), 1e-9)
    return f"{dockerfile}, the same edit in the same run: {ratio:.1f}× the staged build's median"


def bench_dependency_change(project: BenchTarget, service: Service, options: BenchOptions) -> BenchRow:
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


def bench_cached_build(project: BenchTarget, services: Sequence[str], options: BenchOptions) -> BenchRow:
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


def bench_pose_ready(project: BenchTarget, service: Service, options: BenchOptions) -> BenchRow:
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
            project.compose.restart([service.name])
            poll(url + service.health, lambda r: r.status_code == 200, options.up_timeout, interval=0.1)
            ready_at = datetime.now(UTC)
            started = project.compose.started_at(service.name)
            if started is None:
                raise SnowstackError(f"{service.name} has no start time after the restart")
            samples.append((ready_at - started).total_seconds())
    except (EngineError, SnowstackError) as error:
        problems.append(str(error))
    return measured_row(name, service.name, samples, targets, problems, f"container start → {service.health} 200")


def bench_dev_sync(project: BenchTarget, service: Service, options: BenchOptions) -> BenchRow:
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
    with project.compose.watch([service.name], options.sync_timeout):
        try:
            for run in range(options.runs):
                project.progress(f"dev sync {service.name}: edit → served ({run + 1}/{options.runs})")
                marker, original = new_marker(), service.bench_source.read_text()
                with SourceEdit(service.bench_source, edited_source(service.bench_source, original, marker), journal):
                    samples.append(poll(probe, serves(marker, True), options.sync_timeout))
                # Wait for the restored file to be served before the next edit (and before watch stops).
                wait_for_restore(service.bench_source, probe, marker, options.sync_timeout)
        except (EngineError, SnowstackError) as error:
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


def run_bench(project: BenchTarget, options: BenchOptions, dev_project: BenchTarget | None, dev_skip: str = "") -> list[BenchRow]:
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
    if any(options.wants(row) for row in CODE_CHANGE_ROWS):
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
    for pose in stack.with_role(POSE_ROLE) if options.wants("pose_ready") else []:
        if not options.services or pose in options.services:
            rows.append(bench_pose_ready(project, stack.services[pose], options))
    if options.wants("base_build"):
        rows += base_build_rows(stack, options.runs)
    return rows


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
    project: BenchTarget, options: BenchOptions, *, dev_project: BenchTarget | None = None, dev_skip: str = "", plot: bool = False
) -> BenchOutcome:
    """Run the bench on a project, append the record to the history and (optionally) plot the history."""
    stack = project.stack
    history_path = stack.state_dir / HISTORY_FILE
    history = read_history(history_path)
    rows = run_bench(project, options, dev_project, dev_skip)
    facts = project.compose.engine.facts()
    engine_version = format_version(facts.server_version)
    record = bench_record(rows, runs=options.runs, commit=git_commit(stack.root), engine_version=engine_version, host=host_facts())
    append_history(history_path, record)
    plots = plot_history([*history, record], stack.state_dir / PLOTS_FOLDER) if plot else []
    return BenchOutcome(rows, record, history[-1] if history else None, plots)


def bench_stack(options: BenchOptions, *, plot: bool = False, progress: Callable[[str], None] | None = None) -> BenchOutcome:
    """The bench on this host's compose stack (its profile); dev sync through the dev profile when it exists."""
    from ..compose import compose_stack

    require_known("row", options.only, ROWS, "--only")
    require_known("service", options.services, load_stack().built_services(), "--service")
    compose = compose_stack()
    say = progress or (lambda text: None)
    project = BenchTarget(compose.stack, compose.commands, say)
    dev_project, dev_skip = None, ""
    try:
        dev = compose_stack(offline=compose.profile.offline, online=not compose.profile.offline, dev=True)
        dev_project = BenchTarget(dev.stack, dev.commands, say)
    except SnowstackError as error:
        dev_skip = f"no dev profile yet ({error}); measured on the busybox fixture by tests/test_bench.py"
    if dev_project is not None and running_with_file(project, DEV_COMPOSE_FILE):
        # The stack runs in dev mode: rebuild and recreate with the same files, or `up` would swap in prod images.
        project = dev_project
    elif dev_project is not None:
        # Syncing into prod containers measures nothing real (no dev server, no dev stop settings).
        dev_project, dev_skip = None, "the stack runs the prod profile: run `invoke up --dev` first to bench dev sync"
    return bench_project(project, options, dev_project=dev_project, dev_skip=dev_skip, plot=plot)


def running_with_file(project: BenchTarget, file_name: str) -> bool:
    """Whether the services we build run containers created with this compose file (compose labels each one).

    Only built services count: a third-party service whose config the file does not touch keeps the labels of
    whichever `up` created it, even after the stack went back to the other profile.
    """
    built = {name for name, service in project.stack.services.items() if service.built}
    containers = [c for name, c in project.compose.containers().items() if name in built]
    return bool(containers) and all(
        any(Path(path).name == file_name for path in (c.config.labels or {}).get("com.docker.compose.project.config_files", "").split(","))
        for c in containers
    )


def bench_changes(outcome: BenchOutcome) -> dict[str, tuple[float, float]]:
    """--compare: each row's median against the previous run's."""
    return changes(outcome.rows, outcome.previous)
