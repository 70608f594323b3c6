"""No log line longer than a few kilobytes, whatever a request put into a message or an exception."""

from __future__ import annotations

import logging
import traceback
from typing import Any

MAX_MESSAGE_CHARS = 2000
MAX_TRACEBACK_CHARS = 8000

_installed = False


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… [{len(text) - limit} chars cut]"


def install_log_truncation() -> None:
    """Wrap the process's log record factory once: messages and tracebacks are cut before any handler sees them."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is logging's problem to report, not ours
            return record
        if len(message) > MAX_MESSAGE_CHARS:
            record.msg, record.args = _clip(message, MAX_MESSAGE_CHARS), None
        if record.exc_info and record.exc_info[0] is not None:
            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = _clip(text, MAX_TRACEBACK_CHARS).rstrip("\n")
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
