"""Compose config -> Swarm stack file: what `docker stack deploy` needs, decided without Docker (unit-tested).

The input is the fully merged, interpolated project that `docker compose config --format json` prints for the
chosen profile, so the compose files stay the one map of the system and Swarm never gets a second copy.
What changes on the way, and why:
- Images are addressed through the registry (`HOST:PORT/snowboarding/...`): other nodes cannot see local images.
- No `build:` (Swarm never builds), no `depends_on` (services retry their connections), no `container_name`.
- Every service uses `endpoint_mode: dnsrr` and its ports `mode: host`: the default VIP mode relies on IPVS,
  which times out on engines like this project's (checked), and the ingress routing mesh needs VIP.
- `mem_limit`/`pids_limit` become `deploy.resources.limits`; `restart` a restart policy; a tmpfs a tmpfs mount.
  `security_opt` and `memswap_limit` have no Swarm equivalent and are left out (listed in `dropped`).
- Secrets keep their files, under a content-hashed name (Swarm secrets are immutable: a changed password is a
  new secret, not a failed update). The build-only `ca` secret is not deployed.
- A read-only bind mount of files (MongoDB's init scripts) becomes Swarm configs: a node has no checkout.
- Healthchecks: on Swarm an unhealthy task is killed and replaced (Compose only reports it), so a check that is
  merely slow on a loaded machine must not count as a dead service: a check may take SWARM_HEALTH_TIMEOUT_S and a
  task is replaced only after failing for SWARM_UNHEALTHY_AFTER_S in a row. Seen with the compose values (5 s,
  3-5 retries) under a load average of 50: every check timed out, and in four minutes Swarm replaced MongoDB twice
  and the API nine times, and the job's reads failed with 500. A task still counts as running at its first pass.
- Placement: MongoDB, and services sharing a named volume, run on the node labelled `snowboarding.data=true`
  (a local volume lives on one node; a scaled service's volumes are per-node caches and pin nothing).
  GPU services reserve the `NVIDIA-GPU` generic resource on nodes labelled `snowboarding.gpu=true`; in the CPU
  profile, pose services stay off GPU nodes.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SnowstackError

DATA_LABEL = "snowboarding.data"
GPU_LABEL = "snowboarding.gpu"
GPU_RESOURCE = "NVIDIA-GPU"  # the kind nodes advertise: dockerd --node-generic-resource NVIDIA-GPU=<GPU UUID>
HEALTH_START_INTERVAL_API = (1, 44)  # engines older than this reject (or ignore) healthcheck start_interval
SWARM_HEALTH_TIMEOUT_S = 30.0  # the least time a healthcheck gets on Swarm
SWARM_UNHEALTHY_AFTER_S = 180.0  # failing checks in a row for this long before Swarm replaces a task
DOCKER_HEALTH_DEFAULTS = {"interval": 30.0, "timeout": 30.0, "retries": 3}  # Docker's, for keys a check leaves out
BUILD_ONLY_SECRETS = frozenset({"ca"})
# Compose keys Swarm has no equivalent for; they are reported, not silently lost.
UNSUPPORTED = ("security_opt", "memswap_limit")
# Compose keys with no meaning in a stack (built, ordered or named by Compose itself).
IGNORED = ("build", "depends_on", "container_name", "restart", "mem_limit", "pids_limit", "tmpfs", "deploy", "ports", "volumes")
COPIED = (
    "command",
    "entrypoint",
    "environment",
    "healthcheck",
    "user",
    "read_only",
    "cap_drop",
    "cap_add",
    "working_dir",
    "stop_grace_period",
)


@dataclass(frozen=True)
class StackOptions:
    """The choices `invoke deploy` makes for one deployment."""

    name: str  # the stack's name (the compose project's)
    registry: str | None  # HOST:PORT the nodes pull from; None: local images (a single-node Swarm on this engine)
    gpu_services: tuple[str, ...]  # the pose services (stack.toml role `gpu`): on GPU nodes, or kept off them on CPU
    gpu: bool
    replicas: int | None = None  # for the scalable services (those with `deploy.replicas` in compose)
    engine_api: tuple[int, ...] = (1, 51)
    data_services: tuple[str, ...] = ("mongodb",)  # pinned to the data node with their volumes
    environment: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # service -> variables set on Swarm


@dataclass
class StackFile:
    """The stack document and what deploying it needs: images to push (local -> registry name), dropped keys."""

    document: dict[str, Any]
    images: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, list[str]] = field(default_factory=dict)  # service -> compose keys Swarm cannot honour

    @property
    def services(self) -> list[str]:
        return list(self.document["services"])


def registry_image(image: str, registry: str | None) -> str:
    """`snowboarding/x:tag` -> `HOST:PORT/snowboarding/x:tag` (an existing registry host in the name is replaced)."""
    if registry is None:
        return image
    first, sep, rest = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        image = rest
    return f"{registry.rstrip('/')}/{image}"


def content_name(stack: str, key: str, path: Path) -> str:
    """A Swarm object name that changes when the file's content does (secrets and configs are immutable)."""
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    except OSError as error:
        raise SnowstackError(f"{path}: cannot read it for the Swarm stack ({error.strerror}): run `invoke up` once to create it") from None
    return f"{stack}_{key}_{digest}"


def parse_tmpfs(entry: str) -> dict[str, Any]:
    """`/tmp:size=32m,mode=1777` -> a Swarm tmpfs mount (size in bytes; Swarm's tmpfs is mode 1777 already)."""
    target, _, options = entry.partition(":")
    mount: dict[str, Any] = {"type": "tmpfs", "target": target}
    for option in filter(None, options.split(",")):
        key, _, value = option.partition("=")
        if key == "size":
            mount["tmpfs"] = {"size": byte_count(value)}
    return mount


def byte_count(text: str | int) -> int:
    """`32m` / `1g` / `536870912` -> bytes."""
    match = re.fullmatch(r"(\d+)\s*([kmg]?)b?", str(text).strip().lower())
    if not match:
        raise SnowstackError(f"cannot read {text!r} as a size: write bytes or a number with k, m or g")
    unit: int = 1024 ** " kmg".index(match.group(2) or " ")
    return int(match.group(1)) * unit


def to_stack_file(config: Mapping[str, Any], options: StackOptions) -> StackFile:
    """The Swarm stack for one rendered compose project."""
    services: Mapping[str, Any] = config.get("services") or {}
    result = StackFile(document={"services": {}, "networks": {}, "volumes": {}, "secrets": {}, "configs": {}})
    shared = _shared_volumes(services)
    for name, service in services.items():
        result.document["services"][name] = _service(name, service, options, result, shared, config)
    for key in config.get("networks") or {}:
        # Overlay networks span the nodes; names get the stack's prefix, so two stacks never share one.
        result.document["networks"][key] = {"driver": "overlay"}
    for key in config.get("volumes") or {}:
        result.document["volumes"][key] = {}
    for key in {s["source"] for svc in services.values() for s in svc.get("secrets") or []}:
        path = Path((config.get("secrets") or {}).get(key, {}).get("file", ""))
        if not path.name:
            raise SnowstackError(f"secret {key!r} has no file in the compose file: Swarm needs a file (or an existing secret)")
        result.document["secrets"][key] = {"name": content_name(options.name, key, path), "file": str(path)}
    for key in [k for k in ("secrets", "configs", "volumes", "networks") if not result.document[k]]:
        del result.document[key]
    return result


def _shared_volumes(services: Mapping[str, Any]) -> set[str]:
    """Named volumes several services share: they must run on one node. A volume a scaled service (one with
    `deploy.replicas`) mounts is a per-node cache by construction (its replicas spread over nodes): not pinned."""
    counts = Counter(v["source"] for s in services.values() for v in s.get("volumes") or [] if v.get("type") == "volume")
    scaled = {v["source"] for s in services.values() if (s.get("deploy") or {}).get("replicas") is not None for v in s.get("volumes") or []}
    return {volume for volume, count in counts.items() if count > 1 and volume not in scaled}


def _service(
    name: str, service: Mapping[str, Any], options: StackOptions, result: StackFile, shared: set[str], config: Mapping[str, Any]
) -> dict[str, Any]:
    image = service.get("image")
    if not image:
        raise SnowstackError(f"service {name} has no image: Swarm deploys images, it cannot build")
    out: dict[str, Any] = {"image": registry_image(str(image), options.registry)}
    result.images[str(image)] = out["image"]
    for key in COPIED:
        if service.get(key) not in (None, [], {}):
            out[key] = service[key]
    if options.environment.get(name):
        out["environment"] = {**(out.get("environment") or {}), **options.environment[name]}
    if "healthcheck" in out:
        out["healthcheck"] = swarm_healthcheck(out["healthcheck"], options.engine_api)
    out["networks"] = list(service.get("networks") or {})
    dropped = [key for key in UNSUPPORTED if service.get(key)]
    if dropped:
        result.dropped[name] = dropped
    if service.get("secrets"):
        out["secrets"] = [
            {"source": s["source"], "target": s.get("target") or f"/run/secrets/{s['source']}"}
            for s in service["secrets"]
            if s["source"] not in BUILD_ONLY_SECRETS
        ]
    mounts = [parse_tmpfs(entry) for entry in service.get("tmpfs") or []]
    volumes_used: list[str] = []
    for volume in service.get("volumes") or []:
        if volume.get("type") == "volume":
            mount = {"type": "volume", "source": volume["source"], "target": volume["target"]}
            if volume.get("read_only"):
                mount["read_only"] = True
            if (volume.get("volume") or {}).get("nocopy"):
                mount["volume"] = {"nocopy": True}
            mounts.append(mount)
            volumes_used.append(volume["source"])
        elif volume.get("type") == "bind" and volume.get("read_only"):
            out.setdefault("configs", []).extend(_bind_as_configs(name, volume, options, result))
        else:
            raise SnowstackError(
                f"service {name} bind-mounts {volume.get('source')} writable: a Swarm node has no such path; use a named volume"
            )
    if mounts:
        out["volumes"] = mounts
    ports = [p for p in service.get("ports") or []]
    if ports:
        # `mode: host` publishes on the node the task runs on, at the container's own port (the compose file's
        # host ports are per-project loopback choices, meaningless on another machine).
        out["ports"] = [
            {"target": int(p["target"]), "published": int(p["target"]), "protocol": p.get("protocol", "tcp"), "mode": "host"} for p in ports
        ]
    out["deploy"] = _deploy(name, service, options, volumes_used, shared)
    return out


def swarm_healthcheck(check: Mapping[str, Any], engine_api: tuple[int, ...]) -> dict[str, Any]:
    """A compose healthcheck made tolerant of a slow machine (module docstring: Healthchecks); `start_interval`
    dropped for engines that lack it."""
    result = {k: v for k, v in check.items() if k != "start_interval" or engine_api >= HEALTH_START_INTERVAL_API}
    if result.get("disable") or list(result.get("test") or ["NONE"])[:1] == ["NONE"]:
        return result
    interval = seconds(result.get("interval") or DOCKER_HEALTH_DEFAULTS["interval"])
    timeout = max(seconds(result.get("timeout") or DOCKER_HEALTH_DEFAULTS["timeout"]), SWARM_HEALTH_TIMEOUT_S)
    retries = int(result.get("retries") or DOCKER_HEALTH_DEFAULTS["retries"])
    result["timeout"] = go_duration(timeout)
    result["retries"] = max(retries, math.ceil(SWARM_UNHEALTHY_AFTER_S / interval))
    return result


def seconds(duration: str | float) -> float:
    """A Go duration as `compose config` prints it (`1m0s`, `10s`, `500ms`, `1h2m3.5s`) or a number -> seconds."""
    if isinstance(duration, int | float):
        return float(duration)
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)", duration)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != duration.strip():
        raise SnowstackError(f"cannot read {duration!r} as a duration: write it like 10s or 1m30s")
    return sum(float(n) * units[u] for n, u in parts)


def go_duration(value: float) -> str:
    """Seconds -> a duration the stack file takes (`30s`, `1.5s`)."""
    return f"{value:g}s"


def _bind_as_configs(name: str, volume: Mapping[str, Any], options: StackOptions, result: StackFile) -> list[dict[str, Any]]:
    source, target = Path(volume["source"]), str(volume["target"])
    files = sorted(p for p in source.iterdir() if p.is_file()) if source.is_dir() else [source]
    if not files or not all(p.is_file() for p in files):
        raise SnowstackError(f"service {name} mounts {source}, which holds no files: Swarm configs need files")
    entries: list[dict[str, Any]] = []
    for path in files:
        key = f"{name}-{re.sub(r'[^A-Za-z0-9_.-]', '-', path.name)}"
        result.document["configs"][key] = {"name": content_name(options.name, key, path), "file": str(path)}
        entries.append({"source": key, "target": f"{target}/{path.name}" if source.is_dir() else target, "mode": 0o555})
    return entries


def _deploy(name: str, service: Mapping[str, Any], options: StackOptions, volumes: list[str], shared: set[str]) -> dict[str, Any]:
    compose_deploy = service.get("deploy") or {}
    deploy: dict[str, Any] = {"endpoint_mode": "dnsrr", "restart_policy": {"condition": "any", "delay": "2s"}}
    replicas = compose_deploy.get("replicas")
    if replicas is not None:
        deploy["replicas"] = options.replicas if options.replicas is not None else int(replicas)
    limits: dict[str, Any] = {}
    if service.get("mem_limit"):
        limits["memory"] = str(byte_count(service["mem_limit"]))
    if service.get("pids_limit"):
        limits["pids"] = int(service["pids_limit"])
    if service.get("cpus"):
        limits["cpus"] = str(service["cpus"])
    resources: dict[str, Any] = {"limits": limits} if limits else {}
    constraints: list[str] = []
    if name in options.data_services or shared.intersection(volumes):
        constraints.append(f"node.labels.{DATA_LABEL} == true")
    devices = ((compose_deploy.get("resources") or {}).get("reservations") or {}).get("devices") or []
    gpus = sum(int(d.get("count", 1)) if str(d.get("count", 1)) != "all" else 1 for d in devices if "gpu" in (d.get("capabilities") or []))
    if gpus:
        # Swarm has no device requests: a GPU is a generic resource the node advertises (README: Deploy on Swarm).
        resources["reservations"] = {"generic_resources": [{"discrete_resource_spec": {"kind": GPU_RESOURCE, "value": gpus}}]}
        constraints.append(f"node.labels.{GPU_LABEL} == true")
    elif name in options.gpu_services and not options.gpu:
        constraints.append(f"node.labels.{GPU_LABEL} != true")  # the CPU worker: leave GPU nodes to GPU workers
    if resources:
        deploy["resources"] = resources
    if constraints:
        deploy["placement"] = {"constraints": constraints}
    return deploy
