"""`invoke bench-rebuild`: how long a change takes to reach a running service, against stack.toml's targets.

Rows (each over N runs; min / median / max), named for their [targets] entry:
  code_change_rebuild        edit a service's `bench_source` → `compose build <service>`; BuildKit's rawjson progress
                             proves that no dependency step re-ran
  code_change_healthy        the same build, then `compose up -d --no-deps <service>` until its health path answers
                             200 from the host (polled every 20 ms: sooner than Docker's healthcheck can say so)
  code_change_one_stage      the baseline: the same edit built from the context's Dockerfile.onestage (one stage, no
                             cache mounts) in the same run; its detail gives the ratio to the staged build
  dev_sync                   edit → the change is served through `compose watch` (the dev profile)
  dependency_change_rebuild  a pinned package added to `bench_dependency` → rebuild; the deps stage must re-run
  cached_build               `compose build` of every built service with nothing changed: every step cached
  pose_ready                 `compose restart pose-service` → its container start to /ready 200
  base_build                 bootstrap's base image builds, from its history file

Every edit is restored (on success, failure, Ctrl-C and SIGTERM) and checked by hash; a journal in the state
folder restores an edit that a killed process left behind on the next run.
"""

from .buildkit import (
    BuildStep,
    CacheReport,
    cache_report,
    cached_build_problems,
    code_change_problems,
    dependency_change_problems,
    describe_cache,
    is_dependency_step,
    parse_rawjson,
    step_parts,
)
from .edits import BENCH_PACKAGE, JOURNAL_FOLDER, SourceEdit, edited_requirements, edited_source, new_marker, recover_edits, sha256
from .history import HISTORY_FILE, BenchHost, append_history, bench_record, changes, git_commit, host_facts, read_history, row_json
from .measure import ROWS, BenchOptions, BenchOutcome, base_build_rows, bench_changes, bench_project, bench_stack, run_bench
from .report import PLOTS_FOLDER, bench_table, plot_history
from .rows import BenchRow, Summary, Verdict, goal_verdict, measured_row, seed_verdict, skipped_row, summarize
from .target import ONE_STAGE_DOCKERFILE, BenchTarget, poll

__all__ = [
    "BENCH_PACKAGE",
    "HISTORY_FILE",
    "JOURNAL_FOLDER",
    "ONE_STAGE_DOCKERFILE",
    "PLOTS_FOLDER",
    "ROWS",
    "BenchHost",
    "BenchOptions",
    "BenchOutcome",
    "BenchRow",
    "BenchTarget",
    "BuildStep",
    "CacheReport",
    "SourceEdit",
    "Summary",
    "Verdict",
    "append_history",
    "base_build_rows",
    "bench_changes",
    "bench_project",
    "bench_record",
    "bench_stack",
    "bench_table",
    "cache_report",
    "cached_build_problems",
    "changes",
    "code_change_problems",
    "dependency_change_problems",
    "describe_cache",
    "edited_requirements",
    "edited_source",
    "git_commit",
    "goal_verdict",
    "host_facts",
    "is_dependency_step",
    "measured_row",
    "new_marker",
    "parse_rawjson",
    "plot_history",
    "poll",
    "read_history",
    "recover_edits",
    "row_json",
    "run_bench",
    "seed_verdict",
    "sha256",
    "skipped_row",
    "step_parts",
    "summarize",
]
