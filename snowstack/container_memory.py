"""A container's memory cgroup, read from the host's cgroup files: current and peak bytes, OOM kills.

`docker stats` shows no peak, so the hardening checks read the kernel's own accounting (cgroup v1
`memory/docker/ID`, v2 `system.slice/docker-ID.scope` or `docker/ID`). No docker process: plain files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


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


def memory_usage(container_id: str) -> MemoryUsage | None:
    """The container's memory cgroup on this host: current and peak bytes, and how often the kernel's OOM killer
    ran in it; None where this host's layout is not one `read_memory_cgroup` knows."""
    return read_memory_cgroup(CGROUP_ROOT, container_id)


def reset_memory_peak(container_id: str) -> bool:
    """Start a new peak measurement (cgroup v1 only: writing 0 resets it); False where that is not possible."""
    peak = CGROUP_ROOT / "memory" / "docker" / container_id / "memory.max_usage_in_bytes"
    try:
        peak.write_text("0")
    except OSError:
        return False
    return True


def _key_value(path: Path) -> dict[str, int]:
    if not path.is_file():
        return {}
    pairs = (line.split() for line in path.read_text().splitlines())
    return {pair[0]: int(pair[1]) for pair in pairs if len(pair) == 2 and pair[1].isdigit()}
