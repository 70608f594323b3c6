"""`invoke bootstrap`: the base images in dependency order, online or from offline stand-ins.

An image is rebuilt only when the hash of what goes into it changed: its build context, its build args and
its parent's image id. The hash is stored as a label on the image, so a second bootstrap builds nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .engine import Engine
from .errors import SnowstackError
from .jsonl import append_record, read_records
from .stack import BaseImage, Stack

HASH_LABEL = "org.snowboarding.context-hash"
SOURCE_LABEL = "org.snowboarding.source"
HISTORY_FILE = "builds.jsonl"


@dataclass(frozen=True)
class BuildSpec:
    """One image bootstrap may build: from which folder, with which args."""

    name: str
    image: str
    context: Path
    build_args: Mapping[str, str] = field(default_factory=dict)
    parent_image: str | None = None  # an image of ours whose id goes into the hash
    kind: str = "base"  # base | stand-in


@dataclass(frozen=True)
class BuildRecord:
    """What happened to one image in one bootstrap run; appended to the history file."""

    name: str
    image: str
    kind: str
    outcome: str  # built | up to date | failed
    reason: str
    seconds: float
    size_bytes: int | None
    context_hash: str
    at: str


# --- decisions ----------------------------------------------------------------------------------------


def context_hash(context: Path, build_args: Mapping[str, str], parent_id: str | None) -> str:
    """sha256 over every file of the context (path + bytes), the build args and the parent image id."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(path.relative_to(context).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    digest.update(json.dumps(dict(sorted(build_args.items()))).encode())
    digest.update((parent_id or "").encode())
    return digest.hexdigest()


def build_reason(existing_labels: Mapping[str, str] | None, wanted_hash: str, force: bool) -> str | None:
    """Why the image must be (re)built, or None when it is up to date."""
    if force:
        return "forced"
    if existing_labels is None:
        return "missing"
    if existing_labels.get(HASH_LABEL) != wanted_hash:
        return "context changed"
    return None


def resolve_upstream(stack: Stack, offline: bool) -> dict[str, str]:
    """Upstream name -> the image reference builds and compose should use."""
    return {name: (image.offline if offline and image.offline else image.official) for name, image in stack.upstream.items()}


def base_image_specs(stack: Stack, names: Iterable[str] | None, offline: bool, gpu: bool) -> list[BuildSpec]:
    refs = resolve_upstream(stack, offline)
    specs = []
    for base in stack.base_images_in_build_order(names):
        if base.gpu and not gpu:
            continue
        if base.gpu and offline and any(stack.upstream[u].offline is None for u in base.upstream_args.values()):
            raise SnowstackError(
                f"{base.name} needs {', '.join(stack.upstream[u].official for u in base.upstream_args.values())}, "
                "which cannot be made offline: run bootstrap where a container registry is reachable"
            )
        specs.append(_base_spec(stack, base, refs))
    return specs


def _base_spec(stack: Stack, base: BaseImage, refs: Mapping[str, str]) -> BuildSpec:
    args = {arg: refs[upstream] for arg, upstream in base.upstream_args.items()}
    parent = stack.base_images[base.parent].image if base.parent else None
    if parent:
        args["BASE_IMAGE"] = parent
    return BuildSpec(base.name, base.image, base.context, args, parent_image=parent)


def stand_in_specs(stack: Stack, upstream_names: Iterable[str], npm_registry: str) -> list[BuildSpec]:
    specs = []
    for image in stack.stand_ins_in_build_order(upstream_names):
        assert image.offline is not None and image.context is not None
        args = {"ROOT_IMAGE": stack.offline_root_image}
        parent = stack.upstream[image.parent].offline if image.parent else stack.offline_root_image
        if image.parent:
            args[f"{image.parent.upper()}_IMAGE"] = parent or ""
        if _dockerfile_uses_arg(image.context, "NPM_REGISTRY"):
            args["NPM_REGISTRY"] = npm_registry
        specs.append(BuildSpec(image.name, image.offline, image.context, args, parent_image=parent, kind="stand-in"))
    return specs


def _dockerfile_uses_arg(context: Path, arg: str) -> bool:
    return re.search(rf"^ARG {arg}\b", (context / "Dockerfile").read_text(), re.MULTILINE) is not None


def upstreams_needed(stack: Stack, specs: Iterable[BaseImage]) -> list[str]:
    """Upstream names the chosen base images and the third-party services start from."""
    names = [u for base in specs for u in base.upstream_args.values()]
    names += [s.upstream for s in stack.services.values() if s.upstream]
    return list(dict.fromkeys(names))


# --- doing --------------------------------------------------------------------------------------------


class Bootstrapper:
    """Builds stand-ins and base images, skipping what is up to date, recording every outcome."""

    def __init__(
        self,
        stack: Stack,
        engine: Engine,
        *,
        ca_bundle: str | None,
        force: bool = False,
        no_cache: bool = False,
        on_line: Callable[[str, str], None] | None = None,
    ) -> None:
        self.stack, self.engine = stack, engine
        self.ca_bundle, self.force, self.no_cache = ca_bundle, force, no_cache
        self.on_line = on_line
        self.records: list[BuildRecord] = []

    @property
    def secrets(self) -> list[str]:
        return [f"id=ca,src={self.ca_bundle}"] if self.ca_bundle else []

    def ensure_offline_root(self) -> BuildRecord:
        """A Debian root image from debootstrap + docker import, made once."""
        image = self.stack.offline_root_image
        started = time.perf_counter()
        wanted = hashlib.sha256(f"{self.stack.offline_suite} minbase".encode()).hexdigest()
        reason = build_reason(self.engine.images.labels(image), wanted, self.force)
        if reason is None:
            return self._record("debian-root", image, "stand-in", "up to date", "unchanged", started, wanted)
        if shutil.which("debootstrap") is None:
            raise SnowstackError("debootstrap is missing: apt-get install debootstrap (needed to make offline base images)")
        mirror = debian_mirror()
        with tempfile.TemporaryDirectory(prefix="snowstack-root-") as root:
            self._line("debian-root", f"debootstrap --variant=minbase {self.stack.offline_suite} ({mirror})")
            result = subprocess.run(
                ["debootstrap", "--variant=minbase", self.stack.offline_suite, root, mirror],
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
                raise SnowstackError(f"debootstrap of {self.stack.offline_suite} failed: {' | '.join(tail)}")
            self.engine.images.import_tarball(
                ["tar", "-C", root, "-c", "."],
                image,
                changes=[f"LABEL {HASH_LABEL}={wanted}", f"LABEL {SOURCE_LABEL}=debootstrap", 'CMD ["bash"]'],
            )
        return self._record("debian-root", image, "stand-in", "built", reason, started, wanted)

    def build(self, spec: BuildSpec) -> BuildRecord:
        started = time.perf_counter()
        parent_id = self.engine.images.id(spec.parent_image) if spec.parent_image else None
        if spec.parent_image and parent_id is None:
            raise SnowstackError(f"{spec.name} builds on {spec.parent_image}, which does not exist: build it first with `invoke bootstrap`")
        if not (spec.context / "Dockerfile").is_file():
            raise SnowstackError(f"{spec.name}: no Dockerfile in {spec.context}")
        wanted = context_hash(spec.context, spec.build_args, parent_id)
        reason = build_reason(self.engine.images.labels(spec.image), wanted, self.force)
        if reason is None:
            return self._record(spec.name, spec.image, spec.kind, "up to date", "unchanged", started, wanted)
        try:
            self.engine.images.build(
                spec.context,
                spec.image,
                build_args=spec.build_args,
                labels={HASH_LABEL: wanted, SOURCE_LABEL: str(spec.context.relative_to(self.stack.root))},
                secrets=self.secrets,
                no_cache=self.no_cache,
                on_line=lambda line: self._line(spec.name, line),
            )
        except SnowstackError:
            self._record(spec.name, spec.image, spec.kind, "failed", reason, started, wanted)
            raise
        return self._record(spec.name, spec.image, spec.kind, "built", reason, started, wanted)

    def _line(self, name: str, line: str) -> None:
        if self.on_line:
            self.on_line(name, line)

    def _record(self, name: str, image: str, kind: str, outcome: str, reason: str, started: float, digest: str) -> BuildRecord:
        record = BuildRecord(
            name=name,
            image=image,
            kind=kind,
            outcome=outcome,
            reason=reason,
            seconds=round(time.perf_counter() - started, 2),
            size_bytes=self.engine.images.size(image) if outcome != "failed" else None,
            context_hash=digest[:12],
            at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        self.records.append(record)
        append_history(self.stack, record)
        return record


def append_history(stack: Stack, record: BuildRecord) -> None:
    append_record(stack.state_dir / HISTORY_FILE, record.__dict__)


def read_history(stack: Stack) -> list[BuildRecord]:
    return [BuildRecord(**entry) for entry in read_records(stack.state_dir / HISTORY_FILE)]


def debian_mirror() -> str:
    """The Debian mirror this host's apt uses (deb822 or one-line sources), else deb.debian.org."""
    candidates: list[str] = []
    sources = Path("/etc/apt/sources.list.d")
    for path in sorted(sources.glob("*.sources")) if sources.is_dir() else []:
        candidates += re.findall(r"^URIs:\s*(\S+)", path.read_text(), re.MULTILINE)
    for path in [Path("/etc/apt/sources.list"), *sorted(sources.glob("*.list"))]:
        if path.is_file():
            candidates += re.findall(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)", path.read_text(), re.MULTILINE)
    for url in candidates:
        if "security" not in url:
            return url
    return "http://deb.debian.org/debian"


def npm_registry() -> str:
    """The npm registry the host's npm uses (respects .npmrc and NPM_CONFIG_REGISTRY)."""
    from_env = os.environ.get("NPM_CONFIG_REGISTRY")
    if from_env:
        return from_env
    if shutil.which("npm"):
        result = subprocess.run(["npm", "config", "get", "registry"], capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.strip().startswith("http"):
            return result.stdout.strip()
    raise SnowstackError("cannot tell which npm registry to use for the offline Node image: set NPM_CONFIG_REGISTRY")


@dataclass(frozen=True)
class BootstrapPlan:
    offline: bool
    gpu: bool
    base: list[BuildSpec]
    stand_ins: list[BuildSpec]


def plan_bootstrap(stack: Stack, *, offline: bool, gpu: bool, only: Iterable[str] | None, registry: str | None) -> BootstrapPlan:
    """Which stand-ins and base images a bootstrap run builds, in order (nothing is built here)."""
    names = list(only) if only else None
    if names and not gpu:
        gpu = any(stack.base_images[n].gpu for n in names if n in stack.base_images)
    base = base_image_specs(stack, names, offline, gpu)
    stand_ins: list[BuildSpec] = []
    if offline:
        chosen = [stack.base_images[spec.name] for spec in base]
        upstream = upstreams_needed(stack, chosen) if names is None else [u for b in chosen for u in b.upstream_args.values()]
        stand_ins = stand_in_specs(stack, upstream, registry or "")
    return BootstrapPlan(offline=offline, gpu=gpu, base=base, stand_ins=stand_ins)


def run_bootstrap(builder: Bootstrapper, plan: BootstrapPlan) -> list[BuildRecord]:
    """Build the plan parent-first; the first failure stops the run (its record is kept)."""
    if plan.stand_ins:
        builder.ensure_offline_root()
    for spec in [*plan.stand_ins, *plan.base]:
        builder.build(spec)
    return builder.records
