"""The one place that talks to Docker: python-on-whales, buildx for builds, compose v2 for compose.

Every build this module runs has BuildKit on (`DOCKER_BUILDKIT=1`, `COMPOSE_DOCKER_CLI_BUILD=1` in the child
environment); every failure becomes an EngineError with one actionable line and the log tail.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_on_whales import DockerClient, DockerException

from .errors import EngineError

BUILDKIT_ENV = {"DOCKER_BUILDKIT": "1", "COMPOSE_DOCKER_CLI_BUILD": "1"}
COMPOSE_MIN_BUILDX = (0, 17, 0)  # Compose >= 2.40 refuses to build with an older buildx
LOG_TAIL_LINES = 30


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


@dataclass(frozen=True)
class BuildResult:
    image: str
    seconds: float
    log: list[str]


class Engine:
    """A Docker engine, optionally bound to one compose project."""

    def __init__(
        self,
        compose_files: Sequence[Path] = (),
        project_name: str | None = None,
        env_files: Sequence[Path] = (),
        project_directory: Path | None = None,
        host: str | None = None,
    ) -> None:
        os.environ.update(BUILDKIT_ENV)  # python-on-whales passes os.environ to every child process
        self.compose_files: list[str | Path] = list(compose_files)
        self.host = host  # another engine (DOCKER_HOST form: tcp://HOST:PORT, ssh://…); None: the default one
        self.client = DockerClient(
            host=host,
            compose_files=self.compose_files,
            compose_project_name=project_name,
            compose_env_files=list(env_files),
            compose_project_directory=project_directory,
        )

    # --- facts --------------------------------------------------------------------------------------
    def facts(self) -> EngineFacts:
        compose_v1 = shutil.which("docker-compose")
        try:
            info = self.client.system.info()
        except DockerException as error:
            return EngineFacts(
                reachable=False,
                error=explain_docker_failure(_stderr(error)),
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
        from python_on_whales.utils import run

        try:
            return parse_version(str(run([*self.client.client_config.docker_cmd, *args])))
        except (DockerException, FileNotFoundError):
            return None

    # --- images -------------------------------------------------------------------------------------
    def image_labels(self, image: str) -> dict[str, str] | None:
        """The labels of a local image, or None when it does not exist."""
        try:
            inspected = self.client.image.inspect(image)
        except DockerException:
            return None
        return dict(inspected.config.labels or {})

    def image_size(self, image: str) -> int | None:
        try:
            return int(self.client.image.inspect(image).size or 0)
        except DockerException:
            return None

    def image_exists(self, image: str) -> bool:
        return bool(self.client.image.exists(image))

    def remove_image(self, image: str) -> None:
        with engine_errors(f"removing image {image}"):
            if self.client.image.exists(image):
                self.client.image.remove(image, force=True)

    def build(
        self,
        context: Path,
        tag: str,
        *,
        build_args: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        no_cache: bool = False,
        target: str | None = None,
        file: Path | None = None,
        on_line: Callable[[str], None] | None = None,
    ) -> BuildResult:
        """`docker buildx build --load`: streams plain progress lines to `on_line`, keeps the tail for errors."""
        tail: deque[str] = deque(maxlen=400)
        started = time.perf_counter()
        try:
            stream: Iterator[str] = self.client.buildx.build(
                context,
                tags=[tag],
                build_args=dict(build_args or {}),
                labels=dict(labels or {}),
                secrets=list(secrets),
                cache=not no_cache,
                target=target,
                file=file,
                load=True,
                progress="plain",
                provenance=False,
                stream_logs=True,
            )  # type: ignore[assignment]
            for raw in stream:
                line = raw.rstrip("\n")
                tail.append(line)
                if on_line:
                    on_line(line)
        except DockerException as error:
            lines = [*tail, *_stderr(error).splitlines()]
            raise EngineError(
                f"building {tag} from {context} failed: {_failing_step(lines)}",
                log_tail=lines[-LOG_TAIL_LINES:],
            ) from None
        return BuildResult(image=tag, seconds=time.perf_counter() - started, log=list(tail))

    def image_id(self, image: str) -> str | None:
        try:
            return str(self.client.image.inspect(image).id)
        except DockerException:
            return None

    def import_tarball(self, tar_stream_command: Sequence[str], tag: str, changes: Sequence[str] = ()) -> None:
        """`<command> | docker import - TAG`: turns a root filesystem into an image."""
        import subprocess

        producer = subprocess.Popen(list(tar_stream_command), stdout=subprocess.PIPE)
        change_args = [arg for change in changes for arg in ("--change", change)]
        importer = subprocess.run(
            [*self.client.client_config.docker_cmd, "import", *change_args, "-", tag],
            stdin=producer.stdout,
            capture_output=True,
            text=True,
        )
        if producer.stdout:
            producer.stdout.close()
        if producer.wait() != 0 or importer.returncode != 0:
            raise EngineError(f"docker import of {tag} failed: {importer.stderr.strip() or 'tar failed'}")

    def image_history(self, image: str) -> list[str]:
        """The command that made each layer of an image (`docker image history --no-trunc`), newest first."""
        from python_on_whales.utils import run

        with engine_errors(f"image history {image}"):
            text = str(run([*self.client.client_config.docker_cmd, "image", "history", "--no-trunc", "--format", "{{.CreatedBy}}", image]))
        return text.splitlines()

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
    def compose(self) -> Any:
        return self.client.compose

    def compose_exec(self, service: str, command: Sequence[str], user: str | None = None) -> ExecResult:
        """`docker compose exec -T SERVICE COMMAND...`: the exit code and output, whether it succeeded or not."""
        try:
            output = self.client.compose.execute(service, list(command), tty=False, user=user)
        except DockerException as error:
            if error.return_code in (125, 126, 127) and "No such container" in _stderr(error):
                raise EngineError(f"compose exec {service}: the service has no running container") from None
            return ExecResult(error.return_code, f"{error.stdout or ''}{error.stderr or ''}")
        return ExecResult(0, str(output or ""))

    def compose_foreground(self, *args: str) -> int:
        """Run a long-lived compose command (e.g. `watch`) attached to this terminal; returns its exit code."""
        import subprocess

        return subprocess.call([*self.client.client_config.docker_compose_cmd, *args])

    def run_compose(self, action: str, call: Callable[[], Any]) -> Any:
        with engine_errors(f"compose {action}"):
            return call()

    def compose_config(self) -> dict[str, Any]:
        """The merged, interpolated project (`docker compose config --format json`)."""
        with engine_errors("compose config"):
            return dict(self.client.compose.config(return_json=True))

    # --- registry -----------------------------------------------------------------------------------
    def push(self, image: str, as_name: str) -> None:
        """Tag a local image as `as_name` (HOST:PORT/...) and push it there; the extra tag is removed again."""
        with engine_errors(f"pushing {image} as {as_name}"):
            self.client.image.tag(image, as_name)
            try:
                self.client.image.push(as_name, quiet=True)
            finally:
                self.client.image.remove(as_name, prune=False)

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
                if "No such object" not in _stderr(error):
                    raise EngineError(f"stack ps {name}: {explain_docker_failure(_stderr(error))}") from None
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
                if "not found" not in _stderr(error) and "No such" not in _stderr(error):
                    raise EngineError(f"stack leftovers {name}: {explain_docker_failure(_stderr(error))}") from None
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


@contextmanager
def engine_errors(action: str) -> Iterator[None]:
    """Turn python-on-whales failures into one-line EngineErrors."""
    try:
        yield
    except DockerException as error:
        stderr = _stderr(error)
        raise EngineError(f"{action}: {explain_docker_failure(stderr)}", log_tail=stderr.splitlines()[-LOG_TAIL_LINES:]) from None


def _stderr(error: DockerException) -> str:
    return str(getattr(error, "stderr", "") or error)


def _failing_step(lines: Sequence[str]) -> str:
    for line in reversed(lines):
        if "ERROR:" in line or "failed to solve" in line:
            return line.split("ERROR:", 1)[-1].strip()[:300]
    return lines[-1][:300] if lines else "no output"


def _cdi_devices(info: Any) -> list[str]:
    """NVIDIA CDI spec files in the engine's CDI folders (the nvidia-ctk generated ones)."""
    folders = getattr(info, "cdi_spec_dirs", None) or ["/etc/cdi", "/var/run/cdi"]
    found = []
    for folder in map(Path, folders):
        if folder.is_dir():
            found += [spec.name for spec in folder.iterdir() if "nvidia" in spec.name]
    return found
