"""Reading run directories (``metrics.jsonl`` + ``config.json``) into series, grouping runs, aggregating seeds.

The metric vocabulary is open: every numeric key of every line becomes a series keyed by ``(split, name)``,
so new metrics (a node's ``termination_rate``, a learner's new stat) show up in the plots without code changes.
Node metrics are ``"<node>/<metric>"``; the node is everything before the last ``/``.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from graph_rl.logging.reader import METRICS_FILE, read_records

__all__ = [
    "Run",
    "Series",
    "Curve",
    "load_run",
    "load_benchmark",
    "find_run_dirs",
    "group_runs",
    "aggregate",
    "split_metric",
    "metric_kind",
    "KINDS",
]

Series = tuple[np.ndarray, np.ndarray]
"""(steps, values), both 1-D and sorted by step."""

CONFIG_FILE = "config.json"

KINDS: tuple[tuple[str, str], ...] = (
    ("entropy", r"entropy|alpha"),
    ("q", r"(^|_)q(_|$)|q_value"),
    ("loss", r"loss"),
    ("subgoal", r"subgoal|success"),
    ("budget", r"n_actions|budget"),
    ("termination", r"terminat"),
)
"""Diagnostic kinds, in plotting order: (kind, regex on the metric's last path component). Others go to 'other'."""


@dataclass
class Run:
    """One training run: its directory, resolved config and every numeric series it logged."""

    path: Path
    config: dict[str, Any]
    series: dict[tuple[str, str], Series] = field(default_factory=dict)


@dataclass
class Curve:
    """A group's aggregate of one series: mean and a spread band over runs (band is None for a single run)."""

    steps: np.ndarray
    mean: np.ndarray
    low: np.ndarray | None
    high: np.ndarray | None
    n_runs: int


def split_metric(name: str) -> tuple[str | None, str]:
    """``'hits_node_0/subgoal_success'`` → ``('hits_node_0', 'subgoal_success')``; session metrics have no node."""
    node, sep, metric = name.rpartition("/")
    return (node, metric) if sep else (None, name)


def metric_kind(name: str) -> str:
    """The diagnostic kind of a metric (see KINDS), 'other' if none matches."""
    metric = split_metric(name)[1].lower()
    for kind, pattern in KINDS:
        if re.search(pattern, metric):
            return kind
    return "other"


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def load_run(run_dir: str | Path) -> Run:
    """Parse ``run_dir/metrics.jsonl`` (a truncated last line from a killed run is skipped) and its config.

    Raises:
        FileNotFoundError: ``run_dir`` has no metrics file.
    """
    path = Path(run_dir)
    raw: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    for record in read_records(path / METRICS_FILE):
        step, split = record.get("step"), record.get("split", "train")
        if not isinstance(step, (int, float)) or isinstance(step, bool):
            continue
        for key, value in record.items():
            number = _as_number(value)
            if key not in ("step", "split") and number is not None:
                raw[(str(split), key)].append((int(step), number))
    config_path = path / CONFIG_FILE
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    series: dict[tuple[str, str], Series] = {}
    for series_key, points in raw.items():
        arr = np.asarray(points, dtype=np.float64)
        order = np.argsort(arr[:, 0], kind="stable")
        series[series_key] = (arr[order, 0], arr[order, 1])
    return Run(path=path, config=config, series=series)


def load_benchmark(path: str | Path) -> list[Run]:
    """The runs of a ``benchmarks/learning.py`` JSON report, one per seed: test success, return and length per test
    evaluation, and under ``train`` the means of the metrics logged since the previous one.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a learning-benchmark report.
    """
    path = Path(path)
    report = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(report, dict) or not isinstance(report.get("runs"), list):
        raise ValueError(f"{path}: not a benchmarks/learning.py report (no 'runs' list)")
    config = {k: report.get(k) for k in ("env", "algo", "overrides")}
    runs = []
    for entry in report["runs"]:
        raw: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
        for point in entry.get("curve", []):
            step = int(point["step"])
            for key in ("success", "return", "length"):
                number = _as_number(point.get(key))
                if number is not None:
                    raw[("test", key)].append((step, number))
            for key, value in point.get("train", {}).items():
                number = _as_number(value)
                if number is not None:
                    raw[("train", key)].append((step, number))
        series = {
            key: (np.array([p[0] for p in pts], np.float64), np.array([p[1] for p in pts], np.float64))
            for key, pts in raw.items()
        }
        runs.append(Run(path=path, config={**config, "seed": entry.get("seed")}, series=series))
    return runs


def find_run_dirs(paths: Iterable[str | Path]) -> list[Path]:
    """Run directories among ``paths``: a directory with a metrics file, or every such directory below one."""
    found: list[Path] = []
    for p in map(Path, paths):
        if (p / METRICS_FILE).is_file():
            found.append(p)
        elif p.is_dir():
            found.extend(sorted(m.parent for m in p.rglob(METRICS_FILE)))
        else:
            raise FileNotFoundError(f"{p}: not a run directory (no {METRICS_FILE}) and not a folder of runs")
    return list(dict.fromkeys(found))


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(data, list) and any(isinstance(v, (dict, list)) for v in data):
        out = {}
        for i, value in enumerate(data):
            out.update(_flatten(value, f"{prefix}[{i}]"))
        return out
    return {prefix: data}


def _is_run_specific(key: str) -> bool:
    """Config entries that differ between seeds of one experiment and must not split a group."""
    last = re.split(r"[.\[]", key)[-1].lower()
    return last == "seed" or "dir" in last or "path" in last or last in ("run_id", "name")


def _short_names(keys: list[str]) -> dict[str, str]:
    """The shortest distinguishing suffix of each key for labels (``alpha``; ``[1].alpha`` for ``...[1].x.alpha``)."""
    parts = {k: re.findall(r"[^.\[]+|\[\d+\]", k) for k in keys}
    short = {}
    for key, comps in parts.items():
        for n in range(1, len(comps) + 1):
            suffix = comps[-n:]
            if all(other == key or parts[other][-n:] != suffix for other in keys):
                break
        short[key] = ".".join(suffix if len(suffix) <= 2 else [suffix[0], suffix[-1]]).replace(".[", "[")
    return short


def group_runs(runs: list[Run], by: Literal["config", "parent", "run"] = "config") -> dict[str, list[Run]]:
    """Group runs that are seeds of one experiment, labelled by what distinguishes the groups.

    ``config``: identical config apart from seed/paths; labels list the differing entries (``alpha=0.1``).
    ``parent``: same parent folder (``runs/HiTS/seed_*``); ``run``: every run alone.
    """
    if by == "run":
        return {str(r.path): [r] for r in runs}
    if by == "parent":
        groups: dict[str, list[Run]] = defaultdict(list)
        for r in runs:
            groups[r.path.parent.name or str(r.path.parent)].append(r)
        return dict(groups)
    flat = [{k: v for k, v in _flatten(r.config).items() if not _is_run_specific(k)} for r in runs]
    keyed: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(flat):
        keyed[json.dumps(f, sort_keys=True, default=str)].append(i)
    members = list(keyed.values())
    if len(members) == 1:
        first = flat[members[0][0]]
        label = " ".join(str(first[k]) for k in ("env", "algo") if k in first) or runs[0].path.parent.name or "runs"
        return {label: runs}
    keys = sorted({k for f in flat for k in f})
    varying = [k for k in keys if len({json.dumps(flat[m[0]].get(k), default=str) for m in members}) > 1]
    short = _short_names(varying[:3])
    out: dict[str, list[Run]] = {}
    for m in members:
        label = ", ".join(f"{short[k]}={flat[m[0]].get(k)}" for k in varying[:3]) or str(runs[m[0]].path)
        out[label if label not in out else f"{label} ({runs[m[0]].path})"] = [runs[i] for i in m]
    return out


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(values) < 2:
        return values
    window = min(window, len(values))
    csum = np.cumsum(np.insert(values, 0, 0.0))
    out = np.empty_like(values)
    out[window - 1 :] = (csum[window:] - csum[:-window]) / window
    out[: window - 1] = csum[1:window] / np.arange(1, window)
    return out


def aggregate(
    series: list[Series], spread: Literal["std", "sem", "minmax"] = "std", smooth: int = 1, max_points: int = 2000
) -> Curve:
    """Mean and spread of several runs' series on a common step grid.

    Runs evaluate at different env steps (episodes differ in length), so each run is linearly interpolated onto
    the union of steps where all runs have data; ``smooth`` is a trailing moving average over each run's points.
    """
    series = [(s, _smooth(v, smooth)) for s, v in series if len(s)]
    if not series:
        empty = np.zeros(0)
        return Curve(empty, empty, None, None, 0)
    if len(series) == 1:
        steps, values = series[0]
        return Curve(steps, values, None, None, 1)
    start, stop = max(s[0] for s, _ in series), min(s[-1] for s, _ in series)
    grid = np.unique(np.concatenate([s for s, _ in series]))
    grid = grid[(grid >= start) & (grid <= stop)] if start <= stop else grid
    if len(grid) > max_points:
        grid = np.linspace(grid[0], grid[-1], max_points)
    stacked = np.stack([np.interp(grid, s, v, left=np.nan, right=np.nan) for s, v in series])
    with np.errstate(all="ignore"):
        mean = np.nanmean(stacked, axis=0)
        if spread == "minmax":
            low, high = np.nanmin(stacked, axis=0), np.nanmax(stacked, axis=0)
        else:
            dev = np.nanstd(stacked, axis=0)
            if spread == "sem":
                dev = dev / np.sqrt(np.sum(~np.isnan(stacked), axis=0))
            low, high = mean - dev, mean + dev
    return Curve(grid, mean, low, high, len(series))
