"""One polling loop for the whole-stack tests: ask until an answer is truthy, or fail saying what never happened.

Each caller passes `every_s` itself: how often to ask is part of what a test means (0.02 s to time a
cancellation, 1 s to follow a job through a minute of Swarm rescheduling), so there is no default to drift.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(what: str, condition: Callable[[], T], timeout_s: float, *, every_s: float) -> T:
    """The first truthy value of `condition()`, asked every `every_s` seconds; an AssertionError naming `what`
    after `timeout_s` (the condition is always asked once more at the deadline, however slow the last sleep)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:.0f} s"
        time.sleep(every_s)
