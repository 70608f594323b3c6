"""Issue 17 item 2: engine*.py is the one place in snowstack/ that starts Docker (the modules' docstrings say so; this
holds them to it). Importing python-on-whales' models (Container, DockerException) elsewhere is fine: they start nothing."""

from __future__ import annotations

import ast
from pathlib import Path

SNOWSTACK = Path(__file__).resolve().parents[1] / "snowstack"
STARTERS = {"DockerClient", "run"}  # python_on_whales.DockerClient, python_on_whales.utils.run


def docker_starts(source: str) -> list[int]:
    """Lines that start a docker process: a command list beginning with "docker", or python-on-whales' client/runner."""

    def starts(node: ast.AST) -> bool:
        if isinstance(node, ast.List):
            return bool(node.elts) and isinstance(node.elts[0], ast.Constant) and node.elts[0].value == "docker"
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("python_on_whales"):
            return any(alias.name in STARTERS for alias in node.names)
        return False

    lines = [node.lineno for node in ast.walk(ast.parse(source)) if starts(node)]
    return lines


def test_the_detector_sees_a_docker_command_and_the_client():
    assert docker_starts('import subprocess\nsubprocess.run(["docker", "ps"])\n') == [2]
    assert docker_starts("from python_on_whales import DockerClient\n") == [1]
    assert docker_starts("from python_on_whales.utils import run\n") == [1]
    assert docker_starts('from python_on_whales import Container\nsubprocess.run(["git", "log"])\n') == []


def test_no_module_outside_engine_starts_docker():
    offenders = {
        str(path.relative_to(SNOWSTACK)): lines
        for path in sorted(SNOWSTACK.rglob("*.py"))
        if not path.name.startswith("engine") and (lines := docker_starts(path.read_text()))
    }
    assert offenders == {}, f"docker started outside snowstack/engine*.py: {offenders}"
