"""The sweep objective: one number per run, read from its ``metrics.jsonl``.

The original averaged *all* logged values of a TensorBoard tag (reference 6.7), which rewards early luck as much
as the final policy. Here the default is the mean over the last K evaluations, and K=0 gives the original's
all-values mean; the run's score is its mean over seeds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Objective", "ObjectiveError"]


class ObjectiveError(RuntimeError):
    """A run logged no value of the objective metric (wrong name, or no evaluation within the budget)."""


@dataclass(frozen=True)
class Objective:
    """Mean of the last ``last_k`` values (all when 0) of ``metric`` on ``split`` lines."""

    split: str = "test"
    metric: str = "success"
    last_k: int = 3

    @classmethod
    def parse(cls, text: str, last_k: int = 3) -> Objective:
        """``'test:success'``, ``'train:return'``, ``'test:hits_0/success_rate'``; no ``SPLIT:`` means test."""
        split, sep, metric = text.partition(":")
        if not sep:
            split, metric = "test", text
        if not split or not metric or last_k < 0:
            raise ValueError(f"objective {text!r}: expected [SPLIT:]METRIC (e.g. test:success) and last_k >= 0")
        return cls(split=split, metric=metric, last_k=last_k)

    def __str__(self) -> str:
        window = "all" if self.last_k == 0 else f"last {self.last_k}"
        return f"{self.split}:{self.metric} ({window})"

    def values(self, run_dir: str | Path) -> list[float]:
        """Every finite logged value, in file order (a truncated line of a killed run is skipped)."""
        out = []
        with open(Path(run_dir) / "metrics.jsonl", encoding="utf-8") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                value = record.get(self.metric)
                if record.get("split") == self.split and isinstance(value, (int, float)) and math.isfinite(value):
                    out.append(float(value))
        return out

    def score(self, run_dir: str | Path) -> float:
        """The run's objective value.

        Raises:
            ObjectiveError: the metric was never logged on this split.
        """
        values = self.values(run_dir)
        if not values:
            raise ObjectiveError(f"{run_dir}: no '{self.metric}' on '{self.split}' lines of metrics.jsonl")
        window = values[-self.last_k :] if self.last_k else values
        return sum(window) / len(window)
