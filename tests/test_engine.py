"""The engine module's pure parts: versions and the one-line explanations of common engine failures."""

from __future__ import annotations

import pytest

from snowstack.engine import buildkit_exports, explain_docker_failure, parse_version


@pytest.mark.parametrize(
    ("text", "version"),
    [("v2.40.3-3", (2, 40, 3)), ("github.com/docker/buildx 0.29.1 abc", (0, 29, 1)), ("28.5", (28, 5, 0)), ("none", None), (None, None)],
)
def test_parse_version(text: str | None, version: tuple[int, ...] | None) -> None:
    assert parse_version(text) == version


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", "install-engine.sh"),
        ("permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock", "'docker' group"),
        ("docker: 'compose' is not a docker command.", "Compose v2 plugin"),
        ("docker: 'buildx' is not a docker command.", "buildx plugin"),
        ("something else\nthe last line", "docker failed: the last line"),
    ],
)
def test_common_engine_failures_become_one_actionable_line(stderr: str, expected: str) -> None:
    line = explain_docker_failure(stderr)
    assert expected in line
    assert "\n" not in line


def test_buildkit_exports_can_be_evaluated_by_a_shell() -> None:
    assert buildkit_exports() == ["export DOCKER_BUILDKIT=1", "export COMPOSE_DOCKER_CLI_BUILD=1"]
