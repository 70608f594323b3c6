"""The model of stack.toml: base images, upstream images, services and performance targets."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import StackFileError, require_known

DEFAULT_STACK_FILE = Path(__file__).resolve().parent.parent / "stack.toml"


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


@dataclass(frozen=True)
class Service:
    """A compose service: where it listens and how to tell it is healthy."""

    name: str
    port: int
    health: str | None = None
    base: str | None = None
    gpu_base: str | None = None
    context: Path | None = None
    upstream: str | None = None
    bench_source: Path | None = None  # a source file `invoke bench-rebuild` edits (and restores) for a code change
    bench_probe: str | None = None  # an HTTP path whose body shows that edit once it is served (dev sync)
    bench_dependency: Path | None = None  # the requirements file the bench adds a pinned package to
    talks_to: tuple[str, ...] = ()  # the services it opens connections to: compose gives each pair a network, no more

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
        """The services whose images we build (the others run an upstream image)."""
        return [name for name, service in self.services.items() if service.built]


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


# --- loading -------------------------------------------------------------------------------------------


class _Reader:
    """Typed access to one TOML table that reports file, key and reason on every mistake."""

    def __init__(self, path: Path, prefix: str, table: Any) -> None:
        if not isinstance(table, dict):
            raise StackFileError(path, prefix, f"must be a table, got {type(table).__name__}")
        self.path, self.prefix, self.table = path, prefix, table

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, reason: str) -> StackFileError:
        return StackFileError(self.path, self.key(name), reason)

    def get(self, name: str, kind: type | tuple[type, ...], *, required: bool = True, default: Any = None) -> Any:
        if name not in self.table:
            if required:
                raise self.fail(name, "is required")
            return default
        value = self.table[name]
        # bool is an int in Python; a port of `true` is a mistake, not 1.
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.fail(name, f"must be {_kind_name(kind)}, got a boolean")
        if not isinstance(value, kind):
            raise self.fail(name, f"must be {_kind_name(kind)}, got {type(value).__name__} {value!r}")
        return value

    def text(self, name: str, *, required: bool = True) -> Any:
        value = self.get(name, str, required=required)
        if value is not None and not value.strip():
            raise self.fail(name, "must not be empty")
        return value

    def sub(self, name: str, *, required: bool = True) -> _Reader:
        return _Reader(self.path, self.key(name), self.get(name, dict, required=required, default={}))

    def check_keys(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.table) - allowed)
        if unknown:
            raise self.fail(unknown[0], f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def load_stack(path: Path | str = DEFAULT_STACK_FILE) -> Stack:
    """Read and validate a stack description; raises StackFileError naming the file, key and reason."""
    path = Path(path).resolve()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StackFileError(path, "(file)", "does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise StackFileError(path, "(syntax)", str(error)) from None
    root = path.parent
    doc = _Reader(path, "", data)
    doc.check_keys({"project", "base_images", "upstream", "services", "targets", "offline"})

    project = doc.sub("project")
    project.check_keys({"name", "compose_file", "network", "state_dir"})
    offline = doc.sub("offline")
    offline.check_keys({"root_image", "suite"})

    upstream = _load_upstream(root, doc.sub("upstream", required=False))
    base_images = _load_base_images(root, doc.sub("base_images"), upstream)
    services = _load_services(root, doc.sub("services"), base_images, upstream)
    targets = _load_targets(doc.sub("targets", required=False))

    return Stack(
        root=root,
        name=project.text("name"),
        compose_file=root / project.text("compose_file"),
        network=project.text("network"),
        state_dir=root / project.text("state_dir"),
        base_images=base_images,
        upstream=upstream,
        services=services,
        targets=targets,
        offline_root_image=offline.text("root_image"),
        offline_suite=offline.text("suite"),
    )


def _folder(root: Path, reader: _Reader, name: str) -> Path:
    folder: Path = root / reader.text(name)
    if not folder.is_dir():
        raise reader.fail(name, f"folder {folder} does not exist")
    return folder


def _load_upstream(root: Path, table: _Reader) -> dict[str, UpstreamImage]:
    result = {}
    for name in table.table:
        entry = table.sub(name)
        entry.check_keys({"official", "offline", "context", "parent"})
        context = entry.text("context", required=False)
        result[name] = UpstreamImage(
            name=name,
            official=_pinned(entry, "official"),
            offline=entry.text("offline", required=False),
            context=_folder(root, entry, "context") if context else None,
            parent=entry.text("parent", required=False),
        )
        if (result[name].offline is None) != (context is None):
            raise entry.fail("offline", "an offline stand-in needs both `offline` (its image) and `context`")
    for name, image in result.items():
        if image.parent is not None and (image.parent not in result or result[image.parent].offline is None):
            raise StackFileError(
                table.path, f"upstream.{name}.parent", f"names {image.parent!r}, which is not an upstream image with a stand-in"
            )
    return result


def _pinned(reader: _Reader, name: str) -> str:
    image = str(reader.text(name))
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    if not tag or tag == "latest":
        raise reader.fail(name, f"{image!r} must be pinned to a version tag (not latest)")
    return image


def _load_base_images(root: Path, table: _Reader, upstream: Mapping[str, UpstreamImage]) -> dict[str, BaseImage]:
    result: dict[str, BaseImage] = {}
    for name in table.table:
        entry = table.sub(name)
        entry.check_keys({"image", "context", "parent", "gpu", "upstream"})
        upstream_args = entry.sub("upstream", required=False)
        for arg, ref in upstream_args.table.items():
            if ref not in upstream:
                raise upstream_args.fail(arg, f"names upstream image {ref!r}, which [upstream] does not define")
        result[name] = BaseImage(
            name=name,
            image=entry.text("image"),
            context=_folder(root, entry, "context"),
            parent=entry.text("parent", required=False),
            gpu=entry.get("gpu", bool, required=False, default=False),
            upstream_args=dict(upstream_args.table),
        )
    for name, image in result.items():
        if image.parent is not None and image.parent not in result:
            raise StackFileError(table.path, f"base_images.{name}.parent", f"names {image.parent!r}, which is not a base image")
    _reject_cycles(table, result)
    return result


def _reject_cycles(table: _Reader, images: Mapping[str, BaseImage]) -> None:
    for start in images:
        seen = [start]
        current = images[start].parent
        while current is not None:
            if current in seen:
                cycle = " -> ".join([*seen[seen.index(current) :], current])
                raise StackFileError(table.path, f"base_images.{start}.parent", f"parents form a cycle: {cycle}")
            seen.append(current)
            current = images[current].parent


def _load_services(
    root: Path, table: _Reader, base_images: Mapping[str, BaseImage], upstream: Mapping[str, UpstreamImage]
) -> dict[str, Service]:
    result = {}
    ports: dict[int, str] = {}
    for name in table.table:
        entry = table.sub(name)
        entry.check_keys(
            {"port", "health", "base", "gpu_base", "context", "upstream", "bench_source", "bench_probe", "bench_dependency", "talks_to"}
        )
        port = entry.get("port", int)
        if not 1 <= port <= 65535:
            raise entry.fail("port", f"{port} is not a TCP port (1-65535)")
        if port in ports:
            raise entry.fail("port", f"{port} is already used by service {ports[port]!r}")
        ports[port] = name
        health = entry.text("health", required=False)
        if health is not None and not health.startswith("/"):
            raise entry.fail("health", f"{health!r} must be an HTTP path starting with '/'")
        for key in ("base", "gpu_base"):
            ref = entry.text(key, required=False)
            if ref is not None and ref not in base_images:
                raise entry.fail(key, f"names {ref!r}, which is not a base image")
        ref = entry.text("upstream", required=False)
        if ref is not None and ref not in upstream:
            raise entry.fail("upstream", f"names {ref!r}, which [upstream] does not define")
        context = entry.text("context", required=False)
        if (context is None) == (ref is None):
            raise entry.fail("context", "a service is either built (`context`) or runs an `upstream` image, not both or neither")
        result[name] = Service(
            name=name,
            port=port,
            health=health,
            base=entry.text("base", required=False),
            gpu_base=entry.text("gpu_base", required=False),
            context=_folder(root, entry, "context") if context else None,
            upstream=ref,
            bench_source=_bench_file(root, entry, "bench_source", context),
            bench_probe=_http_path(entry, "bench_probe"),
            bench_dependency=_bench_file(root, entry, "bench_dependency", context),
            talks_to=_talks_to(entry, name, set(table.table)),
        )
    return result


def _talks_to(entry: _Reader, name: str, services: set[str]) -> tuple[str, ...]:
    callees = entry.get("talks_to", list, required=False, default=[])
    for callee in callees:
        if callee not in services or callee == name:
            raise entry.fail("talks_to", f"names {callee!r}, which is not another service of this stack")
    return tuple(callees)


def _bench_file(root: Path, entry: _Reader, name: str, context: str | None) -> Path | None:
    """A file inside the service's build context, named relative to that context."""
    relative = entry.text(name, required=False)
    if relative is None:
        return None
    if context is None:
        raise entry.fail(name, "only a built service (one with `context`) has source files to edit")
    path: Path = root / context / relative
    if not path.is_file():
        raise entry.fail(name, f"file {path} does not exist")
    return path


def _http_path(entry: _Reader, name: str) -> str | None:
    path: str | None = entry.text(name, required=False)
    if path is not None and not path.startswith("/"):
        raise entry.fail(name, f"{path!r} must be an HTTP path starting with '/'")
    return path


def _load_targets(table: _Reader) -> dict[str, Target]:
    result = {}
    for name in table.table:
        entry = table.sub(name)
        entry.check_keys({"seed", "goal"})
        values = {}
        for key in ("seed", "goal"):
            value = entry.get(key, (int, float), required=False)
            if value is not None and value <= 0:
                raise entry.fail(key, f"must be a positive number of seconds, got {value}")
            values[key] = float(value) if value is not None else None
        if values["seed"] is None and values["goal"] is None:
            raise entry.fail("seed", "a target needs `seed`, `goal` or both")
        result[name] = Target(name=name, **values)
    return result
