"""`invoke bench-analysis`'s pure parts: goals, p95, the rows as table and history record, the clips it makes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from snowstack.bench.analysis import GOALS, AnalysisOutcome, AnalysisRow, Goal, analysis_record, analysis_table, p95
from snowstack.bench.analysis_target import make_clip, sse_events
from snowstack.bench.rows import Verdict
from snowstack.report import console


def test_goals_are_issue_14s_and_judge_in_their_direction() -> None:
    assert GOALS["throughput_ratio"] == Goal(1.6, at_least=True)
    assert (GOALS["clip_60s_done"].limit, GOALS["first_skeleton"].limit, GOALS["three_together"].limit) == (20, 3, 1.7)
    assert GOALS["throughput_ratio"].verdict(1.7) is Verdict.PASS and GOALS["throughput_ratio"].verdict(1.5) is Verdict.FAIL
    assert GOALS["clip_60s_done"].verdict(20.0) is Verdict.PASS and GOALS["clip_60s_done"].verdict(20.1) is Verdict.FAIL
    assert GOALS["first_skeleton"].verdict(None) is Verdict.NONE  # not measured is not a pass


def test_p95_is_the_nearest_rank() -> None:
    assert p95([]) is None
    assert p95([3.0]) == 3.0
    assert p95([float(x) for x in range(1, 21)]) == 19.0
    assert p95([float(x) for x in range(1, 101)]) == 95.0


def test_a_failed_goal_fails_the_run_and_every_row_reaches_table_and_record() -> None:
    rows = [
        AnalysisRow("throughput_ratio", 1.9, "1 worker 10 s, 2 workers 5.3 s", GOALS["throughput_ratio"]),
        AnalysisRow("clip_60s_done", 31.0, "upload 0.4 s + analysis 30.6 s", GOALS["clip_60s_done"]),
        AnalysisRow("segment_p95", 4.2, "12 segments"),
    ]
    outcome = AnalysisOutcome(rows, workers=2)
    assert outcome.failed
    assert not AnalysisOutcome(rows[:1], workers=2).failed
    record = analysis_record(outcome, commit="abc", host={"cpu_count": 2})
    assert json.loads(json.dumps(record))["rows"][1] == {
        "name": "clip_60s_done",
        "value": 31.0,
        "unit": "s",
        "goal": "≤ 20",
        "verdict": "FAIL",
        "detail": "upload 0.4 s + analysis 30.6 s",
    }
    assert record["failed"] is True and record["workers"] == 2
    with console.capture() as captured:
        console.print(analysis_table(outcome))
    text = captured.get()
    assert "throughput_ratio" in text and "1.90×" in text and "FAIL" in text and "segment_p95" in text


@pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None, reason="ffmpeg is not installed")
def test_bench_clips_are_640x480_h264_at_30_fps_of_the_asked_length(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.mp4", seconds=2)
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_entries",
            "stream=codec_name,width,height,nb_read_frames",
            "-of",
            "json",
            str(clip),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    stream = json.loads(probe.stdout)["streams"][0]
    assert (stream["codec_name"], stream["width"], stream["height"], int(stream["nb_read_frames"])) == ("h264", 640, 480, 60)


def test_job_events_are_read_as_the_api_writes_them() -> None:
    # backend/src/routes/jobs.ts: `retry:` first, keep-alive comments, `event: job` / `event: deleted` with JSON data.
    stream = [
        "retry: 2000",
        "",
        "event: job",
        'data: {"id": "j1", "state": "queued"}',
        "",
        ": keep-alive",
        "",
        "event: job",
        'data: {"id": "j1",',
        'data: "state": "done"}',
        "",
        "event: deleted",
        'data: {"id": "j1"}',
        "",
    ]
    assert list(sse_events(stream)) == [
        ("job", {"id": "j1", "state": "queued"}),
        ("job", {"id": "j1", "state": "done"}),
        ("deleted", {"id": "j1"}),
    ]
