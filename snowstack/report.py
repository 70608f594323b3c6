"""Tables for people (rich) and JSON for machines, from the same facts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


STATUS_STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.SKIP: "dim"}


@dataclass(frozen=True)
class Check:
    """One row of a check table: what was checked, how it went, what was found and how to fix it."""

    name: str
    status: Status
    detail: str
    fix: str = ""
    seconds: float | None = None


def worst(checks: Iterable[Check]) -> Status:
    statuses = {check.status for check in checks}
    for status in (Status.FAIL, Status.WARN, Status.OK):
        if status in statuses:
            return status
    return Status.SKIP


def styled(status: Status) -> str:
    return f"[{STATUS_STYLE[status]}]{status.value}[/]"


def checks_table(title: str, checks: Sequence[Check]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    show_time = any(check.seconds is not None for check in checks)
    if show_time:
        table.add_column("time", justify="right")
    table.add_column("fix", overflow="fold")
    for check in checks:
        row = [check.name, styled(check.status), check.detail]
        if show_time:
            row.append(f"{check.seconds:.2f}s" if check.seconds is not None else "")
        table.add_row(*row, check.fix)
    return table


def to_jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value), indent=2, sort_keys=False)


def print_json(value: Any) -> None:
    # Plain print: rich would wrap long lines and break the JSON.
    print(dumps(value))


class BuildProgress:
    """A live line per running build (its latest log line) and a printed line per finished one."""

    def __init__(self) -> None:
        self._status = console.status("starting")
        self._names: dict[str, float] = {}

    def __enter__(self) -> BuildProgress:
        self._status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._status.__exit__(None, None, None)

    def line(self, name: str, text: str) -> None:
        started = self._names.setdefault(name, time.perf_counter())
        text = text.strip().replace("[", r"\[")
        self._status.update(f"[bold]{name}[/] {time.perf_counter() - started:5.0f}s  [dim]{text[:110]}[/]")


def emit_checks(title: str, checks: Sequence[Check], as_json: bool, **extra: Any) -> Status:
    """Print checks as a table (or JSON with `status` and any extra facts); return the worst status."""
    status = worst(checks)
    if as_json:
        print_json({"checks": checks, "status": status, **extra})
    else:
        table = checks_table(title, checks)
        if "seconds" in extra:
            table.caption = f"total {extra['seconds']:.1f}s"
        console.print(table)
    return status
