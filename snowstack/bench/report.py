"""The bench table and the history's plots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from ..report import Status, styled
from .rows import BenchRow, Verdict

PLOTS_FOLDER = "plots"


def describe_change(old: float, delta: float) -> str:
    percent = f" ({delta / old * 100:+.0f}%)" if old > 0 else ""
    colour = "red" if delta > 0.05 * max(old, 0.1) else ("green" if delta < -0.05 * max(old, 0.1) else "dim")
    return f"[{colour}]{delta:+.2f}s{percent}[/]"


def _verdict_cell(verdict: Verdict, limit: float | None, sign: str) -> str:
    if limit is None:
        return ""
    colour = {Verdict.PASS: "green", Verdict.FAIL: "bold red", Verdict.NONE: "dim"}[verdict]
    return f"{sign} {limit:g}s [{colour}]{verdict.value}[/]"


def bench_table(rows: Sequence[BenchRow], compared: Mapping[str, tuple[float, float]] | None = None, title: str = "bench-rebuild") -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("row", "service", "runs", "min", "median", "max", "seed", "goal", "status"):
        table.add_column(column, justify="right" if column in ("runs", "min", "median", "max") else "left")
    if compared is not None:
        table.add_column("vs previous", justify="right")
    table.add_column("detail", overflow="fold")
    for row in rows:
        summary = row.summary
        numbers = [f"{x:.2f}s" for x in (summary.min, summary.median, summary.max)] if summary else ["", "", ""]
        status = Status.FAIL if row.failed else row.status
        cells = [
            row.name,
            row.service,
            str(summary.runs) if summary else "0",
            *numbers,
            _verdict_cell(row.seed_verdict, row.seed, "<"),
            _verdict_cell(row.goal_verdict, row.goal, "≤"),
            styled(status),
        ]
        if compared is not None:
            change = compared.get(row.key)
            cells.append(describe_change(*change) if change else "")
        table.add_row(*cells, row.detail.replace("[", r"\["))
    return table


def plot_history(records: Sequence[Mapping[str, Any]], folder: Path) -> list[Path]:
    """One PNG per row name: the median of each service per run, its min–max band, the seed and goal lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    series: dict[str, dict[str, list[tuple[int, float, float, float]]]] = {}
    limits: dict[str, tuple[float | None, float | None]] = {}
    for index, record in enumerate(records):
        for row in record.get("rows", []):
            if row.get("median") is None:
                continue
            series.setdefault(row["name"], {}).setdefault(row["service"], []).append((index, row["min"], row["median"], row["max"]))
            limits[row["name"]] = (row.get("seed"), row.get("goal"))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, by_service in series.items():
        figure, axes = plt.subplots(figsize=(8, 4.5))
        for service, points in by_service.items():
            xs = [p[0] + 1 for p in points]
            axes.plot(xs, [p[2] for p in points], marker="o", label=f"{service} (median)")
            axes.fill_between(xs, [p[1] for p in points], [p[3] for p in points], alpha=0.2)
        seed, goal = limits[name]
        if seed:
            axes.axhline(seed, color="tab:red", linestyle="--", label=f"seed < {seed:g}s")
        if goal:
            axes.axhline(goal, color="tab:green", linestyle=":", label=f"goal ≤ {goal:g}s")
        axes.set_title(f"{name}: seconds per bench run (band: min–max)")
        axes.set_xlabel("bench run (bench.jsonl line)")
        axes.set_ylabel("seconds")
        axes.set_ylim(bottom=0)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
        path = folder / f"{name}.png"
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)
    return written
