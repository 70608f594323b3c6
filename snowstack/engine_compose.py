"""The engine's `compose` noun: `docker compose` bound to one project (build, up, down, restart, ps, logs, port, watch).

Part of the one Docker boundary (see engine.py): every command runs through the `DockerClient` of the `Engine`
object that owns this project (`engine.project`), so it carries that object's compose files, env files, project
name and environment, never `os.environ` writes. Every failure becomes an EngineError naming the subcommand.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from python_on_whales import Container, DockerException
from python_on_whales.components.compose.cli_wrapper import ComposeCLI
from python_on_whales.components.compose.models import ComposeConfig
from python_on_whales.utils import run

from .engine_failures import LOG_TAIL_LINES, docker_stderr, engine_errors, explain_docker_failure, failing_step
from .errors import EngineError

if TYPE_CHECKING:
    from .engine import Engine


@dataclass(frozen=True)
class ExecResult:
    """A command run inside a container: its exit code and combined output."""

    exit_code: int
    output: str


@dataclass(frozen=True)
class ComposeBuild:
    """A `compose build` with BuildKit's JSON progress: wall seconds and every line it printed (bench.buildkit parses them)."""

    seconds: float
    lines: list[str]


class ComposeCommands:
    """`docker compose` for one engine object's project (its files, env files, name and environment).

    One method per subcommand the automation runs; each failure is an EngineError naming the subcommand.
    Results are python-on-whales' own models (`Container`, `ComposeConfig`).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def project_name(self) -> str:
        return str(self._engine.client.client_config.compose_project_name or "default")

    @property
    def engine(self) -> Engine:
        """The engine object this project runs on (for the builds and images compose does not make)."""
        return self._engine

    @property
    def cli(self) -> ComposeCLI:
        return self._engine.client.compose

    @property
    def command(self) -> list[str]:
        """The command line every compose call starts with (environment prefix, files, env files, project name)."""
        return [str(part) for part in self._engine.client.client_config.docker_compose_cmd]

    def config(self) -> ComposeConfig:
        with engine_errors("compose config"):
            return self.cli.config()

    def config_json(self, interpolate: bool = True) -> dict[str, Any]:
        """The merged project (`docker compose config --format json`); `interpolate=False` keeps `${VAR}` as written."""
        with engine_errors("compose config"):
            if interpolate:
                return dict(self.cli.config(return_json=True))
            return dict(json.loads(str(run([*self.command, "config", "--no-interpolate", "--format", "json"]))))

    def build(self, services: Sequence[str] = ()) -> float:
        """`compose build --quiet [SERVICE…]`; returns wall seconds."""
        started = time.perf_counter()
        with engine_errors("compose build"):
            self.cli.build(list(services) or None, quiet=True)
        return time.perf_counter() - started

    def build_progress(self, services: Sequence[str]) -> ComposeBuild:
        """`compose --progress json build SERVICE…`: BuildKit's machine-readable progress, one JSON object a line.

        (python-on-whales places `--progress` after `build`, where Compose 2.40 no longer reads it as JSON.)
        """
        started = time.perf_counter()
        result = subprocess.run([*self.command, "--progress", "json", "build", *services], capture_output=True, text=True)
        seconds = time.perf_counter() - started
        lines = (result.stdout + "\n" + result.stderr).splitlines()
        if result.returncode != 0:
            errors = result.stderr.splitlines()
            reason = failing_step(errors or lines)
            raise EngineError(f"compose build {' '.join(services)} failed: {reason}", log_tail=errors[-LOG_TAIL_LINES:])
        return ComposeBuild(seconds, lines)

    def up(
        self,
        services: Sequence[str] = (),
        *,
        wait: bool = True,
        timeout_s: int = 300,
        dependencies: bool = True,
        scales: Mapping[str, int] | None = None,
    ) -> float:
        """`compose up --detach [--wait] [--no-deps] [--scale S=N] [SERVICE…]`; returns wall seconds."""
        started = time.perf_counter()
        with engine_errors(f"compose up {' '.join(services)}".rstrip()):
            self.cli.up(
                list(services) or None,
                detach=True,
                wait=wait,
                wait_timeout=timeout_s if wait else None,
                dependencies=dependencies,
                scales=dict(scales or {}),
                quiet=True,
            )
        return time.perf_counter() - started

    def down(self, *, volumes: bool = False) -> None:
        with engine_errors("compose down"):
            self.cli.down(volumes=volumes, remove_orphans=True, quiet=True)

    def restart(self, services: Sequence[str]) -> None:
        with engine_errors(f"compose restart {' '.join(services)}"):
            self.cli.restart(list(services))

    def ps(self) -> list[Container]:
        """Every container of the project, running or not (`compose ps --all`)."""
        with engine_errors("compose ps"):
            return self.cli.ps(all=True)

    def containers(self) -> dict[str, Container]:
        """Service -> its first container (the lowest container number), running or not."""
        found: dict[str, Container] = {}
        for container in sorted(self.ps(), key=container_number):
            found.setdefault((container.config.labels or {}).get("com.docker.compose.service", container.name), container)
        return found

    def running(self, service: str) -> bool:
        container = self.containers().get(service)
        return container is not None and str(container.state.status) == "running"

    def started_at(self, service: str) -> datetime | None:
        """When the service's container last started (the engine's clock), or None."""
        container = self.containers().get(service)
        started = container.state.started_at if container is not None else None
        return started if isinstance(started, datetime) else None

    def logs(self, service: str, tail: int | None = None) -> list[str]:
        with engine_errors(f"compose logs {service}"):
            text = self.cli.logs([service], tail=str(tail) if tail else None, timestamps=False)
        return str(text).splitlines()

    def port(self, service: str, private_port: int) -> int | None:
        """`compose port SERVICE PORT`: the host port it is published on; None while it is not (or not running)."""
        try:
            _, port = self.cli.port(service, private_port)
        except DockerException as error:
            if "Cannot connect to the Docker daemon" in docker_stderr(error) or "permission denied" in docker_stderr(error):
                raise EngineError(f"compose port {service}: {explain_docker_failure(docker_stderr(error))}") from None
            return None  # no container, or the port is not published
        return int(port) if port else None

    def execute(self, service: str, command: Sequence[str], user: str | None = None) -> ExecResult:
        """`docker compose exec -T SERVICE COMMAND...`: the exit code and output, whether it succeeded or not."""
        try:
            output = self.cli.execute(service, list(command), tty=False, user=user)
        except DockerException as error:
            if error.return_code in (125, 126, 127) and "No such container" in docker_stderr(error):
                raise EngineError(f"compose exec {service}: the service has no running container") from None
            return ExecResult(error.return_code, f"{error.stdout or ''}{error.stderr or ''}")
        return ExecResult(0, str(output or ""))

    def foreground(self, *args: str) -> int:
        """Run a long-lived compose command (e.g. `watch`) attached to this terminal; returns its exit code."""
        return subprocess.call([*self.command, *args])

    @contextmanager
    def watch(self, services: Sequence[str], timeout_s: float) -> Iterator[subprocess.Popen[str]]:
        """`compose watch --no-up SERVICE…` in the background until the block ends; waits until it watches."""
        process = subprocess.Popen(
            [*self.command, "watch", "--no-up", *services], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        ready = threading.Event()
        output: list[str] = []

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                output.append(line.rstrip())
                if "watch enabled" in line.lower():
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        try:
            if not ready.wait(timeout_s) or process.poll() is not None:
                raise EngineError(f"compose watch {' '.join(services)} did not start: {(output or ['no output'])[-1]}")
            time.sleep(0.2)  # the file watcher is armed just after the message
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def container_number(container: Container) -> int:
    """A compose container's replica number (`pose-worker #2`); 0 for a container compose did not number."""
    return int((container.config.labels or {}).get("com.docker.compose.container-number", 0))
