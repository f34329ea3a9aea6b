"""PNG figures from grouped runs: headline learning curves, session metrics and per-node diagnostics.

Headless by construction (the Agg canvas is used directly, pyplot's global state is never touched), so plotting
works on servers and inside tests, and several figures can be rendered in one process without leaking memory.
Colour encodes the group (a config, several seeds: mean line and shaded spread), line style the split
(train/test/learner); one legend per figure says both, so panels stay readable with many metrics.
"""

from __future__ import annotations

import re
import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal, cast

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from graph_rl.plotting.metrics import KINDS, Run, aggregate, metric_kind, split_metric

__all__ = ["plot_runs", "HEADLINE"]

HEADLINE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("test success", ("success", "success_rate", "is_success")),
    ("test return", ("return", "episode_return", "ep_return")),
)
"""Headline panels: title and accepted names of the session-level test metric, first match wins."""

Spread = Literal["std", "sem", "minmax"]
Key = tuple[str, str]
_LEGEND_FONT = 8
_CHAR_WIDTH = 0.6
"""Mean glyph width of the legend font, in font sizes: sizes the wrap of a long group label to its column."""
_SPLIT_STYLES = {"test": "-", "train": "--", "learner": ":"}
_KIND_TITLES = {
    "entropy": "entropy and alpha",
    "q": "Q values",
    "loss": "losses",
    "subgoal": "subgoal success (a node reaching the goal its parent set)",
    "budget": "budget use",
    "termination": "termination rate",
    "other": "other node metrics",
}


class _Canvas:
    """One figure of panels plus what its legend must explain."""

    def __init__(
        self,
        n_panels: int,
        panel_size: tuple[float, float],
        dpi: int,
        groups: dict[str, list[Run]],
        spread: Spread,
        smooth: int,
    ) -> None:
        cols = min(n_panels, 3)
        rows = -(-n_panels // cols)
        self.fig = Figure(figsize=(panel_size[0] * cols, panel_size[1] * rows), dpi=dpi, layout="constrained")
        FigureCanvasAgg(self.fig)
        self.axes = [self.fig.add_subplot(rows, cols, i + 1) for i in range(n_panels)]
        self.groups, self.spread, self.smooth = groups, spread, smooth
        self.colors = {g: f"C{i % 10}" for i, g in enumerate(groups)}
        self.n_runs: dict[str, int] = {}
        self.splits: set[str] = set()

    def draw(self, ax: Axes, keys: list[Key]) -> None:
        """Every group's aggregate of every series in ``keys`` on one panel ('no data' if none exists)."""
        drawn = False
        for split, name in keys:
            for group, runs in self.groups.items():
                curve = aggregate(
                    [r.series[(split, name)] for r in runs if (split, name) in r.series],
                    spread=self.spread,
                    smooth=self.smooth,
                )
                if curve.n_runs == 0:
                    continue
                color = self.colors[group]
                ax.plot(
                    curve.steps,
                    curve.mean,
                    color=color,
                    linestyle=_SPLIT_STYLES.get(split, "-."),
                    linewidth=1.4,
                    marker="." if len(curve.steps) < 30 else None,
                )
                if curve.low is not None and curve.high is not None:
                    ax.fill_between(curve.steps, curve.low, curve.high, color=color, alpha=0.2, linewidth=0)
                self.n_runs[group] = max(self.n_runs.get(group, 0), curve.n_runs)
                self.splits.add(split)
                drawn = True
        ax.set_xlabel("env step")
        ax.grid(alpha=0.3)
        if not drawn:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="gray")

    def save(self, path: Path, title: str | None = None) -> Path:
        """Add the legend (groups with run counts; splits when several) and write the PNG."""
        if self.n_runs or len(self.splits) > 1:
            self._legend()
        if title:
            self.fig.suptitle(title, fontsize=11)
        self.fig.savefig(path, format="png")
        return path

    def _legend(self) -> None:
        """Groups with run counts, splits when several, in as many columns as fit the figure's width.

        A group labelled by long overrides (benchmark reports) wraps to its column; if the columns still overflow
        (several such labels on a narrow figure), fewer columns are tried, down to one.
        """
        splits = sorted(self.splits) if len(self.splits) > 1 else []
        width_pt = self.fig.get_figwidth() * 72
        renderer = self.fig.canvas.get_renderer()  # type: ignore[attr-defined]
        for ncols in range(min(len(self.n_runs) + len(splits), 3), 0, -1):
            chars = max(20, int((width_pt / ncols - 4 * _LEGEND_FONT) / (_CHAR_WIDTH * _LEGEND_FONT)))
            handles = [
                Line2D([], [], color=self.colors[g], label=textwrap.fill(f"{g} (n={n})", chars))
                for g, n in self.n_runs.items()
            ]
            handles += [
                Line2D([], [], color="black", linestyle=cast(Any, _SPLIT_STYLES.get(s, "-.")), label=s) for s in splits
            ]
            legend = self.fig.legend(handles=handles, loc="outside lower center", ncols=ncols, fontsize=_LEGEND_FONT)
            if ncols == 1 or legend.get_window_extent(renderer).width <= self.fig.bbox.width:
                return
            legend.remove()


def _all_keys(groups: dict[str, list[Run]]) -> list[Key]:
    return sorted({key for runs in groups.values() for r in runs for key in r.series})


def _headline(groups: dict[str, list[Run]], out: Path, spread: Spread, smooth: int, dpi: int) -> Path:
    canvas = _Canvas(len(HEADLINE), (5.0, 3.6), dpi, groups, spread, smooth)
    keys = set(_all_keys(groups))
    for ax, (title, names) in zip(canvas.axes, HEADLINE):
        canvas.draw(ax, [("test", n) for n in names if ("test", n) in keys][:1])
        ax.set_title(title, fontsize=10)
    return canvas.save(out / "learning_curves.png")


def _session(groups: dict[str, list[Run]], out: Path, spread: Spread, smooth: int, dpi: int) -> Path | None:
    by_metric: dict[str, list[Key]] = defaultdict(list)
    for split, name in _all_keys(groups):
        if split_metric(name)[0] is None and split != "learner":
            by_metric[name].append((split, name))
    if not by_metric:
        return None
    canvas = _Canvas(len(by_metric), (4.2, 3.0), dpi, groups, spread, smooth)
    for ax, (name, keys) in zip(canvas.axes, sorted(by_metric.items())):
        canvas.draw(ax, keys)
        ax.set_title(name, fontsize=10)
    return canvas.save(out / "session.png", "session metrics")


def _diagnostics(groups: dict[str, list[Run]], out: Path, spread: Spread, smooth: int, dpi: int) -> list[Path]:
    """One figure per diagnostic kind with one panel per (node, metric), splits overlaid."""
    panels: dict[str, dict[tuple[str, str], list[Key]]] = defaultdict(lambda: defaultdict(list))
    for split, name in _all_keys(groups):
        node, metric = split_metric(name)
        if node is not None:
            panels[metric_kind(name)][(node, metric)].append((split, name))
    written = []
    for kind in [k for k, _ in KINDS] + ["other"]:
        if kind not in panels:
            continue
        canvas = _Canvas(len(panels[kind]), (4.2, 3.0), dpi, groups, spread, smooth)
        for ax, ((node, metric), keys) in zip(canvas.axes, sorted(panels[kind].items())):
            canvas.draw(ax, keys)
            ax.set_title(f"{node}: {metric}", fontsize=10)
        written.append(canvas.save(out / f"diag_{re.sub(r'[^a-z0-9_]', '_', kind)}.png", _KIND_TITLES[kind]))
    return written


def plot_runs(
    groups: dict[str, list[Run]], out_dir: str | Path, *, spread: Spread = "std", smooth: int = 1, dpi: int = 100
) -> list[Path]:
    """Write every figure for ``groups`` (label → runs) into ``out_dir``; returns the PNG paths written.

    Always writes ``learning_curves.png`` (test success and test return vs env step); ``session.png`` and one
    ``diag_<kind>.png`` per diagnostic kind present in the metrics (entropy, q, loss, subgoal, budget,
    termination, other).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [_headline(groups, out, spread, smooth, dpi)]
    session = _session(groups, out, spread, smooth, dpi)
    if session is not None:
        written.append(session)
    written.extend(_diagnostics(groups, out, spread, smooth, dpi))
    return written
