"""Walking the repository: paths shown relative to its root, Dockerfiles found under a folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

SKIPPED_DIRS = {"node_modules", ".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


def shown_path(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def walk_files(folder: Path) -> Iterator[Path]:
    for directory, subdirs, files in os.walk(folder):
        subdirs[:] = [d for d in subdirs if d not in SKIPPED_DIRS]
        for name in files:
            yield Path(directory) / name


def find_dockerfiles(folder: Path) -> list[Path]:
    """Every Dockerfile (`Dockerfile`, `Dockerfile.x`, `x.Dockerfile`) under `folder`, node_modules excluded."""

    def is_dockerfile(name: str) -> bool:
        return (name == "Dockerfile" or name.startswith("Dockerfile.") or name.endswith(".Dockerfile")) and not name.endswith(
            ".dockerignore"
        )

    return sorted(path for path in walk_files(folder) if is_dockerfile(path.name)) if folder.is_dir() else []
