"""Small helpers shared by the bench/ scripts: tables, memory, medians, the environment."""

from __future__ import annotations

import os
import platform
import resource
import statistics
from collections.abc import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain aligned text table; numeric columns right-aligned."""
    text_rows = [[_cell(value) for value in row] for row in rows]
    columns = range(len(headers))
    widths = [max([len(headers[i])] + [len(row[i]) for row in text_rows]) for i in columns]
    numeric = [
        any(isinstance(row[i], int | float) for row in rows)
        and all(isinstance(row[i], int | float) or row[i] == "" for row in rows)
        for i in columns
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cells[i].rjust(widths[i]) if numeric[i] else cells[i].ljust(widths[i]) for i in columns
        ).rstrip()

    out = [line(list(headers)), "  ".join("-" * width for width in widths)]
    out.extend(line(row) for row in text_rows)
    return "\n".join(out)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        if abs(value) >= 0.1:
            return f"{value:.2f}"
        return f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (getrusage ru_maxrss), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    return float(statistics.median(values))


def environment() -> str:
    """One line naming the machine: Python, CPU count and the load average."""
    load = os.getloadavg()
    return (
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "(other processes share the CPUs: expect about ±15% noise)"
    )
