"""Errors a user can hit: each carries one actionable line."""

from __future__ import annotations

from collections.abc import Iterable


class SnowstackError(Exception):
    """A failure the user can act on; `str(error)` is the one line to print before exiting non-zero."""


class UnknownNameError(SnowstackError, KeyError):
    """A name given on the command line that the stack does not have; the message lists the valid ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def require_known(kind: str, given: Iterable[str], valid: Iterable[str], flag: str) -> list[str]:
    """`given` unchanged when every name is in `valid`; else one line naming the first unknown and the valid ones."""
    names, known = list(given), list(valid)
    for name in names:
        if name not in known:
            raise UnknownNameError(f"unknown {kind} {name!r} for {flag}: use one of {', '.join(known)}")
    return names


class StackFileError(SnowstackError):
    """The stack description is invalid: names the file, the key and the reason."""

    def __init__(self, path: object, key: str, reason: str) -> None:
        super().__init__(f"{path}: {key}: {reason}")
        self.path = path
        self.key = key
        self.reason = reason


class EngineError(SnowstackError):
    """The Docker engine, buildx or compose failed or is unusable."""

    def __init__(self, message: str, *, log_tail: list[str] | None = None) -> None:
        super().__init__(message)
        self.log_tail = log_tail or []
