"""The engine module's pure parts: versions, the one-line explanations of common engine failures, and each engine
object's own environment (never os.environ)."""

from __future__ import annotations

import json
import os

import pytest

from snowstack.engine import BUILDKIT_ENV, Engine, buildkit_exports, client_call, parse_version
from snowstack.engine_failures import explain_docker_failure, failing_step


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


def test_every_docker_command_of_an_engine_object_starts_with_its_own_environment() -> None:
    assert client_call({"B": "2", "A": "x=y"}) == ["env", "A=x=y", "B=2", "docker"]


def test_building_engine_objects_never_writes_os_environ() -> None:
    before = dict(os.environ)
    engine = Engine(env={"CA_BUNDLE": "/tmp/ca.pem"})
    assert dict(os.environ) == before
    assert engine.env == {**BUILDKIT_ENV, "CA_BUNDLE": "/tmp/ca.pem"}
    call = [str(part) for part in engine.client.client_config.docker_cmd]
    assert call[0].endswith("env") and "CA_BUNDLE=/tmp/ca.pem" in call and "DOCKER_BUILDKIT=1" in call


def test_a_failed_compose_build_in_json_progress_is_named_by_itsfailing_step() -> None:
    # What `docker compose --progress json build` prints last when a RUN fails (captured from Compose 2.40).
    message = 'Dockerfile:7\n\n--------------------\n\n   7 | >>> RUN echo "front breaks" && exit 4\n\n--------------------\n\n'
    message += 'failed to solve: process "/bin/sh -c echo \\"front breaks\\" && exit 4" did not complete successfully: exit code: 4\n'
    line = json.dumps({"error": True, "message": message})
    assert failing_step(["not json", line]).endswith("did not complete successfully: exit code: 4")
