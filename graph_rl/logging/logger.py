"""One logger, many sinks: every metric event is built once and fanned out to files, TensorBoard and wandb.

An event is ``(split, step, metrics)``. ``split`` is ``train``, ``test`` or ``learner`` for the deterministic
metrics (they must be identical in two runs with the same seed), or ``timing`` for wall-clock measurements, which
only go to sinks that accept them. ``step`` is always the training env step count.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Protocol

__all__ = ["Logger", "Sink", "Scalar", "DETERMINISTIC_SPLITS", "ALL_SPLITS", "metrics_line", "to_scalar"]

Scalar = float | int | bool | None
DETERMINISTIC_SPLITS = frozenset({"train", "test", "learner"})
ALL_SPLITS = DETERMINISTIC_SPLITS | {"timing"}


class Sink(Protocol):
    """A destination for metric events."""

    splits: frozenset[str]
    """The splits this sink wants; the logger only forwards those."""

    def write(self, split: str, step: int, metrics: Mapping[str, Scalar]) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


def to_scalar(value: object) -> Scalar:
    """A plain Python scalar (numpy and 0-d torch values included); NaN and infinities become None.

    JSON has no NaN, and ``json.dumps`` would write the non-standard token ``NaN``; null keeps the file valid.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    item = getattr(value, "item", None)
    if callable(item):
        value = item()
        if isinstance(value, (bool, int)):
            return value
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def metrics_line(split: str, step: int, metrics: Mapping[str, Scalar]) -> str:
    """One deterministic JSON line: ``step`` and ``split`` first, then the metrics sorted by key.

    Floats are written by ``repr`` (shortest round-trip form), so equal values always give equal bytes.
    """
    record: dict[str, Scalar | str] = {"step": step, "split": split}
    for key in sorted(metrics):
        record[key] = metrics[key]
    return json.dumps(record, separators=(", ", ": "), allow_nan=False) + "\n"


class Logger:
    """Fans events out to sinks; the session and scripts log through this object only."""

    def __init__(self, sinks: Iterable[Sink] = ()) -> None:
        self.sinks: list[Sink] = list(sinks)

    def add(self, sink: Sink) -> None:
        self.sinks.append(sink)

    def log(self, split: str, step: int, metrics: Mapping[str, object]) -> None:
        """Convert values to scalars once and hand the event to every sink that wants ``split``."""
        if split not in ALL_SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {sorted(ALL_SPLITS)}")
        clean = {key: to_scalar(value) for key, value in metrics.items()}
        for sink in self.sinks:
            if split in sink.splits:
                sink.write(split, int(step), clean)

    def flush(self) -> None:
        for sink in self.sinks:
            sink.flush()

    def close(self) -> None:
        """Close every sink, even if one of them fails (the first error is re-raised afterwards)."""
        error: BaseException | None = None
        for sink in self.sinks:
            try:
                sink.close()
            except Exception as err:  # noqa: BLE001 - keep closing the others, then report
                error = error or err
        self.sinks.clear()
        if error is not None:
            raise error

    def __enter__(self) -> Logger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
