"""`invoke doctor`: every prerequisite as a row (ok / warn / fail) with the fix in one line.

Facts are gathered once (I/O); each check is a pure function of them, unit-tested without Docker.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

from .engine import BUILDKIT_ENV, COMPOSE_MIN_BUILDX, Engine, EngineFacts, format_version
from .report import Check, Status

GIB = 1024**3
MIN_ENGINE = (24, 0, 0)
POSE_GPU_DISK_GIB = 25  # the CUDA pose base image with torch and detectron2
CPU_DISK_GIB = 10
REGISTRY_URL = "https://registry-1.docker.io/v2/"
CA_ENV_VARS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT", "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE")
DISTRO_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")


@dataclass(frozen=True)
class HostFacts:
    engine: EngineFacts
    env: dict[str, str] = field(default_factory=dict)
    nvidia_smi: str | None = None  # first GPU line, or None when nvidia-smi is missing or fails
    disk_free_bytes: int | None = None
    disk_path: str | None = None
    memory_available_bytes: int = 0
    memory_total_bytes: int = 0
    registry_reachable: bool = False
    registry_detail: str = ""
    proc_version: str = ""
    cwd: str = ""


# --- decisions ----------------------------------------------------------------------------------------


def check_engine(facts: HostFacts) -> Check:
    engine = facts.engine
    if not engine.reachable:
        return Check(
            "docker engine",
            Status.FAIL,
            engine.error or "not reachable",
            "start the engine: sudo scripts/install-engine.sh (Debian) or Docker Desktop",
        )
    version = format_version(engine.server_version)
    detail = f"{version} (API {engine.api_version}, {engine.storage_driver})"
    if engine.server_version is None or engine.server_version < MIN_ENGINE:
        return Check("docker engine", Status.WARN, detail, "upgrade to Docker Engine >= 24 (healthcheck start_interval needs 25)")
    return Check("docker engine", Status.OK, detail)


def check_compose(facts: HostFacts) -> Check:
    engine = facts.engine
    if engine.compose_version is None:
        if engine.compose_v1_binary:
            return Check(
                "compose v2",
                Status.FAIL,
                f"only the v1 binary {engine.compose_v1_binary}",
                "install the Compose v2 plugin (docker-compose-plugin); v1 is not supported",
            )
        return Check("compose v2", Status.FAIL, "'docker compose' is missing", "install the Compose v2 plugin (docker-compose-plugin)")
    return Check("compose v2", Status.OK, format_version(engine.compose_version))


def check_buildx(facts: HostFacts) -> Check:
    engine = facts.engine
    if engine.buildx_version is None:
        return Check("buildx", Status.FAIL, "'docker buildx' is missing", "install the buildx plugin (docker-buildx-plugin)")
    detail = format_version(engine.buildx_version)
    compose_needs_new_buildx = engine.compose_version is not None and engine.compose_version >= (2, 40)
    if compose_needs_new_buildx and engine.buildx_version < COMPOSE_MIN_BUILDX:
        return Check(
            "buildx",
            Status.FAIL,
            f"{detail} < {format_version(COMPOSE_MIN_BUILDX)}, which compose {format_version(engine.compose_version)} needs",
            "upgrade buildx to >= 0.17",
        )
    return Check("buildx", Status.OK, f"{detail} (compose needs >= {format_version(COMPOSE_MIN_BUILDX)})")


def check_buildkit(facts: HostFacts) -> Check:
    if facts.engine.buildx_version is None:
        return Check("buildkit", Status.FAIL, "no buildx: builds would use the legacy builder", "install the buildx plugin")
    off = [key for key in BUILDKIT_ENV if facts.env.get(key) == "0"]
    if off:
        return Check(
            "buildkit", Status.WARN, f"your shell sets {', '.join(off)}=0 (the automation overrides it)", 'eval "$(invoke buildkit)"'
        )
    return Check("buildkit", Status.OK, "on for every build the automation runs (buildx)")


def check_gpu(facts: HostFacts) -> Check:
    engine = facts.engine
    runtime = "nvidia" in engine.runtimes
    cdi = bool(engine.cdi_devices)
    if facts.nvidia_smi and (runtime or cdi):
        how = "nvidia runtime" if runtime else "CDI"
        return Check("gpu", Status.OK, f"{facts.nvidia_smi} via {how}: GPU profile (hmr2)")
    if facts.nvidia_smi:
        return Check(
            "gpu",
            Status.WARN,
            f"{facts.nvidia_smi} but Docker has no nvidia runtime or CDI spec",
            "install nvidia-container-toolkit and run nvidia-ctk runtime configure",
        )
    return Check(
        "gpu",
        Status.WARN,
        "no NVIDIA GPU: CPU profile (mediapipe backend)",
        "nothing to do on a laptop; on a GPU host install the driver and nvidia-container-toolkit",
    )


def gpu_available(facts: HostFacts) -> bool:
    return check_gpu(facts).status is Status.OK


def check_disk(facts: HostFacts) -> Check:
    if facts.disk_free_bytes is None:
        return Check("disk", Status.WARN, f"cannot read free space of {facts.disk_path}", "check Docker's data root exists")
    free = facts.disk_free_bytes / GIB
    needed = POSE_GPU_DISK_GIB if gpu_available(facts) else CPU_DISK_GIB
    detail = f"{free:.1f} GiB free under {facts.disk_path} (need ~{needed} GiB)"
    if free < needed / 2:
        return Check("disk", Status.FAIL, detail, "free space: docker system prune, or move Docker's data-root")
    if free < needed:
        return Check("disk", Status.WARN, detail, "free space soon: docker builder prune")
    return Check("disk", Status.OK, detail)


def check_memory(facts: HostFacts) -> Check:
    available = facts.memory_available_bytes / GIB
    detail = f"{available:.1f} of {facts.memory_total_bytes / GIB:.1f} GiB available"
    if available < 2:
        return Check("memory", Status.FAIL, detail, "close programs: the stack needs ~2 GiB")
    if available < 4:
        return Check("memory", Status.WARN, detail, "pose inference on long videos may be slow")
    return Check("memory", Status.OK, detail)


def check_registry(facts: HostFacts) -> Check:
    if facts.registry_reachable:
        return Check("registry", Status.OK, f"reachable ({facts.registry_detail}): official upstream images")
    return Check(
        "registry",
        Status.WARN,
        f"not reachable ({facts.registry_detail}): offline mode",
        "nothing to do: bootstrap builds local stand-ins from package mirrors",
    )


def ca_bundle(env: dict[str, str]) -> tuple[str, str] | None:
    """(where it came from, path) of the CA bundle builds should trust, or None."""
    for var in CA_ENV_VARS:
        value = env.get(var)
        if value and Path(value).is_file():
            return var, value
    for path in DISTRO_CA_BUNDLES:
        if Path(path).is_file():
            return "distro bundle", path
    return None


def check_ca(facts: HostFacts) -> Check:
    found = ca_bundle(facts.env)
    if found is None:
        return Check("ca bundle", Status.WARN, "no CA bundle found", "set SSL_CERT_FILE if you are behind a TLS-intercepting proxy")
    source, path = found
    custom = source != "distro bundle"
    detail = f"{path} (from {source}{', custom' if custom else ''}): passed to builds as BuildKit secret 'ca'"
    return Check("ca bundle", Status.OK, detail)


def check_wsl(facts: HostFacts) -> Check:
    if "microsoft" not in facts.proc_version.lower():
        return Check("wsl2", Status.OK, "not WSL")
    if facts.cwd.startswith("/mnt/"):
        return Check(
            "wsl2",
            Status.WARN,
            f"WSL2 with the code on the Windows filesystem ({facts.cwd})",
            "keep code on the Linux filesystem (e.g. ~/src): builds and file watching are 10x slower under /mnt",
        )
    return Check("wsl2", Status.OK, "WSL2, code on the Linux filesystem")


CHECKS = (
    check_engine,
    check_compose,
    check_buildx,
    check_buildkit,
    check_gpu,
    check_disk,
    check_memory,
    check_registry,
    check_ca,
    check_wsl,
)


def evaluate(facts: HostFacts) -> list[Check]:
    return [check(facts) for check in CHECKS]


# --- gathering ----------------------------------------------------------------------------------------


def gather(engine: Engine | None = None, *, registry_timeout: float = 3.0) -> HostFacts:
    engine_facts = (engine or Engine()).facts()
    disk_path = engine_facts.docker_root_dir or "/var/lib/docker"
    probe = disk_path if Path(disk_path).exists() else "/"
    try:
        disk_free: int | None = psutil.disk_usage(probe).free
    except OSError:
        disk_free = None
    memory = psutil.virtual_memory()
    reachable, registry_detail = probe_registry(registry_timeout)
    return HostFacts(
        engine=engine_facts,
        env=dict(os.environ),
        nvidia_smi=_nvidia_smi(),
        disk_free_bytes=disk_free,
        disk_path=disk_path,
        memory_available_bytes=memory.available,
        memory_total_bytes=memory.total,
        registry_reachable=reachable,
        registry_detail=registry_detail,
        proc_version=_read("/proc/version") if platform.system() == "Linux" else "",
        cwd=os.getcwd(),
    )


def probe_registry(timeout: float) -> tuple[bool, str]:
    """Docker Hub answers 401 to an anonymous /v2/ request when it is reachable."""
    try:
        response = requests.get(REGISTRY_URL, timeout=timeout)
    except requests.RequestException as error:
        return False, type(error).__name__
    return response.status_code in (200, 401), f"HTTP {response.status_code}"


def _nvidia_smi() -> str | None:
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (subprocess.SubprocessError, OSError):
        return None
    return out.strip().splitlines()[0] if out.strip() else None


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
