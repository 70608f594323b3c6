"""Which compose project a command works on, and for which profile: the user's own stack or an isolated one
beside it (SNOWSTACK_PROJECT), GPU or CPU, official images or stand-ins, dev sync; and what follows from that
choice alone: the compose files in merge order and the variables they read (images, ports, network, tag).

Pure decisions from stack.toml and the environment; the files a project keeps on disk are in project_files.py,
the running project in compose.py.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import SnowstackError
from .images import resolve_upstream
from .stack import Stack

# Which compose project a command works on. Unset: the user's own stack (stack.toml's name). Anything else is an
# isolated project (tests, a second checkout): its own volumes, network, image tag, secrets and no fixed ports,
# so that nothing it does (`down --volumes` included) can touch the user's stack.
PROJECT_VARIABLE = "SNOWSTACK_PROJECT"
PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


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
