"""Build contexts: .dockerignore coverage and what each context sends to the engine (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..report import Check, Status
from ..stack import Stack

MB = 1000**2
SERVICE_CONTEXT_BUDGET = 50 * MB
BASE_CONTEXT_BUDGET = 1 * MB
SMALL_FILE_BYTES = 64 * 1024  # a base context of only a Dockerfile and files this small may go without a .dockerignore
SEED_IGNORE_PATTERNS = ("node_modules", "__pycache__", ".git", ".env", "*.log", "data/", "*.pkl")
WEIGHT_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".onnx", ".tflite")
ENV_TEMPLATES = (".env.example", ".env.sample", ".env.template")


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


def build_contexts(stack: Stack) -> list[BuildContext]:
    contexts = [BuildContext(image.name, "base", image.context) for image in stack.base_images.values()]
    contexts += [BuildContext(up.name, "stand-in", up.context) for up in stack.upstream.values() if up.context is not None]
    contexts += [BuildContext(service.name, "service", service.context) for service in stack.services.values() if service.context]
    return contexts
