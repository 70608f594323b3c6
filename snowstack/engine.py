"""The one place that talks to Docker: python-on-whales, buildx for builds, compose v2 for compose.

One object per CLI noun: `Engine` (the engine: containers, networks, volumes), its `images` (`ImageCommands` in
engine_images.py: build, inspect, import, history, push, remove), its `project` (`ComposeCommands` in
engine_compose.py: `docker compose` bound to one project: build, up, down, restart, ps, logs, port, watch) and its
`swarm` (`SwarmCommands` in engine_swarm.py: swarm init/join/leave, nodes, stack deploy/rm/ps).
No module outside engine*.py starts a `docker` process; engine_failures.py turns their failures into EngineErrors.

Every child process gets its environment from the engine object it was started through (BuildKit on:
`DOCKER_BUILDKIT=1`, `COMPOSE_DOCKER_CLI_BUILD=1`, plus what the caller passed as `env`), never from writes to
this process's `os.environ`, so one project's variables cannot leak into another's commands. Every failure
becomes an EngineError with one actionable line and the log tail.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_on_whales import DockerClient, DockerException
from python_on_whales.components.compose.cli_wrapper import ComposeCLI
from python_on_whales.utils import run

from .engine_compose import ComposeCommands
from .engine_failures import docker_stderr, engine_errors, explain_docker_failure
from .engine_images import ImageCommands
from .engine_swarm import SwarmCommands
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


def client_call(env: Mapping[str, str]) -> list[str]:
    """How every docker command of one engine object starts: `env K=V… docker`.

    python-on-whales runs its children with this process's `os.environ` and no per-call environment; a prefix
    on its client call is the one way to give each engine object its own variables without writing `os.environ`.
    """
    return ["env", *(f"{key}={value}" for key, value in sorted(env.items())), "docker"]


class Engine:
    """A Docker engine (its images: `images`; its Swarm: `swarm`), optionally bound to one compose project (see `project`)."""

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
        self.swarm = SwarmCommands(self.client)

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

    # --- compose ------------------------------------------------------------------------------------
    @property
    def compose(self) -> ComposeCLI:
        """python-on-whales' own `docker compose` wrapper for this project (its typed models: Container, ComposeConfig)."""
        return self.client.compose

    def run_compose(self, action: str, call: Callable[[], Any]) -> Any:
        with engine_errors(f"compose {action}"):
            return call()

    # --- containers, volumes, networks (the local Swarm nodes and registry) ----------------------------
    def remove_all_but_images(self) -> None:
        """Every container, then unused networks and volumes, of this engine: only for engines in containers."""
        with engine_errors("emptying an engine"):
            containers = self.client.container.list(all=True)
            if containers:
                self.client.container.remove(containers, force=True, volumes=True)
            self.client.network.prune()
            for volume in self.client.volume.list():  # one by one: `prune --all` needs API 1.42
                self.client.volume.remove(volume)

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


def _cdi_devices(info: Any) -> list[str]:
    """NVIDIA CDI spec files in the engine's CDI folders (the nvidia-ctk generated ones)."""
    folders = getattr(info, "cdi_spec_dirs", None) or ["/etc/cdi", "/var/run/cdi"]
    found = []
    for folder in map(Path, folders):
        if folder.is_dir():
            found += [spec.name for spec in folder.iterdir() if "nvidia" in spec.name]
    return found
