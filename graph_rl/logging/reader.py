"""Reading a run's logs back: ``metrics.jsonl`` and ``timing.jsonl`` as records, in the order they were written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["METRICS_FILE", "TIMING_FILE", "read_records", "read_metrics", "cumulative_wall_s"]

METRICS_FILE = "metrics.jsonl"
TIMING_FILE = "timing.jsonl"


def read_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a ``.jsonl`` file; a truncated line (a run killed mid-write) is skipped."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                yield record


def read_metrics(run_dir: str | Path, split: str | None = None) -> list[dict[str, Any]]:
    """Every ``metrics.jsonl`` record of a run (``step``, ``split``, metrics), or those of one ``split``."""
    records = read_records(Path(run_dir) / METRICS_FILE)
    return [r for r in records if split is None or r.get("split") == split]


def cumulative_wall_s(run_dir: str | Path) -> dict[int, float]:
    """Wall seconds of training up to each logged step, summed over the pieces of a resumed run.

    ``timing.jsonl`` restarts its clock in every process; a piece begins with a ``resumed_from_step`` record. The
    time a killed piece spent after its last checkpoint is counted (it was spent), its steps are not repeated.
    """
    wall: dict[int, float] = {}
    offset = last = 0.0
    for record in read_records(Path(run_dir) / TIMING_FILE):
        if "resumed_from_step" in record:
            offset += last
            last = 0.0
            continue
        last = float(record.get("wall_s", last))
        wall[int(record["step"])] = round(offset + last, 3)
    return wall
