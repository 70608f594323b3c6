"""Dockerfile rules: syntax line, ignore reasons, stages, runtime build tools, FROM lines (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ..report import Check, Status
from .dockerfile import Dockerfile, build_tools, image_tag, is_pinned, resolve_image, stage_ancestry

STAGES = ("deps", "build", "runtime")


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
