"""The model of stack.toml: base images, upstream images, services and performance targets, and what follows
from them alone (build order, roles, the variables the compose files read). Reading the file: stack_toml.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SnowstackError, require_known


@dataclass(frozen=True)
class UpstreamImage:
    """A registry image we start from, and the local stand-in used where no registry is reachable."""

    name: str
    official: str
    offline: str | None = None
    context: Path | None = None
    parent: str | None = None  # the stand-in this stand-in builds on

    def reference(self, offline: bool) -> str:
        if offline:
            if self.offline is None:
                raise ValueError(f"upstream image {self.name!r} has no offline stand-in")
            return self.offline
        return self.official


@dataclass(frozen=True)
class BaseImage:
    """One of our base images: built by bootstrap, parent (if any) first."""

    name: str
    image: str
    context: Path
    parent: str | None = None
    gpu: bool = False
    upstream_args: Mapping[str, str] = field(default_factory=dict)  # build ARG -> upstream name


# What a service is for, so that code asks for "the workers" or "the API" instead of testing names:
#   gpu       its compose entry reserves the GPU in the GPU profile (lint checks that exactly these do)
#   worker    the pose workers: no port, scaled by POSE_WORKERS (`invoke up --workers N`); verify's workers check and
#             `invoke bench-analysis` find them by this role
#   pose      the pose HTTP service: verify's inference check, bench-rebuild's pose_ready row (its readiness)
#   api       the API: verify's upload-to-metrics check, `invoke user` and bench-analysis talk to it
#   web       the web app: verify's page + proxy check, the sign-in line `invoke up` prints
#   database  MongoDB: started first by `invoke up` (the services' accounts), verify's accounts check
#   database-ui  mongo-express: verify's basic-auth check
# Each role but gpu and worker is held by at most one service: code asks for "the" service with it.
ROLES = ("gpu", "worker", "pose", "api", "web", "database", "database-ui")
SINGLE_ROLES = ("pose", "api", "web", "database", "database-ui")


@dataclass(frozen=True)
class Service:
    """A compose service: where it listens and how to tell it is healthy."""

    name: str
    port: int | None  # None: it listens on nothing (a worker pulls its work)
    health: str | None = None
    base: str | None = None
    gpu_base: str | None = None
    context: Path | None = None
    upstream: str | None = None
    bench_source: Path | None = None  # a source file `invoke bench-rebuild` edits (and restores) for a code change
    bench_probe: str | None = None  # an HTTP path whose body shows that edit once it is served (dev sync)
    bench_dependency: Path | None = None  # the requirements file the bench adds a pinned package to
    talks_to: tuple[str, ...] = ()  # the services it opens connections to: compose gives each pair a network, no more
    roles: tuple[str, ...] = ()  # see ROLES
    image_of: str | None = None  # runs the image another (built) service of the stack builds, with its own command

    @property
    def built(self) -> bool:
        return self.context is not None


@dataclass(frozen=True)
class Target:
    """A performance target in seconds: the seed's requirement and our stricter goal."""

    name: str
    seed: float | None = None
    goal: float | None = None


@dataclass(frozen=True)
class Stack:
    root: Path
    name: str
    compose_file: Path
    network: str
    state_dir: Path
    base_images: Mapping[str, BaseImage]
    upstream: Mapping[str, UpstreamImage]
    services: Mapping[str, Service]
    targets: Mapping[str, Target]
    offline_root_image: str
    offline_suite: str

    def base_images_in_build_order(self, names: Iterable[str] | None = None) -> list[BaseImage]:
        """Base images parent-first; with `names`, only those and their ancestors."""
        wanted = set(self.base_images) if names is None else _with_ancestors(self.base_images, names)
        return [self.base_images[n] for n in _topological_order(self.base_images) if n in wanted]

    def stand_ins_in_build_order(self, names: Iterable[str]) -> list[UpstreamImage]:
        """The offline stand-ins for these upstream names and the stand-ins they build on, parents first."""
        order: list[UpstreamImage] = []

        def visit(name: str) -> None:
            image = self.upstream[name]
            if image.parent is not None:
                visit(image.parent)
            if image.offline is not None and image not in order:
                order.append(image)

        for name in names:
            visit(name)
        return order

    def service(self, name: str) -> Service:
        require_known("service", [name], self.services, "the stack")
        return self.services[name]

    def built_services(self) -> list[str]:
        """The services whose images we build (the others run an upstream image or another service's image)."""
        return [name for name, service in self.services.items() if service.built]

    def with_role(self, role: str) -> list[str]:
        """The services that have `role` (see ROLES), in the description's order."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
        return [name for name, service in self.services.items() if role in service.roles]

    def service_with_role(self, role: str) -> str:
        """The one service that has a single-holder role (`api`, `pose`…); one line naming stack.toml if none does."""
        names = self.with_role(role)
        if not names:
            raise SnowstackError(f"no service has the role {role!r}: add it to one service's `roles` in stack.toml")
        return names[0]

    def compose_variables(self, gpu: bool) -> dict[str, str]:
        """What the compose files read from this description instead of writing it again, per service (prefix
        `POSE_SERVICE_`…): `CONTAINER_PORT` (where it listens; the servers read it as PORT), `HEALTH` (its probe
        path) and `BASE_IMAGE` (the build's BASE_IMAGE: `gpu_base` on the GPU profile where it has one, else `base`)."""
        variables: dict[str, str] = {}
        for name, service in self.services.items():
            prefix = variable_prefix(name)
            if service.port is not None:
                variables[f"{prefix}_CONTAINER_PORT"] = str(service.port)
            if service.health is not None:
                variables[f"{prefix}_HEALTH"] = service.health
            base = service.gpu_base if gpu and service.gpu_base else service.base
            if base is not None:
                variables[f"{prefix}_BASE_IMAGE"] = self.base_images[base].image
        return variables


def variable_prefix(service: str) -> str:
    """A service's name as the start of a compose variable: `pose-service` -> POSE_SERVICE."""
    return service.upper().replace("-", "_")


def _with_ancestors(images: Mapping[str, BaseImage], names: Iterable[str]) -> set[str]:
    result: set[str] = set()
    for name in names:
        require_known("base image", [name], images, "--only")
        current: str | None = name
        while current is not None and current not in result:
            result.add(current)
            current = images[current].parent
    return result


def _topological_order(images: Mapping[str, BaseImage]) -> list[str]:
    order: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        parent = images[name].parent
        if parent is not None:
            visit(parent)
        done.add(name)
        order.append(name)

    for name in images:
        visit(name)
    return order
