"""The compose stack: which files and variables make the profile, `.env` with generated secrets, and
up / down / ps / logs with a table of service, state, health, URL and time to healthy.

`compose_stack()` is how every command but `up` finds the project: `up` records the profile it chose (GPU or
CPU, official images or stand-ins, the CA bundle), so later commands skip doctor's checks and the registry probe.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from python_on_whales import Container
from rich.table import Table

from .engine import Engine
from .engine_compose import container_number
from .errors import EngineError, SnowstackError
from .images import resolve_upstream
from .stack import Stack

GENERATE = "__GENERATE__"
# Which compose project a command works on. Unset: the user's own stack (stack.toml's name). Anything else is an
# isolated project (tests, a second checkout): its own volumes, network, image tag, secrets and no fixed ports,
# so that nothing it does (`down --volumes` included) can touch the user's stack.
PROJECT_VARIABLE = "SNOWSTACK_PROJECT"
PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Compose builds through `buildx bake`, which asks for a filesystem entitlement to read the CA bundle secret
# (outside the project). That file is the only outside path the compose file names, so the check is lifted
# for compose builds the automation runs. By hand: BUILDX_BAKE_ENTITLEMENTS_FS=0 docker compose build.
COMPOSE_BUILD_ENV = {"BUILDX_BAKE_ENTITLEMENTS_FS": "0"}
LOG_LINES_ON_FAILURE = 25
HEALTH_LOG_KEPT = 5  # Docker's health log keeps this many results


@dataclass(frozen=True)
class Profile:
    """How this host runs the stack: GPU or CPU pose backend, official images or offline stand-ins, dev sync."""

    gpu: bool
    offline: bool
    dev: bool = False

    def describe(self) -> str:
        parts = ["GPU (hmr2)" if self.gpu else "CPU (mediapipe)", "offline stand-ins" if self.offline else "official images"]
        return ", ".join(parts + (["dev sync"] if self.dev else []))


def compose_files(stack: Stack, profile: Profile) -> list[Path]:
    """The main compose file plus the profile's overrides, in the order compose merges them."""
    main = stack.compose_file
    files = [main]
    if not profile.gpu:
        files.append(main.with_name("docker-compose.cpu.yml"))
    if profile.offline:
        files.append(main.with_name("docker-compose.offline.yml"))
    if profile.dev:
        files.append(main.with_name("docker-compose.dev.yml"))
    return files


def default_workers(profile: Profile) -> int:
    """How many pose workers `invoke up` starts without --workers: one per core on the CPU profile (each worker
    analyses on one core), one on the GPU profile (every worker loads the model into the one reserved GPU)."""
    import psutil

    return 1 if profile.gpu else max(1, psutil.cpu_count() or 1)


def compose_variables(stack: Stack, profile: Profile) -> dict[str, str]:
    """Variables the compose files read from stack.toml: upstream images (`MONGO_IMAGE`…) and each service's
    container port, health path and base image (Stack.compose_variables)."""
    refs = resolve_upstream(stack, profile.offline)
    images = {
        f"{service.upstream.upper().replace('-', '_')}_IMAGE": refs[service.upstream]
        for service in stack.services.values()
        if service.upstream
    }
    return {**images, **stack.compose_variables(profile.gpu)}


@dataclass(frozen=True)
class ComposeProject:
    """The compose project a command works on: the user's own stack, or an isolated one beside it."""

    name: str
    isolated: bool
    state_dir: Path  # generated files of this project (its compose variables; an isolated one's secrets)


def compose_project(stack: Stack, environ: Mapping[str, str] | None = None) -> ComposeProject:
    """The project named by SNOWSTACK_PROJECT, or the user's own stack when it is unset."""
    name = (os.environ if environ is None else environ).get(PROJECT_VARIABLE, "").strip() or stack.name
    if not PROJECT_NAME.match(name):
        raise SnowstackError(
            f"{PROJECT_VARIABLE}={name!r} is not a compose project name: use lowercase letters, digits, '-' and '_' "
            "(starting with a letter or digit)"
        )
    return ComposeProject(name, isolated=name != stack.name, state_dir=stack.state_dir / "projects" / name)


def suite_project_name(stack: Stack) -> str:
    """The isolated project a checkout's test suite uses: one per checkout, so two clones never share one."""
    digest = hashlib.sha256(str(stack.root.resolve()).encode()).hexdigest()[:8]
    return f"{stack.name}-test-{digest}"


def invoke_command(project: ComposeProject) -> str:
    """How a printed fix line starts, so that it runs as written against the same project."""
    return f"{PROJECT_VARIABLE}={project.name} invoke" if project.isolated else "invoke"


def port_variable(service: str) -> str:
    """The compose variable that sets a service's published host port (`backend-api` -> BACKEND_API_PORT)."""
    return f"{service.upper().replace('-', '_')}_PORT"


def project_variables(stack: Stack, project: ComposeProject, ports: Mapping[str, int] | None = None) -> dict[str, str]:
    """Variables that keep projects apart: image tag, network name and, for an isolated project, its own host ports
    (`ports`, by service; one left out is published on whatever port the engine picks at each start)."""
    if not project.isolated:
        return {"IMAGE_TAG": "local", "STACK_NETWORK": stack.network}
    published = {port_variable(name): str((ports or {}).get(name, "")) for name, service in stack.services.items() if service.port}
    return {"IMAGE_TAG": project.name, "STACK_NETWORK": f"{project.name}-network", **published}


def reserved_ports(project: ComposeProject, services: Sequence[str]) -> dict[str, int]:
    """Host ports of an isolated project, chosen free once and then kept, so a restart does not move a service.

    (Left to the engine, `127.0.0.1::3001` gets a new port at every container start.)
    """
    path = project.state_dir / "ports.json"
    kept: dict[str, int] = json.loads(path.read_text()) if path.is_file() else {}
    chosen = {name: kept[name] for name in services if name in kept}
    for name in services:
        if name not in chosen:
            chosen[name] = free_port(exclude=set(chosen.values()))
    if chosen != kept:
        write_private(path, json.dumps(chosen, indent=2))
    return chosen


def chosen_workers(project: ComposeProject, profile: Profile, workers: int | None) -> int:
    """The pose worker count: `workers` when given (then kept in the project's state folder), else the kept one,
    else the profile's default; so `invoke ps` or `verify` after `up --workers 1` do not scale the workers back."""
    path = project.state_dir / "workers"
    if workers is not None:
        if workers < 1:
            raise SnowstackError(f"--workers {workers}: give at least 1 (the stack needs a pose worker to analyse videos)")
        if not path.is_file() or path.read_text().strip() != str(workers):
            write_private(path, str(workers))
        return workers
    kept = path.read_text().strip() if path.is_file() else ""
    return int(kept) if kept.isdigit() and int(kept) > 0 else default_workers(profile)


def free_port(exclude: set[int]) -> int:
    """A loopback TCP port nothing listens on now (the kernel's choice), not one of `exclude`."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in exclude:
            return port


def render_env_file(example: str, token: Any = None) -> str:
    """`.env.example` with every __GENERATE__ replaced by a fresh URL-safe secret."""
    make = token or (lambda: secrets.token_urlsafe(24))
    return re.sub(GENERATE, lambda _: make(), example)


def ensure_env_file(stack: Stack, project: ComposeProject | None = None) -> tuple[Path, bool]:
    """The project's `.env`, created from .env.example with generated secrets on first use. Returns (path, created).

    The user's stack keeps it in backend/.env; an isolated project in its own state folder, with its own secrets.
    A variable .env.example gained since (a new account's password) is appended with a fresh value; nothing the
    file already holds changes.
    """
    example = stack.compose_file.parent / ".env.example"
    env = project.state_dir / ".env" if project and project.isolated else stack.compose_file.parent / ".env"
    if not example.exists():
        if env.exists():
            return env, False
        raise SnowstackError(f"{example} is missing: it documents every variable the stack needs")
    if env.exists():
        text = env.read_text()
        added = missing_env_lines(example.read_text(), read_env_file(env))
        if added:
            write_private(env, text + ("" if text.endswith("\n") or not text else "\n") + added)
        return env, False
    env.parent.mkdir(parents=True, exist_ok=True)
    write_private(env, render_env_file(example.read_text()))
    return env, True


def missing_env_lines(example: str, existing: Mapping[str, str], token: Any = None) -> str:
    """The .env.example lines (secrets generated) whose variable `existing` lacks, as text to append; '' if none."""
    lines = []
    for line in example.splitlines():
        key, sep, _ = line.partition("=")
        if sep and not line.lstrip().startswith("#") and key.strip() not in existing:
            lines.append(render_env_file(line, token))
    return "".join(f"{line}\n" for line in lines)


# Credentials reach the containers as compose `secrets:` files (mounted at /run/secrets/NAME and named by the
# images' *_FILE variables), never as environment variables: file name -> the .env variable holding its value.
SECRET_FILES = {
    "mongo_root_password": "MONGO_ROOT_PASSWORD",
    "mongo_api_password": "MONGO_API_PASSWORD",
    "mongo_express_db_password": "MONGO_EXPRESS_DB_PASSWORD",
    "mongo_express_password": "MONGO_EXPRESS_PASSWORD",
    "mongodb_pose_password": "MONGO_POSE_PASSWORD",  # the pose workers' account
    "admin_password": "ADMIN_PASSWORD",  # the web app's first admin (the API reads ADMIN_PASSWORD_FILE)
}


def secrets_dir(project: ComposeProject) -> Path:
    return project.state_dir / "secrets"


def write_secret_files(project: ComposeProject, env: Mapping[str, str]) -> Path:
    """The project's secret files from its `.env`, rewritten on every run; returns their folder.

    Outside Swarm, compose bind-mounts a `file:` secret with the host file's owner and mode and ignores `uid`,
    `gid` and `mode` (it warns "not supported"), so a 0600 root-owned file would be unreadable to the services'
    non-root users. The folder is 0700 instead: on the host only its owner can reach the files; inside a container
    only that container's own user sees them.
    """
    missing = sorted(variable for variable in SECRET_FILES.values() if not env.get(variable))
    if missing:
        raise SnowstackError(f"{', '.join(missing)} missing or empty in the project's .env: add them (see backend/.env.example)")
    folder = secrets_dir(project)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    for name, variable in SECRET_FILES.items():
        write_private(folder / name, env[variable], mode=0o444)
    return folder


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Write a file (readable by its owner only by default) atomically: a concurrent reader sees the old or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.touch(mode=0o600)
    partial.write_text(text)
    partial.chmod(mode)
    partial.replace(path)


def write_compose_variables(project: ComposeProject, variables: Mapping[str, str]) -> Path:
    """The computed variables as a second env file for compose (later env files win over `.env`)."""
    path = project.state_dir / "compose.env"
    write_private(path, "".join(f"{key}={value}\n" for key, value in sorted(variables.items())))
    return path


def read_env_file(path: Path) -> dict[str, str]:
    """A `.env` file's variables, parsed by Compose's rules (quotes, `export `, comments); a line without `=` is skipped.

    `${VAR}` stays literal where Compose would substitute it: the values become secret files, not Compose input.
    """
    return {key: value for key, value in dotenv_values(path, interpolate=False).items() if value is not None}


PROFILE_FILE = "profile.json"


def record_profile(project: ComposeProject, profile: Profile, env: Mapping[str, str]) -> Path:
    """What `up` chose for this project (the profile without dev, and the compose environment it ran with)."""
    path = project.state_dir / PROFILE_FILE
    write_private(path, json.dumps({"gpu": profile.gpu, "offline": profile.offline, "env": dict(env)}, indent=2))
    return path


def recorded_profile(project: ComposeProject) -> tuple[Profile, dict[str, str]] | None:
    """The profile and environment the project's last `up` recorded, or None (never up, or an unreadable file)."""
    path = project.state_dir / PROFILE_FILE
    try:
        data = json.loads(path.read_text())
        profile = Profile(gpu=bool(data["gpu"]), offline=bool(data["offline"]))
        env = {str(key): str(value) for key, value in dict(data.get("env", {})).items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return profile, env


def compose_env(ca_bundle: str | None) -> dict[str, str]:
    """The environment compose commands of a project run with (never written into this process's `os.environ`)."""
    return {**COMPOSE_BUILD_ENV, **({"CA_BUNDLE": ca_bundle} if ca_bundle else {})}


def compose_stack(*, offline: bool = False, online: bool = False, dev: bool = False) -> ComposeStack:
    """The compose project for this host's profile: the one `up` recorded, else doctor's (GPU runtime, registry).

    `offline`/`online` override the recorded choice of images; the GPU choice follows the recorded profile.
    """
    from . import doctor
    from .stack import load_stack

    if offline and online:
        raise SnowstackError("--offline and --online contradict each other: pass at most one")
    stack = load_stack()
    recorded = recorded_profile(compose_project(stack))
    if recorded is not None:
        profile, env = recorded
        chosen_offline = offline or (not online and profile.offline)
        return ComposeStack(stack, Profile(gpu=profile.gpu, offline=chosen_offline, dev=dev), env=env)
    facts = doctor.gather(Engine())
    ca = doctor.ca_bundle(facts.env)
    profile = Profile(gpu=doctor.gpu_available(facts), offline=offline or (not online and not facts.registry_reachable), dev=dev)
    return ComposeStack(stack, profile, env=compose_env(ca[1] if ca else None))


@dataclass(frozen=True)
class ServiceState:
    name: str  # the row's name: the service, or `service #N` for a replica of a scaled one
    state: str
    health: str
    url: str | None
    seconds_to_healthy: float | None
    service: str = ""  # the compose service (for its logs); "" = `name`

    @property
    def service_name(self) -> str:
        return self.service or self.name


class ComposeStack:
    """One compose project for a profile: the engine bound to its files, env file, variables and environment."""

    def __init__(
        self,
        stack: Stack,
        profile: Profile,
        project: ComposeProject | None = None,
        workers: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """`workers`: the pose worker replicas (POSE_WORKERS); None keeps the count the last `up` chose.
        `env`: the compose commands' environment (see `compose_env`); None: without a CA bundle."""
        self.stack, self.profile = stack, profile
        self.compose_environment = dict(env) if env is not None else compose_env(None)
        self.project = project or compose_project(stack)
        self.workers = chosen_workers(self.project, profile, workers)
        self.env_file, _ = ensure_env_file(stack, self.project)
        secrets = write_secret_files(self.project, read_env_file(self.env_file))
        ports = reserved_ports(self.project, [n for n, s in stack.services.items() if s.port]) if self.project.isolated else None
        variables = {
            **compose_variables(stack, profile),
            **project_variables(stack, self.project, ports),
            "SECRETS_DIR": str(secrets.resolve()),
            "POSE_WORKERS": str(self.workers),
        }
        self.variables_file = write_compose_variables(self.project, variables)
        self.files = compose_files(stack, profile)
        missing = [str(path) for path in self.files if not path.exists()]
        if missing:
            raise SnowstackError(f"compose file missing: {', '.join(missing)}")
        self.engine = Engine(
            self.files,
            project_name=self.project.name,
            env_files=[self.env_file, self.variables_file],
            project_directory=stack.compose_file.parent,
            env=self.compose_environment,
        )
        self.commands = self.engine.project  # the typed compose subcommands
        self.compose = self.engine.compose  # python-on-whales' own wrapper, for what `commands` does not cover
        self._networks_checked = False

    @property
    def network(self) -> str:
        return project_variables(self.stack, self.project)["STACK_NETWORK"]  # ports play no part in it

    def networks(self) -> dict[str, str]:
        """Every network of this project: compose key -> engine name (web, data and pose; `network` is the web one)."""
        return {key: str(network.name or f"{self.project.name}_{key}") for key, network in (self.commands.config().networks or {}).items()}

    def image(self, service: str) -> str:
        """The image compose builds for a service of this project (each project tags its own)."""
        image = (self.commands.config().services or {})[service].image
        if not image:
            raise SnowstackError(f"{service} has no image in the compose file")
        return str(image)

    @property
    def env(self) -> dict[str, str]:
        return read_env_file(self.env_file)

    def build(self, services: Sequence[str] = ()) -> float:
        return self.commands.build(services)

    def replace_stale_networks(self) -> list[str]:
        """Networks of this project that an older compose file made under another key (compose refuses to reuse
        them: "has incorrect label com.docker.compose.network"): stop the containers (volumes stay), remove them."""
        networks = self.networks()
        stale = stale_networks(networks, {name: self.engine.network_labels(name) for name in networks.values()}, self.project.name)
        if stale:
            self.down(volumes=False)
            for name in stale:
                self.engine.remove_network(name)
        return stale

    def up(self, timeout_s: int, services: Sequence[str] = ()) -> float:
        """`compose up --detach --wait`; on failure the unhealthy services' last log lines are in the error."""
        started = time.perf_counter()
        if not self._networks_checked:  # once per command (~0.4 s)
            self.replace_stale_networks()
            self._networks_checked = True
        try:
            self.commands.up(services, timeout_s=timeout_s)
        except EngineError as error:
            unhealthy = [s for s in self.states() if s.health not in ("healthy", "-") or s.state != "running"]
            tail: list[str] = []
            for service in unhealthy or self.states():
                tail += [f"--- {service.name} ({service.state}, {service.health})", *self.logs(service.service_name, LOG_LINES_ON_FAILURE)]
            names = ", ".join(s.name for s in unhealthy) or "unknown"
            raise EngineError(
                f"the stack did not become healthy within {timeout_s}s: {names} (their logs above; {error})", log_tail=tail
            ) from None
        return time.perf_counter() - started

    def scale(self, service: str, replicas: int, timeout_s: int = 300) -> None:
        """Run exactly `replicas` containers of a scaled service (`compose up --scale`), waiting until they are healthy;
        the next `up` goes back to the project's count (POSE_WORKERS)."""
        self.commands.up([service], timeout_s=timeout_s, scales={service: replicas})

    def recreate(self, service: str) -> float:
        """`compose up --detach --no-deps SERVICE`: a new container from the current image, without waiting for its
        health (the caller observes readiness itself, sooner than Docker's healthcheck reports it)."""
        return self.commands.up([service], wait=False, dependencies=False)

    def down(self, volumes: bool = False) -> None:
        self.commands.down(volumes=volumes)

    def remove_images(self) -> list[str]:
        """Untag the service images this project built (prod and dev targets). Layers another tag still uses, the
        build cache and the upstream images stay: removing an isolated project's images never slows the user's."""
        removed = []
        for profile in (replace(self.profile, dev=False), replace(self.profile, dev=True)):
            project = ComposeStack(self.stack, profile, self.project, env=self.compose_environment)
            for name in self.stack.built_services():
                image = project.image(name)
                if self.engine.images.exists(image):
                    self.engine.images.remove(image)
                    removed.append(image)
        return removed

    def logs(self, service: str, tail: int | None = None) -> list[str]:
        return self.commands.logs(service, tail)

    def containers(self) -> dict[str, Container]:
        return self.commands.containers()

    def running(self, service: str) -> bool:
        return self.commands.running(service)

    def started_at(self, service: str) -> datetime | None:
        return self.commands.started_at(service)

    def published_port(self, service: str) -> int | None:
        """The host port of the service's declared container port (`compose port`); None while not published."""
        port = self.stack.services[service].port
        return None if port is None else self.commands.port(service, port)

    def urls(self) -> dict[str, str]:
        return {name: url for name in self.stack.services if (url := self.url(name))}

    def url(self, name: str) -> str | None:
        """Where a service answers on this host; None while it publishes no port. (One service: one `compose ps`.)"""
        port = self.published_port(name)
        if not port:
            return None
        host = self.env.get("BIND_ADDRESS", "127.0.0.1")
        # Services with an HTTP health probe speak HTTP; the others (MongoDB) are plain TCP.
        scheme = "http" if self.stack.services[name].health else "tcp"
        return f"{scheme}://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"

    def states(self) -> list[ServiceState]:
        """One row per service, and one per replica of a scaled one (`pose-worker #2`); a missing service is absent."""
        by_service: dict[str, list[Container]] = {}
        for container in self.commands.ps():
            labels = container.config.labels or {}
            by_service.setdefault(labels.get("com.docker.compose.service", container.name), []).append(container)
        urls = self.urls()
        result = []
        for name in self.stack.services:
            containers = sorted(by_service.get(name, []), key=container_number)
            if not containers:
                result.append(ServiceState(name, "absent", "-", None, None))
            scaled = len(containers) > 1 or "worker" in self.stack.services[name].roles
            for container in containers:
                number = (container.config.labels or {}).get("com.docker.compose.container-number", "?")
                state = container.state
                health = state.health.status if state.health else "-"
                shown = f"{name} #{number}" if scaled else name
                result.append(ServiceState(shown, str(state.status), str(health), urls.get(name), seconds_to_healthy(state), name))
        return result


def stale_networks(networks: Mapping[str, str], labels: Mapping[str, Mapping[str, str] | None], project: str) -> list[str]:
    """Of a project's networks (compose key -> name), those that exist with this project's label but another key."""
    stale = []
    for key, name in networks.items():
        found = labels.get(name)
        if found and found.get("com.docker.compose.project") == project and found.get("com.docker.compose.network", key) != key:
            stale.append(name)
    return stale


def seconds_to_healthy(state: Any) -> float | None:
    """From container start to the first passing healthcheck, from the engine's own health log.

    The engine keeps only the last HEALTH_LOG_KEPT results: once it is full the first pass is gone, and the
    honest answer is "unknown" (None), not the start of whatever is left.
    """
    health = getattr(state, "health", None)
    started = getattr(state, "started_at", None)
    if health is None or started is None or not health.log or len(health.log) >= HEALTH_LOG_KEPT:
        return None
    passing = [entry.end for entry in health.log if entry.exit_code == 0 and entry.end]
    if not passing:
        return None
    return max(0.0, (min(passing) - started).total_seconds()) if isinstance(started, datetime) else None


def states_table(states: Sequence[ServiceState], title: str, total: float | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("service", "state", "health", "url", "to healthy"):
        table.add_column(column, justify="right" if column == "to healthy" else "left")
    for s in states:
        colour = "green" if s.health == "healthy" else ("yellow" if s.health in ("starting", "-") else "red")
        to_healthy = f"{s.seconds_to_healthy:.1f}s" if s.seconds_to_healthy is not None else ""
        table.add_row(s.name, s.state, f"[{colour}]{s.health}[/]", s.url or "", to_healthy)
    if total is not None:
        table.caption = f"total {total:.1f}s"
    return table
