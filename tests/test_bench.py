"""invoke bench-rebuild: the rawjson parser and cache analysis (on real captured BuildKit output), statistics and
verdicts, reversible edits (restored on errors and signals, by hash), history/compare/table/plot, and the whole
bench on the busybox fixture stack against the real engine.

The captured samples in tests/fixtures/bench/ come from `docker compose --progress json build` (BuildKit's rawjson
vertexes) of the busybox fixture's `back` service with a deps stage (the Dockerfile `DEPS_DOCKERFILE` below):
`busybox-code-change.rawjson` after an index.html edit (`back` alone), `busybox-dependency-change.rawjson` after a
requirements.txt edit (`back` and `front` together, so vertex names carry the target).
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import signal
from pathlib import Path

import pytest
from rich.console import Console

from snowstack import bench
from snowstack.bench import (
    BenchOptions,
    BenchRow,
    BenchTarget,
    SourceEdit,
    Verdict,
    cache_report,
    code_change_problems,
    dependency_change_problems,
    edited_requirements,
    edited_source,
    is_dependency_step,
    measured_row,
    parse_rawjson,
    recover_edits,
    sha256,
    step_parts,
    summarize,
)
from snowstack.engine import Engine
from snowstack.errors import SnowstackError
from snowstack.images import Bootstrapper, base_image_specs
from snowstack.report import Status
from snowstack.stack import Stack, Target
from snowstack.stack_toml import load_stack

SAMPLES = Path(__file__).parent / "fixtures" / "bench"
FIXTURE_STACK = Path(__file__).parent / "fixtures" / "busybox-stack"
TARGETS = {
    "code_change_rebuild": Target("code_change_rebuild", seed=30, goal=3),
    "dev_sync": Target("dev_sync", goal=1.5),
}
DEPS_DOCKERFILE = """ARG BASE_IMAGE=snowstack-fixture/base-b:test
FROM ${BASE_IMAGE} AS deps
COPY requirements.txt /deps/requirements.txt
RUN cat /deps/requirements.txt > /deps/installed
FROM deps AS runtime
COPY index.html /www/index.html
EXPOSE 8080
HEALTHCHECK --interval=1s --timeout=2s --retries=30 CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
"""


def sample(name: str) -> list[str]:
    return (SAMPLES / name).read_text().splitlines()


# --- rawjson and the cache analysis ---------------------------------------------------------------------


def test_code_change_sample_shows_only_the_application_copy_rebuilt_and_dependency_steps_cached() -> None:
    steps = {step.name: step for step in parse_rawjson(sample("busybox-code-change.rawjson"))}
    assert steps["[runtime 1/1] COPY index.html /www/index.html"].ran
    assert steps["[deps 3/3] RUN cat /deps/requirements.txt > /deps/installed"].cached
    report = cache_report(steps.values(), ["back"])
    assert report.base == ("[deps 1/3] FROM docker.io/snowstack-fixture/base-b:test",)
    assert report.rebuilt == ("[runtime 1/1] COPY index.html /www/index.html",)
    assert report.dependency_rebuilt == ()
    assert code_change_problems(report) == []
    copy = steps["[runtime 1/1] COPY index.html /www/index.html"]
    assert copy.seconds is not None and 0 <= copy.seconds < 5


def test_dependency_change_sample_names_the_deps_step_that_re_ran() -> None:
    report = cache_report(parse_rawjson(sample("busybox-dependency-change.rawjson")), ["back", "front"])
    assert set(report.dependency_rebuilt) == {
        "[back deps 2/3] COPY requirements.txt /deps/requirements.txt",
        "[back deps 3/3] RUN cat /deps/requirements.txt > /deps/installed",
    }
    assert "[front 2/2] COPY index.html /www/index.html" in report.cached
    assert dependency_change_problems(report) == []
    # The same build seen as a code change fails, naming the step.
    assert "dependency step re-ran: [back deps 3/3] RUN cat /deps/requirements.txt > /deps/installed" in code_change_problems(report)


def test_a_build_where_nothing_re_ran_is_no_code_change_and_no_dependency_change() -> None:
    report = cache_report([], [])
    assert code_change_problems(report) == ["no step re-ran: the edit never reached the build (is the file in .dockerignore?)"]
    assert dependency_change_problems(report)


def test_vertexes_merge_by_digest_keep_the_earliest_start_and_ignore_non_json_lines() -> None:
    lines = [
        '{"id":"img","status":"Built"}',
        "not json",
        '{"vertexes":[{"digest":"d1","name":"[build 2/3] COPY src ./src"}]}',
        '{"vertexes":[{"digest":"d1","name":"[build 2/3] COPY src ./src","started":"2026-01-01T00:00:01.123456789Z"}]}',
        '{"vertexes":[{"digest":"d1","name":"[build 2/3] COPY src ./src","started":"2026-01-01T00:00:02Z",'
        '"completed":"2026-01-01T00:00:03.5Z","error":"boom"}]}',
    ]
    (step,) = parse_rawjson(lines)
    assert (step.ran, step.error) == (True, "boom")
    assert step.seconds == pytest.approx(2.376544, abs=1e-6)


@pytest.mark.parametrize(
    ("name", "dependency"),
    [
        ("[deps 3/4] RUN /opt/venv/bin/pip install -r /tmp/requirements.txt", True),
        ("[deps 2/4] COPY requirements.txt /tmp/requirements.txt", True),
        ("[pose-service deps 2/2] COPY package.json package-lock.json ./", True),
        ("[prod-deps 3/3] RUN npm ci --omit=dev", True),
        ("[runtime 1/6] RUN apt-get purge -y build-essential", True),
        ("[deps 1/4] FROM docker.io/snowboarding/base-python:local", False),
        ("[build 2/3] COPY pose_service ./pose_service", False),
        ("[api 2/2] COPY index.html /www/index.html", False),
        ("[internal] load build context", False),
        ("[back] exporting to image", False),
    ],
)
def test_dependency_steps_are_deps_stage_copies_and_runs_or_package_installs(name: str, dependency: bool) -> None:
    assert is_dependency_step(name, ["pose-service", "api"]) is dependency


def test_step_names_split_into_target_stage_and_instruction() -> None:
    assert step_parts("[deps 3/4] RUN x") == (None, "deps", "RUN x")
    assert step_parts("[api deps 3/4] RUN x", ["api"]) == ("api", "deps", "RUN x")
    assert step_parts("[api 2/2] COPY a b", ["api"]) == ("api", None, "COPY a b")
    assert step_parts("[2/2] COPY a b") == (None, None, "COPY a b")
    assert step_parts("[internal] load .dockerignore") is None


# --- statistics and verdicts ------------------------------------------------------------------------------


def test_summary_is_min_median_max_over_the_runs() -> None:
    summary = summarize([3.0, 1.0, 2.0, 10.0])
    assert summary is not None
    assert (summary.runs, summary.min, summary.median, summary.max) == (4, 1.0, 2.5, 10.0)
    assert summarize([]) is None


def test_seed_is_a_strict_bound_and_the_goal_an_inclusive_one() -> None:
    at_goal = measured_row("code_change_rebuild", "api", [2.0, 3.0, 9.0], TARGETS)
    assert (at_goal.seed_verdict, at_goal.goal_verdict, at_goal.failed) == (Verdict.PASS, Verdict.PASS, False)
    over_goal = measured_row("code_change_rebuild", "api", [3.5], TARGETS)
    assert (over_goal.seed_verdict, over_goal.goal_verdict, over_goal.failed) == (Verdict.PASS, Verdict.FAIL, True)
    at_seed = measured_row("code_change_rebuild", "api", [30.0], TARGETS)
    assert at_seed.seed_verdict is Verdict.FAIL
    untargeted = measured_row("cached_build", "all", [99.0], TARGETS)
    assert (untargeted.seed_verdict, untargeted.goal_verdict, untargeted.failed) == (Verdict.NONE, Verdict.NONE, False)


def test_a_row_with_a_problem_or_no_samples_fails_and_a_skip_does_not() -> None:
    problem = measured_row("code_change_rebuild", "api", [1.0], TARGETS, ["dependency step re-ran: [deps 2/2] RUN npm ci"])
    assert problem.failed and problem.detail == "dependency step re-ran: [deps 2/2] RUN npm ci"
    assert measured_row("dev_sync", "web", [], TARGETS).failed
    assert not bench.skipped_row("dev_sync", "web", "no dev profile", TARGETS).failed


# --- edits ----------------------------------------------------------------------------------------------


def test_a_python_version_edit_changes_the_served_version_string(tmp_path: Path) -> None:
    source = '"""pkg"""\n\n__version__ = "0.1.0"\n'
    # The dev-sync probe looks for the marker in the served version string, so it must appear verbatim.
    edited = edited_source(tmp_path / "__init__.py", source, "snowstack.bench.abc123")
    namespace: dict[str, object] = {}
    exec(edited, namespace)
    assert namespace["__version__"] == "0.1.0+snowstack.bench.abc123"
    assert edited.startswith(source)


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("health.ts", "// snowstack-bench-1: reverted"),
        ("index.html", "<!-- snowstack-bench-1: reverted"),
        ("styles.css", "/* snowstack-bench-1: reverted"),
        ("app.py", "# snowstack-bench-1: reverted"),
    ],
)
def test_other_sources_get_one_comment_line_in_their_own_syntax(name: str, line: str) -> None:
    edited = edited_source(Path(name), "content", "snowstack-bench-1")
    assert edited.startswith("content\n") and edited.splitlines()[-1].startswith(line)


def test_a_requirements_edit_pins_a_package_and_is_new_every_run() -> None:
    first, second = edited_requirements("flask==3.1.3\n", "m-1"), edited_requirements("flask==3.1.3\n", "m-2")
    assert first.startswith("flask==3.1.3\n") and bench.BENCH_PACKAGE in first.splitlines()
    assert first != second


def test_an_edit_is_restored_after_a_failure_and_verified_by_hash(tmp_path: Path) -> None:
    path, journal = tmp_path / "index.html", tmp_path / "journal"
    path.write_text("v1\n")
    with pytest.raises(RuntimeError), SourceEdit(path, "v2\n", journal):
        assert path.read_text() == "v2\n"
        raise RuntimeError("build failed")
    assert path.read_text() == "v1\n"
    assert list(journal.iterdir()) == []


def test_sigterm_during_an_edit_restores_the_file(tmp_path: Path) -> None:
    path = tmp_path / "index.html"
    path.write_text("v1\n")
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), SourceEdit(path, "v2\n", tmp_path / "journal"):
        os.kill(os.getpid(), signal.SIGTERM)  # the handler raises KeyboardInterrupt at the next bytecode
        for _ in range(1000):
            pass
    assert sha256(path.read_bytes()) == sha256(b"v1\n")
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_killed_bench_leaves_a_journal_the_next_run_restores(tmp_path: Path) -> None:
    path, journal = tmp_path / "index.html", tmp_path / "journal"
    path.write_text("v1\n")
    SourceEdit(path, "v2\n", journal).__enter__()  # never exited: as if killed with -9
    assert path.read_text() == "v2\n"
    assert recover_edits(journal) == [f"restored {path} (a bench was interrupted before it could)"]
    assert path.read_text() == "v1\n" and list(journal.iterdir()) == []


def test_a_file_someone_else_changed_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "index.html"
    path.write_text("v1\n")
    with pytest.raises(SnowstackError, match="changed during the bench"), SourceEdit(path, "v2\n", tmp_path / "journal"):
        path.write_text("someone's work\n")
    assert path.read_text() == "someone's work\n"


# --- history, compare, table, plot ------------------------------------------------------------------------


def rows(median: float) -> list[BenchRow]:
    return [
        measured_row("code_change_rebuild", "api", [median - 1, median, median + 1], TARGETS, detail="re-ran: [build 2/3] COPY src"),
        bench.skipped_row("dev_sync", "api", "no dev profile", TARGETS),
    ]


def record(median: float) -> dict[str, object]:
    host = bench.BenchHost(cpu_count=2, memory_bytes=24 << 30, load=(0.5, 0.4, 0.3))
    return bench.bench_record(rows(median), runs=3, commit="abc", engine_version="28.5.2", host=host)


def test_history_appends_one_record_per_run_and_compare_shows_the_median_change(tmp_path: Path) -> None:
    history = tmp_path / "bench.jsonl"
    bench.append_history(history, record(4.0))
    bench.append_history(history, record(5.0))
    first, second = bench.read_history(history)
    assert second["engine"] == "28.5.2" and second["host"]["cpu_count"] == 2 and second["commit"] == "abc"
    row = second["rows"][0]
    assert (row["min"], row["median"], row["max"], row["seed_verdict"], row["goal_verdict"]) == (4.0, 5.0, 6.0, "PASS", "FAIL")
    assert bench.changes(rows(5.0), first) == {"code_change_rebuild/api": (4.0, 1.0)}
    assert bench.changes(rows(5.0), None) == {}


def test_the_table_shows_every_row_with_seed_and_goal_verdicts_and_the_change() -> None:
    console = Console(file=io.StringIO(), width=250, color_system=None)
    console.print(bench.bench_table(rows(5.0), {"code_change_rebuild/api": (4.0, 1.0)}))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "< 30s PASS" in text and "≤ 3s FAIL" in text and "+1.00s (+25%)" in text
    assert "[build 2/3] COPY src" in text and "no dev profile" in text and "skip" in text


def test_plots_are_one_png_per_row_name(tmp_path: Path) -> None:
    written = bench.plot_history([record(4.0), record(5.0), record(3.0)], tmp_path / "plots")
    assert written == [tmp_path / "plots" / "code_change_rebuild.png"]
    assert written[0].read_bytes().startswith(b"\x89PNG")


def test_base_builds_come_from_bootstraps_history(tmp_path: Path) -> None:
    stack = dataclasses.replace(load_stack(FIXTURE_STACK / "stack.toml"), state_dir=tmp_path)
    lines = [
        {"name": "base-a", "outcome": "built", "seconds": 12.0},
        {"name": "base-a", "outcome": "up to date", "seconds": 0.1},
        {"name": "base-a", "outcome": "built", "seconds": 8.0},
        {"name": "base-b", "outcome": "failed", "seconds": 3.0},
        {"name": "base-b", "outcome": "built", "seconds": 1000.0},
    ]
    common = {"image": "i", "kind": "base", "reason": "r", "size_bytes": None, "context_hash": "h", "at": "t"}
    (tmp_path / "builds.jsonl").write_text("".join(json.dumps({**common, **line}) + "\n" for line in lines))
    stack = dataclasses.replace(stack, targets={"base_build": Target("base_build", seed=900)})
    a, b = bench.base_build_rows(stack, runs=5)
    assert (a.service, a.samples, a.failed) == ("base-a", (12.0, 8.0), False)
    assert (b.service, b.seed_verdict, b.failed) == ("base-b", Verdict.FAIL, True)
    assert "1 failed build" in b.detail


# --- the real engine --------------------------------------------------------------------------------------


def prepare_fixture(stack: Stack) -> Stack:
    """The fixture with a deps stage in `back`, a watch sync section on `front` and the bench keys in stack.toml."""
    root = stack.root
    base_b = stack.base_images["base-b"].image  # this checkout's name for it (see conftest.fixture_stack)
    (root / "back" / "Dockerfile").write_text(DEPS_DOCKERFILE.replace("snowstack-fixture/base-b:test", base_b))
    (root / "back" / "requirements.txt").write_text("a==1\n")
    compose = (root / "compose.yml").read_text()
    watch = "    develop:\n      watch:\n        - action: sync\n          path: ./front\n          target: /www\n"
    compose = compose.replace("    networks: [fixture]\nnetworks:", "    networks: [fixture]\n" + watch + "networks:")
    assert "develop:" in compose
    (root / "compose.yml").write_text(compose)
    toml = (root / "stack.toml").read_text()
    toml = toml.replace('context = "back"\n', 'context = "back"\nbench_source = "index.html"\nbench_dependency = "requirements.txt"\n')
    toml = toml.replace('context = "front"\n', 'context = "front"\nbench_source = "index.html"\nbench_probe = "/"\n')
    toml += "\n[targets.code_change_rebuild]\nseed = 30\n[targets.dev_sync]\nseed = 30\n[targets.cached_build]\nseed = 60\n"
    (root / "stack.toml").write_text(toml)
    return load_stack(root / "stack.toml")


@pytest.mark.engine
def test_bench_on_the_fixture_stack_rebuilds_only_the_edited_copy_and_restores_every_file(fixture_stack: Stack, engine: Engine) -> None:
    stack = prepare_fixture(fixture_stack)
    builder = Bootstrapper(stack, engine, ca_bundle=None)
    for spec in base_image_specs(stack, None, offline=False, gpu=False):
        builder.build(spec)
    project = BenchTarget(stack, Engine([stack.compose_file], project_name=stack.name).project)
    edited = [stack.services["back"].bench_source, stack.services["front"].bench_source, stack.services["back"].bench_dependency]
    hashes = {path: sha256(path.read_bytes()) for path in edited if path}
    try:
        project.build(["back", "front"])
        project.compose.up(["back", "front"], timeout_s=60)

        # One edit by hand: the analysis sees the edited service's COPY re-run and everything below it cached.
        source = stack.services["back"].bench_source
        assert source is not None
        with SourceEdit(source, edited_source(source, source.read_text(), bench.new_marker()), stack.state_dir / "j"):
            _, steps = project.build(["back"])
        report = cache_report(steps, ["back"])
        assert report.rebuilt == ("[runtime 1/1] COPY index.html /www/index.html",)
        assert report.base == (f"[deps 1/3] FROM docker.io/{stack.base_images['base-b'].image}",)
        assert "[deps 2/3] COPY requirements.txt /deps/requirements.txt" in report.cached
        assert "[deps 3/3] RUN cat /deps/requirements.txt > /deps/installed" in report.cached

        options = BenchOptions(
            runs=2, only=("code_change_rebuild", "code_change_healthy", "dev_sync", "dependency_change_rebuild", "cached_build")
        )
        found = {row.key: row for row in bench.run_bench(project, options, dev_project=project)}
    finally:
        project.compose.down(volumes=True)

    assert {path: sha256(path.read_bytes()) for path in hashes} == hashes
    assert not list((stack.state_dir / bench.JOURNAL_FOLDER).glob("*"))
    for key in ("code_change_rebuild/back", "code_change_rebuild/front", "code_change_healthy/back", "code_change_healthy/front"):
        assert found[key].status is Status.OK and len(found[key].samples) == 2, found[key]
    assert "re-ran: [runtime 1/1] COPY index.html" in found["code_change_rebuild/back"].detail
    assert found["dependency_change_rebuild/back"].status is Status.OK
    assert "[deps 3/3] RUN cat" in found["dependency_change_rebuild/back"].detail
    assert found["dependency_change_rebuild/front"].status is Status.SKIP
    assert found["cached_build/all"].status is Status.OK and "0 re-ran" in found["cached_build/all"].detail
    sync = found["dev_sync/front"]
    assert sync.status is Status.OK and len(sync.samples) == 2 and max(sync.samples) < 30, sync


def test_fixture_samples_are_real_compose_output() -> None:
    # Guard against hand-edited fixtures: every line is JSON that compose/BuildKit wrote.
    for name in ("busybox-code-change.rawjson", "busybox-dependency-change.rawjson"):
        for line in sample(name):
            assert set(json.loads(line)) <= {"vertexes", "statuses", "logs", "warnings"}



def test_the_one_stage_row_says_how_many_times_slower_than_the_staged_build_it_was() -> None:
    from snowstack.bench.measure import one_stage_note

    assert one_stage_note([25.0, 26.0, 24.0], [1.0, 1.2, 0.8], "Dockerfile.onestage").endswith("25.0× the staged build's median")
    assert one_stage_note([], [1.0], "Dockerfile.onestage") == "Dockerfile.onestage, the same edit"
