"""The Dockerfile model: instructions (BuildKit's parser), stages, FROM/ARG resolution and installed packages (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import SnowstackError

BUILD_TOOLS = re.compile(r"^(build-essential|build-base|gcc(-\d+)?|g\+\+(-\d+)?|make|cmake|clang(-\d+)?|cpp(-\d+)?|libc6?-dev)$")


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
    """Comments, global ARGs with defaults, stages with their instructions and line numbers.

    The instructions come from BuildKit's own parser (the `dockerfile` package): continuation lines, `# escape=`
    and heredocs (`RUN <<EOT … EOT`) read exactly as `docker build` reads them. A heredoc's lines join the
    instruction's value as `;`-separated commands, so the package rules see what a heredoc installs."""
    import dockerfile as buildkit

    try:
        commands = buildkit.parse_string(text)
    except buildkit.GoParseError as error:
        raise SnowstackError(f"{path}: {error}: fix the Dockerfile until `docker build` parses it") from None
    instructions: list[Instruction] = []
    in_heredoc: set[int] = set()
    for command in commands:
        original = command.original.split(None, 1)
        value = original[1] if len(original) > 1 else ""
        if command.heredocs:
            in_heredoc.update(range(command.start_line + 1, command.end_line + 1))
            value = " ; ".join(line.strip() for line in value.splitlines() if line.strip())
        instructions.append(Instruction(line=command.start_line, keyword=command.cmd.upper(), value=" ".join(value.split())))
    comments = [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip().startswith("#") and number not in in_heredoc
    ]

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
