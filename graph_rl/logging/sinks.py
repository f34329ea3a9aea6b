"""File, TensorBoard and console sinks.

File sinks open in append mode. On resume the session first calls :func:`truncate_after_step` so that lines
written after the checkpoint by the interrupted run disappear: the resumed run then rebuilds exactly the file an
uninterrupted run would have written. Writes are buffered and flushed once per episode by the session.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from graph_rl.logging.logger import DETERMINISTIC_SPLITS, Scalar, metrics_line

__all__ = ["JsonlSink", "TimingSink", "CsvSink", "TensorBoardSink", "ConsoleSink", "truncate_after_step"]


def truncate_after_step(path: Path, max_step: int) -> int:
    """Drop every record of ``path`` (``.jsonl`` or ``.csv``) logged after ``max_step``; returns lines dropped.

    A torn last line (a killed process) is dropped too. The file is rewritten atomically.
    """
    if not path.is_file():
        return 0
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    is_csv = path.suffix == ".csv"
    kept: list[str] = lines[:1] if is_csv else []
    for line in lines[len(kept) :]:
        if not line.endswith("\n"):
            continue
        try:
            step = int(line.split(",", 1)[0]) if is_csv else int(json.loads(line)["step"])
        except (ValueError, KeyError, TypeError):
            continue
        if step <= max_step:
            kept.append(line)
    dropped = len(lines) - len(kept)
    if dropped:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(kept), encoding="utf-8")
        os.replace(tmp, path)
    return dropped


class JsonlSink:
    """``metrics.jsonl``: the deterministic record of a run (no wall-clock values, byte-stable formatting)."""

    splits = DETERMINISTIC_SPLITS

    def __init__(self, path: Path) -> None:
        self._file = open(path, "a", encoding="utf-8", newline="\n")

    def write(self, split: str, step: int, metrics: Mapping[str, Scalar]) -> None:
        self._file.write(metrics_line(split, step, metrics))

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class TimingSink:
    """``timing.jsonl``: wall-clock seconds since this process started logging, plus whatever timing metrics."""

    splits = frozenset({"timing"})

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self._file = open(path, "a", encoding="utf-8", newline="\n")
        self._clock = clock
        self._start = clock()

    def write(self, split: str, step: int, metrics: Mapping[str, Scalar]) -> None:
        record = {"step": step, "wall_s": round(self._clock() - self._start, 3), **metrics}
        self._file.write(json.dumps(record) + "\n")

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class CsvSink:
    """One CSV per split with fixed columns (``step`` first), for spreadsheets and quick plots."""

    def __init__(self, path: Path, split: str, columns: Sequence[str]) -> None:
        self.splits = frozenset({split})
        self._columns = ("step", *columns)
        new = not path.is_file() or path.stat().st_size == 0
        self._file = open(path, "a", encoding="utf-8", newline="")
        self._writer = csv.writer(self._file, lineterminator="\n")
        if new:
            self._writer.writerow(self._columns)

    def write(self, split: str, step: int, metrics: Mapping[str, Scalar]) -> None:
        row = {"step": step, **metrics}
        self._writer.writerow(["" if row.get(c) is None else repr(row[c]) for c in self._columns])

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class TensorBoardSink:
    """TensorBoard scalars named ``<split>/<metric>`` against the env step.

    ``purge_step`` (the checkpoint step + 1 on resume) makes TensorBoard hide events the interrupted run wrote
    after the checkpoint.
    """

    splits = DETERMINISTIC_SPLITS | {"timing"}

    def __init__(self, log_dir: Path, purge_step: int | None = None) -> None:
        from torch.utils.tensorboard import SummaryWriter  # optional dependency: imported only when enabled

        self._writer = SummaryWriter(log_dir=str(log_dir), purge_step=purge_step)

    def write(self, split: str, step: int, metrics: Mapping[str, Scalar]) -> None:
        for key, value in metrics.items():
            if value is not None:
                self._writer.add_scalar(f"{split}/{key}", float(value), step)

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


class ConsoleSink:
    """One short line per test block, so a run without a progress bar still shows how it is doing."""

    splits = frozenset({"test"})

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write

    def write(self, split: str, step: int, metrics: Mapping[str, Scalar]) -> None:
        parts = [f"step {step:>9,d}  test"]
        for key in ("success", "return", "length"):
            if metrics.get(key) is not None:
                parts.append(f"{key} {metrics[key]:.3g}")
        self._write("  ".join(parts))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass
