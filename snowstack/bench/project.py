"""The compose project being benched, and polling a URL until it answers as expected."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from ..engine import Engine, engine_errors
from ..errors import EngineError, SnowstackError
from ..stack import Stack
from .buildkit import BuildStep, parse_rawjson


@dataclass
class BenchProject:
    """A compose project (engine bound to its files) and the stack description of its services."""

    stack: Stack
    engine: Engine
    progress: Callable[[str], None] = field(default=lambda text: None)

    @property
    def compose_command(self) -> list[str]:
        return [str(part) for part in self.engine.client.client_config.docker_compose_cmd]

    def containers(self) -> dict[str, Any]:
        with engine_errors("compose ps"):
            found = self.engine.compose.ps(all=True)
        return {c.config.labels.get("com.docker.compose.service", c.name): c for c in found}

    def running(self, service: str) -> bool:
        container = self.containers().get(service)
        return container is not None and str(container.state.status) == "running"

    def url(self, service: str) -> str | None:
        """http://127.0.0.1:<published port> of the service's declared port, or None when not published."""
        container = self.containers().get(service)
        if container is None:
            return None
        port = self.stack.services[service].port
        published = container.network_settings.ports or {}
        # The declared port is the container's (the stack's compose files publish it as is); otherwise the
        # service's one published port.
        candidates = published.get(f"{port}/tcp") or [binding for bindings in published.values() for binding in bindings or []]
        for binding in candidates:
            host_port = binding["HostPort"] if isinstance(binding, dict) else binding.host_port
            return f"http://127.0.0.1:{host_port}"
        return None

    def build(self, services: Sequence[str]) -> tuple[float, list[BuildStep]]:
        """`compose build` with BuildKit's JSON progress: wall seconds and the parsed steps."""
        command = [*self.compose_command, "--progress", "json", "build", *services]
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
        seconds = time.perf_counter() - started
        lines = (result.stdout + "\n" + result.stderr).splitlines()
        steps = parse_rawjson(lines)
        if result.returncode != 0:
            failing = [f"{step.name}: {step.error}" for step in steps if step.error]
            reason = failing[0] if failing else (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise EngineError(f"compose build {' '.join(services)} failed: {reason[:300]}", log_tail=result.stderr.splitlines()[-30:])
        return seconds, steps

    def up_wait(self, service: str, timeout: int) -> float:
        """`compose up -d --no-deps --wait <service>`: recreate it and wait for its healthcheck."""
        started = time.perf_counter()
        self.engine.run_compose(
            f"up {service}",
            lambda: self.engine.compose.up([service], detach=True, wait=True, wait_timeout=timeout, dependencies=False, quiet=True),
        )
        return time.perf_counter() - started

    def restart(self, service: str) -> None:
        self.engine.run_compose(f"restart {service}", lambda: self.engine.compose.restart([service]))

    def started_at(self, service: str) -> datetime | None:
        container = self.containers().get(service)
        if container is None:
            return None
        started = container.state.started_at
        return started if isinstance(started, datetime) else None


def poll(url: str, accept: Callable[[requests.Response], bool], timeout: float, interval: float = 0.02) -> float:
    """Seconds until a GET of `url` is accepted; raises SnowstackError after `timeout`."""
    started = time.perf_counter()
    last = "no answer"
    with requests.Session() as session:
        while time.perf_counter() - started < timeout:
            try:
                response = session.get(url, timeout=2)
                if accept(response):
                    return time.perf_counter() - started
                last = f"HTTP {response.status_code}"
            except requests.RequestException as error:
                last = type(error).__name__
            time.sleep(interval)
    raise SnowstackError(f"{url} did not answer as expected within {timeout:.0f}s (last: {last})")
