"""A Swarm on one machine: Docker engines in privileged containers ("nodes") and the registry stand-in.

Why not the host's own engine: it is shared (the user's compose stack, other projects), and `docker swarm leave`
on it once left running compose containers without their embedded DNS until they were recreated. Engines in
containers are created, joined and thrown away without touching it. Each node keeps its images on its own
volume at /var/lib/docker (overlay2 works on a volume; the node falls back to vfs elsewhere).

Everything made here carries the label `org.snowboarding.swarm=<name>`, so `destroy` finds it however a run ended.
With `cache=True` the registry's and the nodes' volumes (image layers only) carry `org.snowboarding.swarm-cache`
instead and outlive `destroy`: the next run pushes and pulls only what changed. Before a kept node volume is used
or kept, its engine is emptied of everything but images (Swarm state, containers, networks, volumes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..engine import Engine
from ..errors import EngineError, SnowstackError
from ..stack import Stack
from .stackfile import DATA_LABEL, GPU_LABEL

LABEL = "org.snowboarding.swarm"
CACHE_LABEL = "org.snowboarding.swarm-cache"
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
    cache: bool = False  # keep the registry's and nodes' image volumes for the next run
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


def registry_container(name: str) -> str:
    return f"{name}-registry"


def volume_labels(swarm: LocalSwarm) -> dict[str, str]:
    return {CACHE_LABEL: swarm.name} if swarm.cache else {LABEL: swarm.name}


def drop_other_caches(engine: Engine, name: str) -> list[str]:
    """Remove the kept image volumes of every other local Swarm name that no container uses; what was removed.

    A name is per checkout (the suite's project), so each clone would otherwise leave its own set of several GB on a
    reused machine. A cache a running Swarm still mounts cannot be removed, and is skipped."""
    removed = []
    own = set(engine.volumes_labelled(f"{CACHE_LABEL}={name}"))
    for volume in engine.volumes_labelled(CACHE_LABEL):
        if volume in own:
            continue
        try:
            engine.remove_volume(volume)
        except EngineError:
            continue  # in use by another run's node or registry
        removed.append(volume)
    return removed


def create(engine: Engine, stack: Stack, name: str, *, nodes: int = 1, cache: bool = False) -> LocalSwarm:
    """Network, registry and `nodes` engines; the first inits the Swarm, the others join it as workers. With `cache`,
    other names' unused caches go first: one set of kept image volumes per engine, not one per checkout."""
    node_image, registry_image = images(stack)
    if cache:
        drop_other_caches(engine, name)
    labels = {LABEL: name}
    swarm = LocalSwarm(name, cache=cache)
    engine.create_network(swarm.network, labels)
    registry = registry_container(name)
    engine.create_volume(registry, volume_labels(swarm))
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
    engine.create_volume(name, volume_labels(swarm))
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
    empty_but_images(node.engine)  # a kept volume from a run that ended without `destroy`
    if not swarm.nodes:
        node.engine.swarm.init(node.address)
        node.engine.swarm.label_node(name, {DATA_LABEL: "true"})
    else:
        manager = swarm.manager.engine
        node.engine.swarm.join(f"{swarm.manager.address}:2377", manager.swarm.join_token("worker"), advertise_address=node.address)
        if generic_resources:
            manager.swarm.label_node(name, {GPU_LABEL: "true"})
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


def empty_but_images(node: Engine) -> None:
    """Out of any Swarm, no containers, networks or volumes: what a node's kept volume may hold (images only)."""
    if node.swarm.state() != "inactive":
        node.swarm.leave()
    node.remove_all_but_images()


def _emptied(engine: Engine, container: str) -> bool:
    """Empty a kept node's engine (True), or say it cannot be (not running, not answering: False)."""
    try:
        if not engine.container_running(container):
            engine.start_container(container)  # a node a test stopped: its images are worth keeping too
        node = LocalNode(container, "", f"tcp://127.0.0.1:{engine.host_port(container, ENGINE_PORT)}")
        wait_ready(node)
        empty_but_images(node.engine)
    except SnowstackError:
        return False
    return True


def destroy(engine: Engine, name: str, *, purge: bool = False) -> list[str]:
    """Remove every container, volume and network labelled for this local Swarm (with `purge`, the cached image
    volumes too); what was removed. Kept node volumes are emptied of all but images first."""
    removed = []
    label = f"{LABEL}={name}"
    cached = set(engine.volumes_labelled(f"{CACHE_LABEL}={name}"))
    for container in engine.containers_labelled(label):
        is_node = container != registry_container(name)
        if is_node and container in cached and not purge and not _emptied(engine, container):
            cached.discard(container)  # an engine that cannot be emptied is not kept
            engine.remove_container(container)
            engine.remove_volume(container)
            removed += [container, f"volume {container}"]
            continue
        engine.remove_container(container)
        removed.append(container)
    for volume in sorted(cached) if purge else []:
        engine.remove_volume(volume)
        removed.append(volume)
    for volume in engine.volumes_labelled(label):
        engine.remove_volume(volume)
        removed.append(volume)
    for network in engine.networks_labelled(label):
        engine.remove_network(network)
        removed.append(network)
    return removed
