"""A Swarm on one machine: Docker engines in privileged containers ("nodes") and the registry stand-in.

Why not the host's own engine: it is shared (the user's compose stack, other projects), and `docker swarm leave`
on it once left running compose containers without their embedded DNS until they were recreated. Engines in
containers are created, joined and thrown away without touching it. Each node keeps its images on its own
volume at /var/lib/docker (overlay2 works on a volume; the node falls back to vfs elsewhere).

Everything made here carries the label `org.snowboarding.swarm=<name>`, so `destroy` finds it however a run ended.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..engine import Engine
from ..errors import EngineError, SnowstackError
from ..stack import Stack
from .stackfile import DATA_LABEL, GPU_LABEL

LABEL = "org.snowboarding.swarm"
ENGINE_PORT = 2375
REGISTRY_PORT = 5000
READY_TIMEOUT_S = 90.0


@dataclass
class LocalNode:
    """One engine in a container: its container name, address on the Swarm network, and DOCKER_HOST."""

    name: str
    address: str
    host: str  # tcp://127.0.0.1:PORT (published on the host's loopback only)

    @property
    def engine(self) -> Engine:
        return Engine(host=self.host)


@dataclass
class LocalSwarm:
    """The network, registry and nodes of one local Swarm (`name` prefixes every object)."""

    name: str
    registry: str = ""  # HOST:PORT the nodes pull from (the registry container on the Swarm network)
    push_registry: str = ""  # HOST:PORT this host pushes to (published on 127.0.0.1)
    nodes: list[LocalNode] = field(default_factory=list)

    @property
    def network(self) -> str:
        return self.name

    @property
    def manager(self) -> LocalNode:
        return self.nodes[0]


def images(stack: Stack) -> tuple[str, str]:
    """The node and registry images for this host: the stand-ins (built only when a Swarm needs them)."""
    dind, registry = stack.upstream.get("dind"), stack.upstream.get("registry")
    if dind is None or registry is None or dind.offline is None or registry.offline is None:
        raise SnowstackError("stack.toml lacks [upstream.dind] or [upstream.registry] with their offline stand-ins")
    return dind.offline, registry.offline


def ensure_images(stack: Stack, engine: Engine, ca_bundle: str | None) -> list[str]:
    """Build the node and registry stand-ins where missing or stale (the Debian root first); names built."""
    from ..images import Bootstrapper, BootstrapPlan, run_bootstrap, stand_in_specs

    builder = Bootstrapper(stack, engine, ca_bundle=ca_bundle)
    plan = BootstrapPlan(offline=True, gpu=False, base=[], stand_ins=stand_in_specs(stack, ["dind", "registry"], ""))
    return [record.image for record in run_bootstrap(builder, plan) if record.outcome == "built"]


def create(engine: Engine, stack: Stack, name: str, *, nodes: int = 1) -> LocalSwarm:
    """Network, registry and `nodes` engines; the first inits the Swarm, the others join it as workers."""
    node_image, registry_image = images(stack)
    labels = {LABEL: name}
    swarm = LocalSwarm(name)
    engine.create_network(swarm.network, labels)
    registry = f"{name}-registry"
    engine.create_volume(registry, labels)
    engine.run_detached(
        registry_image,
        registry,
        volumes=[(registry, "/var/lib/registry")],
        publish=[("127.0.0.1", REGISTRY_PORT)],
        network=swarm.network,
        labels=labels,
    )
    swarm.registry = f"{registry}:{REGISTRY_PORT}"
    swarm.push_registry = f"127.0.0.1:{engine.host_port(registry, REGISTRY_PORT)}"
    for index in range(nodes):
        add_node(engine, swarm, node_image, index + 1)
    return swarm


def add_node(engine: Engine, swarm: LocalSwarm, image: str, index: int, generic_resources: tuple[str, ...] = ()) -> LocalNode:
    """Start one node; the first inits the Swarm (labelled for MongoDB), later ones join as workers."""
    name = f"{swarm.name}-node{index}"
    labels = {LABEL: swarm.name}
    engine.create_volume(name, labels)
    flags = [f"--insecure-registry={swarm.registry}", *(f"--node-generic-resource={r}" for r in generic_resources)]
    engine.run_detached(
        image,
        name,
        command=flags,
        privileged=True,
        volumes=[(name, "/var/lib/docker")],
        publish=[("127.0.0.1", ENGINE_PORT)],
        network=swarm.network,
        labels=labels,
        hostname=name,
        envs={"DOCKER_TLS_CERTDIR": ""},
    )
    node = LocalNode(name, engine.container_address(name, swarm.network), f"tcp://127.0.0.1:{engine.host_port(name, ENGINE_PORT)}")
    wait_ready(node)
    if node.engine.swarm_state() == "active":  # a kept volume remembers an old Swarm
        raise SnowstackError(f"{name}'s volume holds an old Swarm state: run the cleanup (destroy) first")
    if not swarm.nodes:
        node.engine.swarm_init(node.address)
        node.engine.label_node(name, {DATA_LABEL: "true"})
    else:
        manager = swarm.manager.engine
        node.engine.swarm_join(f"{swarm.manager.address}:2377", manager.swarm_join_token("worker"), advertise_address=node.address)
        if generic_resources:
            manager.label_node(name, {GPU_LABEL: "true"})
    swarm.nodes.append(node)
    return node


def wait_ready(node: LocalNode, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Until the node's engine answers."""
    deadline = time.monotonic() + timeout_s
    while True:
        if node.engine.facts().reachable:
            return
        if time.monotonic() > deadline:
            raise EngineError(
                f"the Swarm node {node.name} did not answer on {node.host} within {timeout_s:.0f}s (`docker logs {node.name}`)"
            )
        time.sleep(0.5)


def destroy(engine: Engine, name: str) -> list[str]:
    """Remove every container, volume and network labelled for this local Swarm; what was removed."""
    removed = []
    label = f"{LABEL}={name}"
    for container in engine.containers_labelled(label):
        engine.remove_container(container)
        removed.append(container)
    for volume in engine.volumes_labelled(label):
        engine.remove_volume(volume)
        removed.append(volume)
    for network in engine.networks_labelled(label):
        engine.remove_network(network)
        removed.append(network)
    return removed
