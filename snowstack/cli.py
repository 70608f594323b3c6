"""What every task shares: turning user-facing errors into one line and a non-zero exit; `TASK ACTION [NAME]` verbs."""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.parser.argument import Argument
from invoke.tasks import Task

from .errors import EngineError, SnowstackError
from .report import err_console

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(body: F) -> F:
    """Print a SnowstackError as one red line (plus the log tail of a failed build) and exit 1."""

    @functools.wraps(body)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return body(*args, **kwargs)
        except SnowstackError as error:
            if isinstance(error, EngineError) and error.log_tail:
                err_console.print("[dim]" + "\n".join(error.log_tail) + "[/]", markup=True, highlight=False)
            err_console.print(f"[bold red]error:[/] {error}", soft_wrap=True)  # one line, however long
            raise Exit(code=1) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]")
            raise Exit(code=130) from None

    return wrapper  # type: ignore[return-value]


def require_extra(module: str, extra: str, what: str) -> None:
    """Stop before any work, in one line naming the extra to install, when an optional dependency is missing."""
    if importlib.util.find_spec(module) is None:
        raise SnowstackError(f"{what} needs {module}, which is not installed: .venv/bin/pip install -e '.[{extra}]'")


def tunable(c: Context, key: str, given: float, flag: str) -> float:
    """A flag's value or, left out (0), the `snowstack.KEY` config (tasks.py's defaults; invoke.yaml overrides them).

    Both must be positive: a bad flag or config value is one line naming where it came from."""
    if given < 0:
        raise SnowstackError(f"{flag} {given:g}: give a positive number (leave it out for the configured default)")
    if given:
        return given
    value: Any = c.config.get("snowstack", {})
    for part in key.split("."):
        value = value.get(part) if hasattr(value, "get") else None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise SnowstackError(
            f"config snowstack.{key} is {value!r} (invoke.yaml, ~/.invoke.yaml or INVOKE_SNOWSTACK_*): give a positive number"
        )
    return value


class VerbTask(Task[Any]):
    """A task invoked as `TASK ACTION [NAME] --flags`, where only the actions in `named` take NAME.

    Invoke makes every positional argument required, so `invoke user list` would need a name. Here NAME is a
    positional whose value reads as "" (given, so not missing) once the parsed ACTION is one that takes none;
    for the others it stays missing until the command line gives it, and invoke's own parser says so.
    """

    def __init__(self, body: Callable[..., Any], *, named: Iterable[str], **kwargs: Any) -> None:
        super().__init__(body, **kwargs)
        self.named = frozenset(named)
        if len(list(self.positional)) != 2:
            raise TypeError(f"{self.name}: a VerbTask takes positional=[ACTION, NAME]")

    def get_arguments(self, ignore_unknown_help: bool | None = None) -> list[Argument]:
        arguments: list[Argument] = super().get_arguments(ignore_unknown_help)
        action_name, name_name = list(self.positional)
        action = next(a for a in arguments if a.name == action_name)
        return [_NameArgument(action, self.named, a) if a.name == name_name else a for a in arguments]


class _NameArgument(Argument):
    """NAME of a VerbTask: "" when its ACTION takes no name, else None until parsed (a deep copy of the parser's
    context copies the ACTION argument with it, so the link holds for every parse)."""

    def __init__(self, action: Argument, named: frozenset[str], original: Argument) -> None:
        super().__init__(names=original.names, kind=original.kind, default=None, help=original.help, positional=True)
        self.action, self.named = action, named

    @property
    def value(self) -> Any:
        if self._value is None and self.action.value is not None and self.action.value not in self.named:
            return ""
        return self._value

    @value.setter
    def value(self, given: Any) -> None:
        self.set_value(given, cast=True)
