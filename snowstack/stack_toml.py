"""Reading stack.toml: pydantic models of the file as written, the checks between its tables, and the
first problem as one line naming the file, the dotted key and the reason; `load_stack` turns a valid file
into the model in stack.py (what every other module uses).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Self, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator

from .errors import StackFileError
from .stack import ROLES, SINGLE_ROLES, BaseImage, Service, Stack, Target, UpstreamImage

DEFAULT_STACK_FILE = Path(__file__).resolve().parent.parent / "stack.toml"


class _Problem(ValueError):
    """A rule a model checks about one of its keys: `key` is relative to the model that raises it."""

    def __init__(self, key: tuple[str, ...], reason: str) -> None:
        super().__init__(reason)
        self.key, self.reason = key, reason


def _root(info: ValidationInfo) -> Path:
    root: Path = info.context["root"] if info.context else Path()
    return root


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _http_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"{value!r} must be an HTTP path starting with '/'")
    return value


def _folder(value: str, info: ValidationInfo) -> str:
    if not (_root(info) / value).is_dir():
        raise ValueError(f"folder {_root(info) / value} does not exist")
    return value


def _pinned(value: str) -> str:
    tag = value.rsplit("/", 1)[-1].partition(":")[2]
    if not tag or tag == "latest":
        raise ValueError(f"{value!r} must be pinned to a version tag (not latest)")
    return value


def _tcp_port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError(f"{value} is not a TCP port (1-65535)")
    return value


def _seconds(value: float) -> float:
    if value <= 0:
        raise ValueError(f"must be a positive number of seconds, got {value:g}")
    return value


_Text = Annotated[str, AfterValidator(_non_empty)]
_HttpPath = Annotated[_Text, AfterValidator(_http_path)]
_Folder = Annotated[_Text, AfterValidator(_folder)]
_Seconds = Annotated[float, AfterValidator(_seconds)]


class _Table(BaseModel):
    # strict: a port of "8080" or `true` is a mistake, not 8080 or 1.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Project(_Table):
    name: _Text
    compose_file: _Text
    network: _Text
    state_dir: _Text


class _Offline(_Table):
    root_image: _Text
    suite: _Text


class _Upstream(_Table):
    official: Annotated[_Text, AfterValidator(_pinned)]
    offline: _Text | None = None
    context: _Folder | None = None
    parent: _Text | None = None

    @model_validator(mode="after")
    def _stand_in_is_whole(self) -> Self:
        if (self.offline is None) != (self.context is None):
            raise _Problem(("offline",), "an offline stand-in needs both `offline` (its image) and `context`")
        return self


class _BaseImage(_Table):
    image: _Text
    context: _Folder
    parent: _Text | None = None
    gpu: bool = False
    upstream: dict[str, str] = {}  # build ARG -> upstream name


class _Service(_Table):
    port: Annotated[int, AfterValidator(_tcp_port)] | None = None
    health: _HttpPath | None = None
    base: _Text | None = None
    gpu_base: _Text | None = None
    context: _Folder | None = None
    upstream: _Text | None = None
    bench_source: _Text | None = None
    bench_probe: _HttpPath | None = None
    bench_dependency: _Text | None = None
    talks_to: list[str] = []
    roles: list[str] = []
    image_of: _Text | None = None

    @model_validator(mode="after")
    def _built_or_upstream(self, info: ValidationInfo) -> Self:
        if sum(key is not None for key in (self.context, self.upstream, self.image_of)) != 1:
            raise _Problem(
                ("context",),
                "a service is built (`context`), runs an `upstream` image or runs another service's image (`image_of`): exactly one",
            )
        for role in self.roles:
            if role not in ROLES:
                raise _Problem(("roles",), f"unknown role {role!r} (known: {', '.join(ROLES)})")
        if self.port is None and "worker" not in self.roles:
            raise _Problem(("port",), "is required (only a service with the `worker` role listens on nothing)")
        for key in ("bench_source", "bench_dependency"):
            relative = getattr(self, key)
            if relative is None:
                continue
            if self.context is None:
                raise _Problem((key,), "only a built service (one with `context`) has source files to edit")
            path = _root(info) / self.context / relative
            if not path.is_file():
                raise _Problem((key,), f"file {path} does not exist")
        return self


class _Target(_Table):
    seed: _Seconds | None = None
    goal: _Seconds | None = None

    @model_validator(mode="after")
    def _has_a_value(self) -> Self:
        if self.seed is None and self.goal is None:
            raise _Problem(("seed",), "a target needs `seed`, `goal` or both")
        return self


class _StackFile(_Table):
    """stack.toml as written; the checks between tables (names that must exist, cycles, shared ports) run last."""

    project: _Project
    offline: _Offline
    base_images: dict[str, _BaseImage]
    services: dict[str, _Service]
    upstream: dict[str, _Upstream] = {}
    targets: dict[str, _Target] = {}

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        for name, image in self.upstream.items():
            if image.parent is not None and (image.parent not in self.upstream or self.upstream[image.parent].offline is None):
                raise _Problem(("upstream", name, "parent"), f"names {image.parent!r}, which is not an upstream image with a stand-in")
        for name, base in self.base_images.items():
            for arg, ref in base.upstream.items():
                if ref not in self.upstream:
                    raise _Problem(
                        ("base_images", name, "upstream", arg), f"names upstream image {ref!r}, which [upstream] does not define"
                    )
            if base.parent is not None and base.parent not in self.base_images:
                raise _Problem(("base_images", name, "parent"), f"names {base.parent!r}, which is not a base image")
        for start in self.base_images:
            seen, current = [start], self.base_images[start].parent
            while current is not None:
                if current in seen:
                    cycle = " -> ".join([*seen[seen.index(current) :], current])
                    raise _Problem(("base_images", start, "parent"), f"parents form a cycle: {cycle}")
                seen.append(current)
                current = self.base_images[current].parent
        holders: dict[str, str] = {}
        for name, service in self.services.items():
            for role in service.roles:
                if role in SINGLE_ROLES and role in holders:
                    raise _Problem(
                        ("services", name, "roles"), f"{role!r} is already held by service {holders[role]!r}: one service per role"
                    )
                holders.setdefault(role, name)
        ports: dict[int, str] = {}
        for name, service in self.services.items():
            if service.port is not None and service.port in ports:
                raise _Problem(("services", name, "port"), f"{service.port} is already used by service {ports[service.port]!r}")
            if service.port is not None:
                ports[service.port] = name
            if service.image_of is not None and (service.image_of not in self.services or self.services[service.image_of].context is None):
                raise _Problem(("services", name, "image_of"), f"names {service.image_of!r}, which is not a service this stack builds")
            for key in ("base", "gpu_base"):
                ref = getattr(service, key)
                if ref is not None and ref not in self.base_images:
                    raise _Problem(("services", name, key), f"names {ref!r}, which is not a base image")
            if service.upstream is not None and service.upstream not in self.upstream:
                raise _Problem(("services", name, "upstream"), f"names {service.upstream!r}, which [upstream] does not define")
            for callee in service.talks_to:
                if callee not in self.services or callee == name:
                    raise _Problem(("services", name, "talks_to"), f"names {callee!r}, which is not another service of this stack")
        return self


_KINDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
}


def _first_problem(path: Path, error: ValidationError) -> StackFileError:
    """The first problem pydantic found, as one line naming the file, the dotted key and the reason."""
    # A misspelt key also makes the real one missing: name the misspelling.
    details = sorted(error.errors(include_url=False), key=lambda detail: detail["type"] != "extra_forbidden")
    first = details[0]
    loc = tuple(str(part) for part in first["loc"])
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, _Problem):
        loc, reason = loc + cause.key, cause.reason
    elif isinstance(cause, ValueError):
        reason = str(cause)
    elif first["type"] == "missing":
        reason = "is required"
    elif first["type"] == "extra_forbidden":
        reason = f"unknown key (allowed: {', '.join(sorted(_table_at(loc[:-1]).model_fields))})"
    elif first["type"] in _KINDS:
        value = first["input"]
        got = "a boolean" if isinstance(value, bool) else f"{type(value).__name__} {value!r}"
        reason = f"must be {_KINDS[first['type']]}, got {got}"
    else:
        reason = first["msg"]
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return StackFileError(path, ".".join(loc), reason + more)


def _table_at(loc: tuple[str, ...]) -> type[BaseModel]:
    kind: Any = _StackFile
    for part in loc:
        is_model = isinstance(kind, type) and issubclass(kind, BaseModel)
        kind = kind.model_fields[part].annotation if is_model else get_args(kind)[-1]  # dict[str, X]: X
    table: type[BaseModel] = kind
    return table


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
    try:
        file = _StackFile.model_validate(data, context={"root": root})
    except ValidationError as error:
        raise _first_problem(path, error) from None

    def folder(relative: str | None) -> Path | None:
        return root / relative if relative is not None else None

    def in_context(service: _Service, relative: str | None) -> Path | None:
        return root / service.context / relative if service.context is not None and relative is not None else None

    return Stack(
        root=root,
        name=file.project.name,
        compose_file=root / file.project.compose_file,
        network=file.project.network,
        state_dir=root / file.project.state_dir,
        base_images={
            name: BaseImage(name, b.image, root / b.context, b.parent, b.gpu, dict(b.upstream)) for name, b in file.base_images.items()
        },
        upstream={name: UpstreamImage(name, u.official, u.offline, folder(u.context), u.parent) for name, u in file.upstream.items()},
        services={
            name: Service(
                name=name,
                port=s.port,
                health=s.health,
                base=s.base,
                gpu_base=s.gpu_base,
                context=folder(s.context),
                upstream=s.upstream,
                bench_source=in_context(s, s.bench_source),
                bench_probe=s.bench_probe,
                bench_dependency=in_context(s, s.bench_dependency),
                talks_to=tuple(s.talks_to),
                roles=tuple(s.roles),
                image_of=s.image_of,
            )
            for name, s in file.services.items()
        },
        targets={name: Target(name, t.seed, t.goal) for name, t in file.targets.items()},
        offline_root_image=file.offline.root_image,
        offline_suite=file.offline.suite,
    )
