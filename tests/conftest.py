"""Shared fixtures: the real Docker engine (fails, never skips, when CI is set) and the busybox fixture stack."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from snowstack.engine import Engine
from snowstack.project import PROJECT_VARIABLE, suite_project_name
from snowstack.stack import Stack
from snowstack.stack_toml import load_stack

# Every compose command the suite runs (in process or through `invoke`) works on an isolated project of this
# checkout, never on the user's own stack: its own volumes, network, image tag, secrets and free host ports.
os.environ[PROJECT_VARIABLE] = os.environ.get(PROJECT_VARIABLE) or suite_project_name(load_stack())
if os.environ[PROJECT_VARIABLE] == load_stack().name:
    raise pytest.UsageError(f"{PROJECT_VARIABLE} names the user's own stack: unset it to run the tests on an isolated project")

FIXTURE_STACK = Path(__file__).parent / "fixtures" / "busybox-stack"
FIXTURE_NAME = "snowstack-fixture"  # as written in the fixture's files
BUSYBOX = shutil.which("busybox") or "/bin/busybox"


def require_engine() -> Engine:
    """The real engine; without one the test skips on a laptop and fails in CI."""
    engine = Engine()
    facts = engine.facts()
    if not facts.reachable or facts.compose_version is None or facts.buildx_version is None:
        reason = facts.error or "compose v2 or buildx is missing"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but no usable Docker engine answers: {reason}")
        pytest.skip(f"no usable Docker engine: {reason}")
    return engine


@pytest.fixture(scope="session")
def engine() -> Engine:
    return require_engine()


@pytest.fixture
def fixture_stack(tmp_path: Path, engine: Engine) -> Iterator[Stack]:
    """A fresh copy of the busybox stack (with the static busybox binary) and its images removed afterwards."""
    if not Path(BUSYBOX).is_file():
        message = "busybox-static is missing: apt-get install busybox-static"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    root = tmp_path / "stack"
    shutil.copytree(FIXTURE_STACK, root)
    # Its project, network and image names carry this checkout's test project name, like the real stack's: two
    # clones testing at once on one engine never build, start or remove each other's fixture.
    for path in root.rglob("*"):
        if path.is_file():
            path.write_text(path.read_text().replace(FIXTURE_NAME, fixture_name()))
    shutil.copy(BUSYBOX, root / "base-a" / "busybox")
    stack = load_stack(root / "stack.toml")
    yield stack
    for image in [*(b.image for b in stack.base_images.values()), *(f"{fixture_name()}/{s}:test" for s in stack.services)]:
        engine.images.remove(image)


def fixture_name() -> str:
    """The busybox stack's name for this checkout (`snowstack-fixture-<hash>`)."""
    return f"{FIXTURE_NAME}-{os.environ[PROJECT_VARIABLE].rsplit('-', 1)[-1]}"
