"""What every task shares: turning user-facing errors into one line and a non-zero exit."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from invoke.exceptions import Exit

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
