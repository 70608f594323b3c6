"""How a failed docker, buildx or compose command becomes one EngineError: an actionable line and the log tail.

Shared by the engine's nouns (engine.py, engine_images.py, engine_compose.py, engine_swarm.py); it starts nothing itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from python_on_whales import DockerException

from .errors import EngineError

LOG_TAIL_LINES = 30


def explain_docker_failure(stderr: str) -> str:
    """One actionable line for the engine errors people hit first."""
    text = stderr.strip()
    if "permission denied" in text and "docker.sock" in text:
        return "permission denied on the Docker socket: add yourself to the 'docker' group (then log in again) or run as root"
    if "Cannot connect to the Docker daemon" in text or "Is the docker daemon running" in text:
        return "the Docker engine is not reachable: start it (on Debian as root: scripts/install-engine.sh), or set DOCKER_HOST"
    if "'compose' is not a docker command" in text or "unknown command: docker compose" in text:
        return "the Docker Compose v2 plugin is missing: install docker-compose-plugin (the v1 'docker-compose' binary is not supported)"
    if "'buildx' is not a docker command" in text or "unknown command: docker buildx" in text:
        return "the buildx plugin is missing: install docker-buildx-plugin"
    last = text.splitlines()[-1] if text else "no output"
    return f"docker failed: {last}"


@contextmanager
def engine_errors(action: str) -> Iterator[None]:
    """Turn python-on-whales failures into one-line EngineErrors."""
    try:
        yield
    except DockerException as error:
        stderr = docker_stderr(error)
        raise EngineError(f"{action}: {explain_docker_failure(stderr)}", log_tail=stderr.splitlines()[-LOG_TAIL_LINES:]) from None


def docker_stderr(error: DockerException) -> str:
    """What the failed command printed on stderr (python-on-whales keeps it on the exception)."""
    return str(getattr(error, "stderr", "") or error)


def failing_step(lines: Sequence[str]) -> str:
    """The line of a build's output that says why it failed (BuildKit's `ERROR:` / `failed to solve`), else the last."""
    lines = [part for line in lines for part in _error_message(line).splitlines() if part.strip()]
    for line in reversed(lines):
        if "ERROR:" in line or "failed to solve" in line:
            return line.split("ERROR:", 1)[-1].strip()[:300]
    return lines[-1][:300] if lines else "no output"


def _error_message(line: str) -> str:
    """Compose's JSON progress reports a failure as `{"error": true, "message": "..."}`: the message; else the line."""
    if line.startswith('{"error"'):
        try:
            return str(json.loads(line).get("message", line))
        except ValueError:
            return line
    return line
