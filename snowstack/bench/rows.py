"""One measured row: its samples, statistics and verdicts against stack.toml's targets."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ..report import Status
from ..stack import Target


@dataclass(frozen=True)
class Summary:
    runs: int
    min: float
    median: float
    max: float


def summarize(samples: Sequence[float]) -> Summary | None:
    if not samples:
        return None
    return Summary(len(samples), min(samples), statistics.median(samples), max(samples))


class Verdict(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    NONE = "-"


def seed_verdict(median: float | None, limit: float | None) -> Verdict:
    """The seed's requirement is a strict upper bound (`< 30 s`)."""
    if median is None or limit is None:
        return Verdict.NONE
    return Verdict.PASS if median < limit else Verdict.FAIL


def goal_verdict(median: float | None, limit: float | None) -> Verdict:
    """Our goals are inclusive (`≤ 3 s median`)."""
    if median is None or limit is None:
        return Verdict.NONE
    return Verdict.PASS if median <= limit else Verdict.FAIL


@dataclass(frozen=True)
class BenchRow:
    """One measured thing: its samples, the targets it is held to, and what the build analysis found."""

    name: str
    service: str
    samples: tuple[float, ...]
    seed: float | None
    goal: float | None
    status: Status
    detail: str = ""
    problems: tuple[str, ...] = ()

    @property
    def summary(self) -> Summary | None:
        return summarize(self.samples)

    @property
    def seed_verdict(self) -> Verdict:
        summary = self.summary
        return seed_verdict(summary.median if summary else None, self.seed)

    @property
    def goal_verdict(self) -> Verdict:
        summary = self.summary
        return goal_verdict(summary.median if summary else None, self.goal)

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL or Verdict.FAIL in (self.seed_verdict, self.goal_verdict)

    @property
    def key(self) -> str:
        return f"{self.name}/{self.service}"


def measured_row(
    name: str, service: str, samples: Sequence[float], targets: Mapping[str, Target], problems: Sequence[str] = (), detail: str = ""
) -> BenchRow:
    target = targets.get(name)
    problems = list(dict.fromkeys(problems))
    return BenchRow(
        name=name,
        service=service,
        samples=tuple(round(s, 3) for s in samples),
        seed=target.seed if target else None,
        goal=target.goal if target else None,
        status=Status.FAIL if problems or not samples else Status.OK,
        detail="; ".join(problems) if problems else detail,
        problems=tuple(problems),
    )


def skipped_row(name: str, service: str, reason: str, targets: Mapping[str, Target]) -> BenchRow:
    target = targets.get(name)
    return BenchRow(name, service, (), target.seed if target else None, target.goal if target else None, Status.SKIP, reason)
