"""Setup scripts: a shell script that installs packages belongs in a Dockerfile (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..report import Check, Status

SETUP_INSTALL = re.compile(
    r"\b(apt-get|apt)\s+(-\S+\s+)*install\b|\bpip3?\s+install\b|-m\s+pip\s+install\b|\bnpm\s+(install|i|ci|add)\b"
    r"|\byarn\s+add\b|\bapk\s+add\b"
)
SHELL_SHEBANG = re.compile(r"^#!\s*\S*/(env\s+)?(ba|da|z|k|a)?sh\b")


def is_shell_script(name: str, head: str) -> bool:
    return name.endswith(".sh") or bool(SHELL_SHEBANG.match(head))


def setup_installs(text: str) -> list[tuple[int, str]]:
    """(line, text) of each dependency install a script runs (comments ignored)."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0] if not line.lstrip().startswith("#!") else ""
        if SETUP_INSTALL.search(code):
            found.append((number, line.strip()))
    return found


def check_setup_scripts(scripts: Mapping[str, str]) -> Check:
    """`scripts` maps each shell script in a service folder (shown path) to its text."""
    problems = [f"{path}:{line}: {text[:80]}" for path, text in sorted(scripts.items()) for line, text in setup_installs(text)]
    if problems:
        return Check(
            "setup scripts", Status.FAIL, "; ".join(problems), "install dependencies in the Dockerfile (deps stage), not in a script"
        )
    return Check("setup scripts", Status.OK, f"{len(scripts)} shell scripts in service folders, none installs dependencies")
