"""The engine's Swarm nouns: `swarm` (init, join, leave), `node` (ls, update) and `stack` (deploy, rm, ps).

Part of the one Docker boundary (see engine.py): every command runs through the `DockerClient` of the `Engine`
object that owns this noun (`engine.swarm`), on the engine that object talks to (its `host`: a Swarm manager, or
an engine in a container for the local Swarm nodes). Every failure becomes an EngineError with one actionable line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from python_on_whales import DockerClient, DockerException

from .engine_failures import docker_stderr, engine_errors, explain_docker_failure
from .errors import EngineError


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


class SwarmCommands:
    """Swarm membership, its nodes and the stacks deployed on it, through one engine object's client."""

    def __init__(self, client: DockerClient) -> None:
        self._client = client

    def state(self) -> str:
        """`inactive`, `active`, `pending`…: this engine's Swarm membership."""
        with engine_errors("docker info"):
            swarm = self._client.system.info().swarm
        return str(swarm.local_node_state) if swarm else "inactive"

    def init(self, advertise_address: str) -> None:
        with engine_errors("swarm init"):
            self._client.swarm.init(advertise_address=advertise_address)

    def join_token(self, role: str = "worker") -> str:
        with engine_errors("swarm join-token"):
            return self._client.swarm.join_token(role)

    def join(self, manager_address: str, token: str, advertise_address: str | None = None) -> None:
        with engine_errors(f"swarm join {manager_address}"):
            self._client.swarm.join(manager_address, advertise_address=advertise_address, token=token)

    def nodes(self) -> list[SwarmNode]:
        with engine_errors("node ls"):
            nodes = self._client.node.list()
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

    def leave(self) -> None:
        """`docker swarm leave --force`: only ever on an engine in a container (see snowstack/swarm/nodes.py)."""
        with engine_errors("swarm leave"):
            self._client.swarm.leave(force=True)

    def label_node(self, node: str, labels: Mapping[str, str]) -> None:
        with engine_errors(f"node update {node}"):
            self._client.node.update(node, labels_add=dict(labels))

    def deploy_stack(self, name: str, stack_file: Path) -> None:
        """`docker stack deploy --prune --resolve-image always`: images by digest from the registry."""
        with engine_errors(f"stack deploy {name}"):
            self._client.stack.deploy(name, [stack_file], prune=True, resolve_image="always")

    def remove_stack(self, name: str) -> None:
        with engine_errors(f"stack rm {name}"):
            self._client.stack.remove(name)

    def stack_tasks(self, name: str) -> list[SwarmTask]:
        """Every task of every service of a stack (the services' `docker service ps`)."""
        for _ in range(4):  # a task removed between `service ps -q` and its inspect: ask again
            try:
                return self._tasks(name)
            except DockerException as error:
                if "No such object" not in docker_stderr(error):
                    raise EngineError(f"stack ps {name}: {explain_docker_failure(docker_stderr(error))}") from None
        raise EngineError(f"stack ps {name}: its tasks kept changing while being listed")

    def _tasks(self, name: str) -> list[SwarmTask]:
        found = []
        for service in self._client.service.list(filters=[("label", f"com.docker.stack.namespace={name}")]):
            for task in self._client.service.ps(service):
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
            services = self._client.service.list(filters=[("label", f"com.docker.stack.namespace={name}")])
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
                networks = [str(n.name) for n in self._client.network.list(filters=[("label", label)])]
                containers = [str(c.name) for c in self._client.container.list(all=True, filters=[("label", label)])]
                return networks + containers
            except DockerException as error:
                if "not found" not in docker_stderr(error) and "No such" not in docker_stderr(error):
                    raise EngineError(f"stack leftovers {name}: {explain_docker_failure(docker_stderr(error))}") from None
        raise EngineError(f"stack leftovers {name}: its networks and containers kept changing while being listed")
