"""hadolint: running it on every Dockerfile and turning its findings into a check."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..report import Check, Status
from .paths import shown_path


@dataclass(frozen=True)
class HadolintFinding:
    path: str
    line: int
    code: str
    level: str
    message: str


def check_hadolint(path: str, findings: Sequence[HadolintFinding]) -> Check:
    mine = [f for f in findings if f.path == path]
    if mine:
        detail = "; ".join(f"{f.path}:{f.line} {f.code} ({f.level}) {f.message}" for f in mine)
        return Check(
            "hadolint", Status.FAIL, detail, "fix it, or add `# hadolint ignore=CODE` with a comment line saying why right above it"
        )
    return Check("hadolint", Status.OK, f"{path}: no findings")


def parse_hadolint_json(output: str, root: Path) -> list[HadolintFinding]:
    findings = []
    for item in json.loads(output or "[]"):
        path = Path(item["file"])
        shown = shown_path(path if path.is_absolute() else Path.cwd() / path, root)
        findings.append(HadolintFinding(shown, int(item["line"]), item["code"], item["level"], item["message"]))
    return findings


def hadolint_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "hadolint"
    return str(beside_python) if beside_python.is_file() else shutil.which("hadolint")


def run_hadolint(dockerfiles: Sequence[Path], root: Path) -> list[HadolintFinding]:
    """Findings of every level; an empty config so no user or repo config hides any."""
    binary = hadolint_binary()
    if binary is None:
        raise FileNotFoundError("hadolint")
    if not dockerfiles:
        return []
    with tempfile.TemporaryDirectory(prefix="snowstack-hadolint-") as folder:
        config = Path(folder) / "hadolint.yaml"
        config.write_text("ignored: []\n")
        result = subprocess.run(
            [binary, "--no-color", "-c", str(config), "-f", "json", *map(str, dockerfiles)], capture_output=True, text=True, timeout=60
        )
    if result.returncode not in (0, 1) or not result.stdout.strip().startswith("["):
        raise RuntimeError(result.stderr.strip() or result.stdout.strip() or f"exit {result.returncode}")
    return parse_hadolint_json(result.stdout, root)
