"""Errors a user can hit: each carries one actionable line."""

from __future__ import annotations


class SnowstackError(Exception):
    """A failure the user can act on; `str(error)` is the one line to print before exiting non-zero."""


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
