"""PNG figures from grouped runs: headline learning curves, session metrics and per-node diagnostics.

Headless by construction (the Agg canvas is used directly, pyplot's global state is never touched), so plotting
works on servers and inside tests, and several figures can be rendered in one process without leaking memory.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from graph_rl.plotting.metrics import KINDS, Run, aggregate, metric_kind, split_metric

__all__ = ["plot_runs", "HEADLINE"]

HEADLINE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("test success", ("success", "success_rate", "is_success")),
    ("test return", ("return", "episode_return", "ep_return")),
)
"""Headline panels: title and accepted names of the session-level test metric, first match wins."""

Spread = Literal["std", "sem", "minmax"]
_STYLES = ("-", "--", ":", "-.")
_KIND_TITLES = {
    "entropy": "entropy and alpha",
    "q": "Q values",
    "loss": "losses",
    "subgoal": "subgoal success",
    "budget": "budget use (actions per activation)",
    "termination": "termination rate",
    "other": "other node metrics",
}


class _Style:
    """Stable colours per group so a group looks the same in every figure."""

    def __init__(self, groups: list[str]) -> None:
        self.colors = {g: f"C{i % 10}" for i, g in enumerate(groups)}


def _new_figure(n_panels: int, panel_size: tuple[float, float], dpi: int) -> tuple[Figure, list[Axes]]:
    cols = min(n_panels, 3)
    rows = -(-n_panels // cols)
    fig = Figure(figsize=(panel_size[0] * cols, panel_size[1] * rows), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(n_panels)]
    return fig, axes


def _draw(ax: Axes, groups: dict[str, list[Run]], key: tuple[str, str], style: _Style, linestyle: str, label: str,
          spread: Spread, smooth: int) -> bool:
    """Draw one series for every group; returns whether anything was drawn."""
    drawn = False
    for group, runs in groups.items():
        curve = aggregate([r.series[key] for r in runs if key in r.series], spread=spread, smooth=smooth)
        if curve.n_runs == 0:
            continue
        color = style.colors[group]
        name = " · ".join(p for p in (group if len(groups) > 1 or not label else "", label) if p)
        ax.plot(curve.steps, curve.mean, color=color, linestyle=linestyle, linewidth=1.4,
                label=f"{name} (n={curve.n_runs})" if curve.n_runs > 1 else name, marker="." if len(curve.steps) < 30 else None)
        if curve.low is not None and curve.high is not None:
            ax.fill_between(curve.steps, curve.low, curve.high, color=color, alpha=0.2, linewidth=0)
        drawn = True
    return drawn


def _finish(ax: Axes, title: str, drawn: bool) -> None:
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("env step")
    ax.grid(alpha=0.3)
    if drawn:
        ax.legend(fontsize=7, loc="best")
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="gray")


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, format="png")
    return path


def _all_keys(groups: dict[str, list[Run]]) -> list[tuple[str, str]]:
    return sorted({key for runs in groups.values() for r in runs for key in r.series})


def _headline(groups: dict[str, list[Run]], style: _Style, out: Path, spread: Spread, smooth: int, dpi: int) -> Path:
    fig, axes = _new_figure(len(HEADLINE), (5.0, 3.6), dpi)
    keys = set(_all_keys(groups))
    for ax, (title, names) in zip(axes, HEADLINE):
        key = next((("test", n) for n in names if ("test", n) in keys), None)
        drawn = key is not None and _draw(ax, groups, key, style, "-", "", spread, smooth)
        _finish(ax, title, drawn)
    return _save(fig, out / "learning_curves.png")


def _session(groups: dict[str, list[Run]], style: _Style, out: Path, spread: Spread, smooth: int, dpi: int) -> Path | None:
    by_metric: dict[str, list[str]] = defaultdict(list)
    for split, name in _all_keys(groups):
        if split_metric(name)[0] is None and split != "learner":
            by_metric[name].append(split)
    if not by_metric:
        return None
    fig, axes = _new_figure(len(by_metric), (4.2, 3.0), dpi)
    for ax, (name, splits) in zip(axes, sorted(by_metric.items())):
        drawn = False
        for i, split in enumerate(sorted(splits, key=lambda s: (s != "test", s))):
            drawn |= _draw(ax, groups, (split, name), style, _STYLES[i % len(_STYLES)], split, spread, smooth)
        _finish(ax, name, drawn)
    return _save(fig, out / "session.png")


def _diagnostics(groups: dict[str, list[Run]], style: _Style, out: Path, spread: Spread, smooth: int, dpi: int) -> list[Path]:
    """One figure per diagnostic kind, one panel per node, one line style per (split, metric)."""
    panels: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for split, name in _all_keys(groups):
        node, _ = split_metric(name)
        if node is not None:
            panels[metric_kind(name)][node].append((split, name))
    written = []
    for kind in [k for k, _ in KINDS] + ["other"]:
        if kind not in panels:
            continue
        nodes = panels[kind]
        fig, axes = _new_figure(len(nodes), (4.6, 3.2), dpi)
        for ax, (node, keys) in zip(axes, sorted(nodes.items())):
            splits = {s for s, _ in keys}
            drawn = False
            for i, (split, name) in enumerate(keys):
                label = split_metric(name)[1] + (f" ({split})" if len(splits) > 1 else "")
                drawn |= _draw(ax, groups, (split, name), style, _STYLES[i % len(_STYLES)], label, spread, smooth)
            _finish(ax, node, drawn)
        fig.suptitle(_KIND_TITLES[kind], fontsize=11)
        written.append(_save(fig, out / f"diag_{re.sub(r'[^a-z0-9_]', '_', kind)}.png"))
    return written


def plot_runs(groups: dict[str, list[Run]], out_dir: str | Path, *, spread: Spread = "std", smooth: int = 1,
              dpi: int = 100) -> list[Path]:
    """Write every figure for ``groups`` (label → runs) into ``out_dir``; returns the PNG paths written.

    Always writes ``learning_curves.png`` (test success and test return vs env step); ``session.png`` and one
    ``diag_<kind>.png`` per diagnostic kind present in the metrics (entropy, q, loss, subgoal, budget,
    termination, other).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    style = _Style(list(groups))
    written = [_headline(groups, style, out, spread, smooth, dpi)]
    session = _session(groups, style, out, spread, smooth, dpi)
    if session is not None:
        written.append(session)
    written.extend(_diagnostics(groups, style, out, spread, smooth, dpi))
    return written
