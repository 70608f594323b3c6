"""The running compose stack: one project for a profile, bound to the engine with its files, env files and
variables; up / down / ps / logs with a table of service, state, health, URL and time to healthy.

`compose_stack()` is how every command but `up` finds the project: `up` records the profile it chose (GPU or
CPU, official images or stand-ins, the CA bundle), so later commands skip doctor's checks and the registry probe.
Which project and profile: project.py; the files it keeps on disk: project_files.py.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from python_on_whales import Container
from rich.table import Table

from .engine import Engine
from .engine_compose import container_number
from .errors import EngineError, SnowstackError
from .project import ComposeProject, Profile, compose_files, compose_project, compose_variables, project_variables
from .project_files import (
    chosen_workers,
    ensure_env_file,
    read_env_file,
    recorded_profile,
    reserved_ports,
    write_compose_variables,
    write_secret_files,
)
from .stack import Stack

# Compose builds through `buildx bake`, which asks for a filesystem entitlement to read the CA bundle secret
# (outside the project). That file is the only outside path the compose file names, so the check is lifted
# for compose builds the automation runs. By hand: BUILDX_BAKE_ENTITLEMENTS_FS=0 docker compose build.
# BUILDX_GIT_INFO=0 and BUILDX_METADATA_PROVENANCE=disabled: buildx would run git seven times per build and then
# resolve a provenance record for the metadata file compose reads the image from; locally built images carry
# neither (~0.05-0.07 s of every code-change rebuild).
COMPOSE_BUILD_ENV = {"BUILDX_BAKE_ENTITLEMENTS_FS": "0", "BUILDX_GIT_INFO": "0", "BUILDX_METADATA_PROVENANCE": "disabled"}
LOG_LINES_ON_FAILURE = 25
HEALTH_LOG_KEPT = 5  # Docker's health log keeps this many results


def compose_env(ca_bundle: str | None) -> dict[str, str]:
    """The environment compose commands of a project run with (never written into this process's `os.environ`)."""
    return {**COMPOSE_BUILD_ENV, **({"CA_BUNDLE": ca_bundle} if ca_bundle else {})}


def compose_stack(*, offline: bool = False, online: bool = False, dev: bool = False) -> ComposeStack:
    """The compose project for this host's profile: the one `up` recorded, else doctor's (GPU runtime, registry).

    `offline`/`online` override the recorded choice of images; the GPU choice follows the recorded profile.
    """
    from . import doctor
    from .stack_toml import load_stack

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
