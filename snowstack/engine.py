"""The one place that talks to Docker: python-on-whales, buildx for builds, compose v2 for compose.

One object per CLI noun: `Engine` (the engine: containers, networks, volumes, Swarm), its `images`
(`ImageCommands` in engine_images.py: build, inspect, import, history, push, remove) and its `project`
(`ComposeCommands`: `docker compose` bound to one project: build, up, down, restart, ps, logs, port, watch).
No module outside engine.py and engine_images.py starts a `docker` process; engine_failures.py turns their
failures into EngineErrors.

Every child process gets its environment from the engine object it was started through (BuildKit on:
`DOCKER_BUILDKIT=1`, `COMPOSE_DOCKER_CLI_BUILD=1`, plus what the caller passed as `env`), never from writes to
this process's `os.environ`, so one project's variables cannot leak into another's commands. Every failure
becomes an EngineError with one actionable line and the log tail.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from python_on_whales import Container, DockerClient, DockerException
from python_on_whales.components.compose.cli_wrapper import ComposeCLI
from python_on_whales.components.compose.models import ComposeConfig
from python_on_whales.utils import run

from .engine_failures import LOG_TAIL_LINES, docker_stderr, engine_errors, explain_docker_failure, failing_step
from .engine_images import ImageCommands
from .errors import EngineError

BUILDKIT_ENV = {"DOCKER_BUILDKIT": "1", "COMPOSE_DOCKER_CLI_BUILD": "1"}
COMPOSE_MIN_BUILDX = (0, 17, 0)  # Compose >= 2.40 refuses to build with an older buildx


def buildkit_exports() -> list[str]:
    """Shell lines that turn BuildKit on for a user's own docker/compose commands."""
    return [f"export {key}={value}" for key, value in BUILDKIT_ENV.items()]


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """The first dotted version in `text` (`v2.40.3-3` -> (2, 40, 3)), or None."""
    if not text:
        return None
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not match:
        return None
    return tuple(int(part) for part in match.groups(default="0"))


def format_version(version: tuple[int, ...] | None) -> str:
    return ".".join(map(str, version)) if version else "-"


@dataclass(frozen=True)
class EngineFacts:
    """What `docker info`/`version` say; all None when no engine answers."""

    reachable: bool
    error: str | None = None
    server_version: tuple[int, ...] | None = None
    api_version: str | None = None
    compose_version: tuple[int, ...] | None = None
    buildx_version: tuple[int, ...] | None = None
    compose_v1_binary: str | None = None
    docker_root_dir: str | None = None
    runtimes: tuple[str, ...] = ()
    cdi_devices: tuple[str, ...] = ()
    storage_driver: str | None = None


@dataclass(frozen=True)
class ExecResult:
    """A command run inside a container: its exit code and combined output."""

    exit_code: int
    output: str


@dataclass(frozen=True)
class ContainerFacts:
    """What `docker inspect` says about a running container's isolation and limits."""

    name: str
    id: str
    service: str | None
    image: str
    user: str
    env: tuple[str, ...]
    labels: Mapping[str, str]
    cap_add: tuple[str, ...]
    cap_drop: tuple[str, ...]
    security_opt: tuple[str, ...]
    read_only: bool
    tmpfs: Mapping[str, str]
    memory_limit: int  # bytes; 0 = none
    memory_swap_limit: int
    pids_limit: int | None
    addresses: Mapping[str, str]  # network name -> the container's IPv4 address on it
    oom_killed: bool


@dataclass(frozen=True)
class SwarmNode:
    """One node of a Swarm, as its manager sees it."""

    id: str
    hostname: str
    role: str  # manager | worker
    state: str  # ready | down | unknown
    availability: str
    labels: Mapping[str, str]
    address: str


@dataclass(frozen=True)
class SwarmTask:
    """One task (replica slot) of a Swarm service: where it runs and in which state."""

    service: str
    node_id: str
    state: str  # new … starting, running, complete, failed, shutdown, rejected
    desired_state: str
    error: str
    container_id: str


def client_call(env: Mapping[str, str]) -> list[str]:
    """How every docker command of one engine object starts: `env K=V… docker`.

    python-on-whales runs its children with this process's `os.environ` and no per-call environment; a prefix
    on its client call is the one way to give each engine object its own variables without writing `os.environ`.
    """
    return ["env", *(f"{key}={value}" for key, value in sorted(env.items())), "docker"]


class Engine:
    """A Docker engine (its images: `images`), optionally bound to one compose project (see `project`)."""

    def __init__(
        self,
        compose_files: Sequence[Path] = (),
        project_name: str | None = None,
        env_files: Sequence[Path] = (),
        project_directory: Path | None = None,
        host: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """`env`: variables every docker/compose command of this object sees on top of the user's environment
        (BuildKit's always; a compose project adds its own, e.g. CA_BUNDLE)."""
        self.env = {**BUILDKIT_ENV, **(env or {})}
        self.compose_files: list[str | Path] = list(compose_files)
        self.host = host  # another engine (DOCKER_HOST form: tcp://HOST:PORT, ssh://…); None: the default one
        self.client = DockerClient(
            host=host,
            compose_files=self.compose_files,
            compose_project_name=project_name,
            compose_env_files=list(env_files),
            compose_project_directory=project_directory,
            client_call=client_call(self.env),
        )
        self.images = ImageCommands(self.client)
        self.project = ComposeCommands(self)

    # --- facts --------------------------------------------------------------------------------------
    def facts(self) -> EngineFacts:
        compose_v1 = shutil.which("docker-compose")
        try:
            info = self.client.system.info()
        except DockerException as error:
            return EngineFacts(
                reachable=False,
                error=explain_docker_failure(docker_stderr(error)),
                compose_v1_binary=compose_v1,
                compose_version=self._plugin_version(["compose", "version", "--short"]),
                buildx_version=self._plugin_version(["buildx", "version"]),
            )
        except FileNotFoundError:
            return EngineFacts(reachable=False, error="the docker CLI is not installed: install Docker Engine >= 24")
        version = self.client.version()
        server = version.server
        return EngineFacts(
            reachable=True,
            server_version=parse_version(getattr(server, "version", None) or info.server_version),
            api_version=getattr(server, "api_version", None),
            compose_version=self._plugin_version(["compose", "version", "--short"]),
            buildx_version=self._plugin_version(["buildx", "version"]),
            compose_v1_binary=compose_v1,
            docker_root_dir=str(info.docker_root_dir) if info.docker_root_dir else None,
            runtimes=tuple(sorted((info.runtimes or {}).keys())),
            cdi_devices=tuple(_cdi_devices(info)),
            storage_driver=info.driver,
        )

    def _plugin_version(self, args: list[str]) -> tuple[int, ...] | None:
        try:
            return parse_version(str(run([*self.client.client_config.docker_cmd, *args])))
        except (DockerException, FileNotFoundError):
            return None

    # --- running containers -------------------------------------------------------------------------
    def container_facts(self, container: str) -> ContainerFacts:
        with engine_errors(f"inspecting {container}"):
            inspected = self.client.container.inspect(container)
        host, config = inspected.host_config, inspected.config
        return ContainerFacts(
            name=inspected.name,
            id=inspected.id,
            service=(config.labels or {}).get("com.docker.compose.service"),
            image=str(config.image),
            user=str(config.user or ""),
            env=tuple(config.env or ()),
            labels=dict(config.labels or {}),
            cap_add=tuple(host.cap_add or ()),
            cap_drop=tuple(host.cap_drop or ()),
            security_opt=tuple(host.security_opt or ()),
            read_only=bool(host.readonly_rootfs),
            tmpfs={str(path): str(options) for path, options in (host.tmpfs or {}).items()},
            memory_limit=int(host.memory or 0),
            memory_swap_limit=int(host.memory_swap or 0),
            pids_limit=host.pids_limit,
            addresses={name: str(net.ip_address) for name, net in (inspected.network_settings.networks or {}).items()},
            oom_killed=bool(inspected.state.oom_killed),
        )

    def network_labels(self, network: str) -> dict[str, str] | None:
        """A network's labels, or None when it does not exist."""
        if not self.client.network.exists(network):
            return None
        with engine_errors(f"inspecting network {network}"):
            return dict(self.client.network.inspect(network).labels or {})

    def remove_network(self, network: str) -> None:
        with engine_errors(f"removing network {network}"):
            self.client.network.remove(network)

    def network_gateway(self, network: str) -> str | None:
        """The host's address on a bridge network (what a container reaches the host through)."""
        with engine_errors(f"inspecting network {network}"):
            config = self.client.network.inspect(network).ipam.config or []
        return next((str(entry["Gateway"]) for entry in config if entry.get("Gateway")), None)

    def memory_usage(self, container_id: str) -> MemoryUsage | None:
        """The container's memory cgroup: current and peak bytes, and how often the kernel's OOM killer ran in it.

        Read from the host's cgroup files (v1 `memory/docker/ID`, v2 `system.slice/docker-ID.scope` or `docker/ID`):
        `docker stats` shows no peak. None where this host's layout is not one of those.
        """
        return read_memory_cgroup(Path("/sys/fs/cgroup"), container_id)

    def reset_memory_peak(self, container_id: str) -> bool:
        """Start a new peak measurement (cgroup v1 only: writing 0 resets it); False where that is not possible."""
        peak = Path("/sys/fs/cgroup/memory/docker") / container_id / "memory.max_usage_in_bytes"
        try:
            peak.write_text("0")
        except OSError:
            return False
        return True

    # --- compose ------------------------------------------------------------------------------------
    @property
    def compose(self) -> ComposeCLI:
        """python-on-whales' own `docker compose` wrapper for this project (its typed models: Container, ComposeConfig)."""
        return self.client.compose

    def compose_exec(self, service: str, command: Sequence[str], user: str | None = None) -> ExecResult:
        return self.project.execute(service, command, user)

    def compose_foreground(self, *args: str) -> int:
        return self.project.foreground(*args)

    def run_compose(self, action: str, call: Callable[[], Any]) -> Any:
        with engine_errors(f"compose {action}"):
            return call()

    def compose_config(self) -> dict[str, Any]:
        return self.project.config_json()

    # --- Swarm (on the engine this object talks to: see `host`) ---------------------------------------
    def swarm_state(self) -> str:
        """`inactive`, `active`, `pending`…: this engine's Swarm membership."""
        with engine_errors("docker info"):
            swarm = self.client.system.info().swarm
        return str(swarm.local_node_state) if swarm else "inactive"

    def swarm_init(self, advertise_address: str) -> None:
        with engine_errors("swarm init"):
            self.client.swarm.init(advertise_address=advertise_address)

    def swarm_join_token(self, role: str = "worker") -> str:
        with engine_errors("swarm join-token"):
            return self.client.swarm.join_token(role)

    def swarm_join(self, manager_address: str, token: str, advertise_address: str | None = None) -> None:
        with engine_errors(f"swarm join {manager_address}"):
            self.client.swarm.join(manager_address, advertise_address=advertise_address, token=token)

    def swarm_nodes(self) -> list[SwarmNode]:
        with engine_errors("node ls"):
            nodes = self.client.node.list()
        return [
            SwarmNode(
                id=str(node.id),
                hostname=str(node.description.hostname),
                role=str(node.spec.role),
                state=str(node.status.state),
                availability=str(node.spec.availability),
                labels=dict(node.spec.labels or {}),
                address=str(node.status.addr or ""),
            )
            for node in nodes
        ]

    def swarm_leave(self) -> None:
        """`docker swarm leave --force`: only ever on an engine in a container (see snowstack/swarm/nodes.py)."""
        with engine_errors("swarm leave"):
            self.client.swarm.leave(force=True)

    def remove_all_but_images(self) -> None:
        """Every container, then unused networks and volumes, of this engine: only for engines in containers."""
        with engine_errors("emptying an engine"):
            containers = self.client.container.list(all=True)
            if containers:
                self.client.container.remove(containers, force=True, volumes=True)
            self.client.network.prune()
            for volume in self.client.volume.list():  # one by one: `prune --all` needs API 1.42
                self.client.volume.remove(volume)

    def label_node(self, node: str, labels: Mapping[str, str]) -> None:
        with engine_errors(f"node update {node}"):
            self.client.node.update(node, labels_add=dict(labels))

    def stack_deploy(self, name: str, stack_file: Path) -> None:
        """`docker stack deploy --prune --resolve-image always`: images by digest from the registry."""
        with engine_errors(f"stack deploy {name}"):
            self.client.stack.deploy(name, [stack_file], prune=True, resolve_image="always")

    def stack_remove(self, name: str) -> None:
        with engine_errors(f"stack rm {name}"):
            self.client.stack.remove(name)

    def stack_tasks(self, name: str) -> list[SwarmTask]:
        """Every task of every service of a stack (the services' `docker service ps`)."""
        for _ in range(4):  # a task removed between `service ps -q` and its inspect: ask again
            try:
                return self._stack_tasks(name)
            except DockerException as error:
                if "No such object" not in docker_stderr(error):
                    raise EngineError(f"stack ps {name}: {explain_docker_failure(docker_stderr(error))}") from None
        raise EngineError(f"stack ps {name}: its tasks kept changing while being listed")

    def _stack_tasks(self, name: str) -> list[SwarmTask]:
        found = []
        for service in self.client.service.list(filters=[("label", f"com.docker.stack.namespace={name}")]):
            for task in self.client.service.ps(service):
                found.append(
                    SwarmTask(
                        service=str(service.spec.name),
                        node_id=str(task.node_id or ""),
                        state=str(task.status.state),
                        desired_state=str(task.desired_state),
                        error=str(task.status.err or ""),
                        container_id=str(getattr(task.status.container_status, "container_id", "") or ""),
                    )
                )
        return found

    def stack_replicas(self, name: str) -> dict[str, int | None]:
        """Service name -> the replicas it asks for (None: a global service)."""
        with engine_errors(f"stack services {name}"):
            services = self.client.service.list(filters=[("label", f"com.docker.stack.namespace={name}")])
        wanted: dict[str, int | None] = {}
        for service in services:
            mode = service.spec.mode or {}
            wanted[str(service.spec.name)] = int(mode["Replicated"].get("Replicas", 1)) if "Replicated" in mode else None
        return wanted

    def stack_leftovers(self, name: str) -> list[str]:
        """Networks and containers of a removed stack that still exist (removal is asynchronous)."""
        label = f"com.docker.stack.namespace={name}"
        for _ in range(4):  # one removed between the list and its inspect: ask again
            try:
                networks = [str(n.name) for n in self.client.network.list(filters=[("label", label)])]
                containers = [str(c.name) for c in self.client.container.list(all=True, filters=[("label", label)])]
                return networks + containers
            except DockerException as error:
                if "not found" not in docker_stderr(error) and "No such" not in docker_stderr(error):
                    raise EngineError(f"stack leftovers {name}: {explain_docker_failure(docker_stderr(error))}") from None
        raise EngineError(f"stack leftovers {name}: its networks and containers kept changing while being listed")

    # --- containers, volumes, networks (the local Swarm nodes and registry) ----------------------------
    def run_detached(
        self,
        image: str,
        name: str,
        *,
        command: Sequence[str] = (),
        privileged: bool = False,
        volumes: Sequence[tuple[str, str]] = (),
        publish: Sequence[tuple[str, int]] = (),
        network: str | None = None,
        envs: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        hostname: str | None = None,
    ) -> str:
        """`docker run -d`; returns the container id. `publish`: (host address or '', container port)."""
        with engine_errors(f"docker run {name}"):
            container = self.client.container.run(
                image,
                list(command),
                name=name,
                detach=True,
                privileged=privileged,
                volumes=list(volumes),
                publish=[(f"{address}:" if address else "", port) for address, port in publish],  # ADDRESS::PORT: any free host port
                networks=[network] if network else [],
                envs=dict(envs or {}),
                labels=dict(labels or {}),
                hostname=hostname,
                pull="never",
            )
        return str(container.id)  # type: ignore[union-attr]

    def host_port(self, container: str, port: int) -> int:
        """The host port a container's `port/tcp` is published on."""
        with engine_errors(f"inspecting {container}"):
            bindings = (self.client.container.inspect(container).network_settings.ports or {}).get(f"{port}/tcp") or []
        for binding in bindings:
            return int(binding["HostPort"] if isinstance(binding, dict) else binding.host_port)
        raise EngineError(f"{container} publishes no port for {port}/tcp")

    def container_running(self, container: str) -> bool:
        return bool(self.client.container.exists(container) and self.client.container.inspect(container).state.running)

    def container_main_pid(self, container: str) -> int:
        with engine_errors(f"inspecting {container}"):
            return int(self.client.container.inspect(container).state.pid or 0)

    def start_container(self, container: str) -> None:
        with engine_errors(f"docker start {container}"):
            self.client.container.start(container)

    def stop_container(self, container: str, timeout_s: int = 10) -> None:
        with engine_errors(f"docker stop {container}"):
            self.client.container.stop(container, time=timeout_s)

    def remove_container(self, container: str) -> None:
        """Force-remove a container with its anonymous volumes; absent is fine."""
        with engine_errors(f"removing container {container}"):
            if self.client.container.exists(container):
                self.client.container.remove(container, force=True, volumes=True)

    def containers_labelled(self, label: str) -> list[str]:
        with engine_errors(f"listing containers {label}"):
            return [str(c.name) for c in self.client.container.list(all=True, filters=[("label", label)])]

    def create_volume(self, name: str, labels: Mapping[str, str] | None = None) -> None:
        with engine_errors(f"creating volume {name}"):
            if not self.client.volume.exists(name):
                self.client.volume.create(name, labels=dict(labels or {}))

    def remove_volume(self, name: str) -> None:
        with engine_errors(f"removing volume {name}"):
            if self.client.volume.exists(name):
                self.client.volume.remove(name)

    def volumes_labelled(self, label: str) -> list[str]:
        with engine_errors(f"listing volumes {label}"):
            return [str(v.name) for v in self.client.volume.list(filters=[("label", label)])]

    def create_network(self, name: str, labels: Mapping[str, str] | None = None) -> None:
        with engine_errors(f"creating network {name}"):
            if not self.client.network.exists(name):
                self.client.network.create(name, labels=dict(labels or {}))

    def networks_labelled(self, label: str) -> list[str]:
        with engine_errors(f"listing networks {label}"):
            return [str(n.name) for n in self.client.network.list(filters=[("label", label)])]

    def container_address(self, container: str, network: str) -> str:
        """A container's IPv4 address on one network."""
        with engine_errors(f"inspecting {container}"):
            networks = self.client.container.inspect(container).network_settings.networks or {}
        if network not in networks:
            raise EngineError(f"{container} is not on network {network}")
        return str(networks[network].ip_address)


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


@dataclass(frozen=True)
class MemoryUsage:
    current: int
    peak: int
    oom_kills: int


def read_memory_cgroup(root: Path, container_id: str) -> MemoryUsage | None:
    """A container's memory cgroup under `root` (cgroup v1 or v2, cgroupfs or systemd driver), or None."""
    v1 = root / "memory" / "docker" / container_id
    if (v1 / "memory.max_usage_in_bytes").is_file():
        return MemoryUsage(
            current=int((v1 / "memory.usage_in_bytes").read_text()),
            peak=int((v1 / "memory.max_usage_in_bytes").read_text()),
            oom_kills=_key_value(v1 / "memory.oom_control").get("oom_kill", 0),
        )
    for v2 in (root / "system.slice" / f"docker-{container_id}.scope", root / "docker" / container_id):
        if (v2 / "memory.peak").is_file():
            return MemoryUsage(
                current=int((v2 / "memory.current").read_text()),
                peak=int((v2 / "memory.peak").read_text()),
                oom_kills=_key_value(v2 / "memory.events").get("oom_kill", 0),
            )
    return None


def _key_value(path: Path) -> dict[str, int]:
    if not path.is_file():
        return {}
    pairs = (line.split() for line in path.read_text().splitlines())
    return {pair[0]: int(pair[1]) for pair in pairs if len(pair) == 2 and pair[1].isdigit()}


def _cdi_devices(info: Any) -> list[str]:
    """NVIDIA CDI spec files in the engine's CDI folders (the nvidia-ctk generated ones)."""
    folders = getattr(info, "cdi_spec_dirs", None) or ["/etc/cdi", "/var/run/cdi"]
    found = []
    for folder in map(Path, folders):
        if folder.is_dir():
            found += [spec.name for spec in folder.iterdir() if "nvidia" in spec.name]
    return found
