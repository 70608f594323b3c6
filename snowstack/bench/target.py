"""What the bench measures: a stack description and the compose project running it (all Docker calls go through
engine_compose.ComposeCommands), and polling a URL from the host until it answers as expected."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..engine_compose import ComposeCommands
from ..errors import EngineError
from ..probe import poll as poll  # the shared HTTP poll (measure and tests import it from here)
from ..stack import Service, Stack
from .buildkit import BuildStep, parse_rawjson

# The one-stage Dockerfile a service's context may hold beside its real one: the baseline row builds it with the
# same edit in the same run, so the staged build's gain is a ratio that the machine's load does not move.
ONE_STAGE_DOCKERFILE = "Dockerfile.onestage"


@dataclass
class BenchTarget:
    """A compose project (see `compose`) and the stack description of its services."""

    stack: Stack
    compose: ComposeCommands
    progress: Callable[[str], None] = field(default=lambda text: None)

    def running(self, service: str) -> bool:
        return self.compose.running(service)

    def url(self, service: str) -> str | None:
        """http://127.0.0.1:<published port> of the service's declared port (`compose port`), or None."""
        port = self.stack.services[service].port
        published = self.compose.port(service, port) if port else None
        return f"http://127.0.0.1:{published}" if published else None

    def build(self, services: Sequence[str]) -> tuple[float, list[BuildStep]]:
        """`compose build` with BuildKit's JSON progress: wall seconds and the parsed steps."""
        build = self.compose.build_progress(services)
        return build.seconds, parse_rawjson(build.lines)

    def recreate_until_healthy(self, service: Service, timeout: float) -> float:
        """A new container from the new image, until it answers its health path from this host (polled every 20 ms).

        Docker's own healthcheck runs in the container at `start_interval` at best, and `compose up --wait` polls
        that status: answering is the readiness, observed without either delay. A service without a health path
        or a published port waits for Docker's healthcheck instead (`up --wait`).
        """
        started = time.perf_counter()
        if service.health is None:
            self.compose.up([service.name], timeout_s=int(timeout), dependencies=False)
            return time.perf_counter() - started
        self.compose.up([service.name], wait=False, dependencies=False)
        url = self.url(service.name)
        if url is None:
            self.compose.up([service.name], timeout_s=int(timeout), dependencies=False)
            return time.perf_counter() - started
        poll(url + service.health, lambda r: r.status_code == 200, timeout)
        return time.perf_counter() - started

    def one_stage_dockerfile(self, service: Service) -> Path | None:
        path = service.context / ONE_STAGE_DOCKERFILE if service.context else None
        return path if path is not None and path.is_file() else None

    def build_one_stage(self, service: Service, dockerfile: Path, tag: str) -> float:
        """The service's one-stage Dockerfile with the compose build's arguments and CA secret; wall seconds."""
        config = self.compose.config_json()
        build = config["services"][service.name].get("build") or {}
        secrets = [
            f"id={name},src={secret['file']}"
            for name, secret in (config.get("secrets") or {}).items()
            if name in {entry.get("source") for entry in build.get("secrets") or []} and secret.get("file")
        ]
        if service.context is None:
            raise EngineError(f"{service.name} has no build context")
        images = self.compose.engine.images
        return images.build(service.context, tag, build_args=build.get("args") or {}, secrets=secrets, file=dockerfile).seconds
