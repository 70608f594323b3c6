"""tasks.py's namespaces: `invoke --list` shows stack.*, images.*, check.*, bench.*; every task name the repository
writes (README, docs, Makefile, scripts, .ci, tests) still resolves; tunables come from the invoke config."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from invoke.config import Config
from invoke.context import Context

import tasks
from snowstack.cli import tunable
from snowstack.errors import SnowstackError

ROOT = Path(__file__).resolve().parent.parent
# `invoke NAME` in code: a backticked or fenced command in Markdown, a command line in a script or the Makefile,
# an argv in a test (`"-m", "invoke", "NAME"`).
IN_MARKDOWN = re.compile(r"(?:^|\$ |\$\(|&& |; )(?:\w+=\S* )*(?:\S*/)?invoke ([a-z][\w.-]*)", re.M)  # a command, not prose
IN_SCRIPT = re.compile(r"(?:^|[\s;&|(])(?:\S*/)?invoke ([a-z][\w.-]*)")
IN_TEST = re.compile(r"\"invoke\", \"([a-z][\w.-]*)\"")


def invoke(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def markdown_commands(text: str) -> list[str]:
    """Names after `invoke` inside inline code spans and fenced blocks only (prose says "invoke passes…")."""
    code = re.findall(r"```.*?```", text, flags=re.S) + re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return [name for block in code for name in IN_MARKDOWN.findall(block)]


def documented_names() -> dict[str, set[str]]:
    """Task name -> the files that write `invoke NAME`."""
    found: dict[str, set[str]] = {}
    for path in [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("backend/**/README.md")]:
        if "node_modules" not in path.parts:
            for name in markdown_commands(path.read_text()):
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    for path in [ROOT / "Makefile", *ROOT.glob("scripts/*.sh"), *ROOT.glob(".ci/*")]:
        for line in path.read_text().splitlines():
            if not line.lstrip().startswith("#"):
                for name in IN_SCRIPT.findall(line):
                    found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    for path in ROOT.glob("tests/*.py"):
        for name in IN_TEST.findall(path.read_text()):
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_list_shows_the_namespaces_and_the_root_verbs() -> None:
    listed = invoke("--list")
    assert listed.returncode == 0, listed.stderr
    names = {line.split()[0] for line in listed.stdout.splitlines() if line.startswith("  ") and line.strip()}
    for namespace, verbs in {
        "stack": ("up", "down", "ps", "logs", "watch"),
        "images": ("bootstrap", "buildkit"),
        "check": ("doctor", "lint", "verify"),
        "bench": ("rebuild", "analysis"),
    }.items():
        assert {f"{namespace}.{verb}" for verb in verbs} <= names, namespace
    assert {"bootstrap", "up", "verify", "bench-rebuild", "user", "deploy"} <= names


def test_every_task_name_the_repository_writes_resolves() -> None:
    found = documented_names()
    assert {"up", "verify", "bootstrap", "bench-rebuild", "user", "down"} <= set(found)  # the scan sees them
    missing = {name: sorted(files) for name, files in found.items() if name not in tasks.ns.task_names and name not in tasks.ns.collections}
    assert not missing, f"documented but not a task: {missing}"
    # The namespaced names run the same task object as the root verb.
    assert tasks.ns["stack.up"] is tasks.ns["up"] and tasks.ns["bench.rebuild"] is tasks.ns["bench-rebuild"]
    assert tasks.ns["check.verify"] is tasks.ns["verify"] and tasks.ns["images.bootstrap"] is tasks.ns["bootstrap"]


def test_a_left_out_flag_takes_the_configured_default_and_a_given_one_wins() -> None:
    defaults = Context(Config(defaults=tasks.ns.configuration()))
    assert tunable(defaults, "up.timeout", 0, "--timeout") == 300 and tunable(defaults, "verify.deadline", 0, "--deadline") == 30
    configured = Context(Config(defaults=tasks.ns.configuration(), overrides={"snowstack": {"up": {"timeout": 900}}}))
    assert tunable(configured, "up.timeout", 0, "--timeout") == 900
    assert tunable(configured, "up.timeout", 60, "--timeout") == 60
    with pytest.raises(SnowstackError, match=r"^--timeout -1: give a positive number"):
        tunable(configured, "up.timeout", -1, "--timeout")


def test_a_bad_configured_tunable_is_one_line_naming_the_key_before_any_docker_work(tmp_path: Path) -> None:
    config = tmp_path / "invoke.yaml"
    config.write_text("snowstack:\n  up:\n    timeout: -5\n")
    result = invoke("-f", str(config), "up")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1, result.stdout + result.stderr
    assert "config snowstack.up.timeout is -5" in lines[0]
