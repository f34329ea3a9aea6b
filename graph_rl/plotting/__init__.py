"""Learning curves and HRL diagnostics from run directories (``metrics.jsonl``), rendered headless to PNG."""

from graph_rl.plotting.figures import HEADLINE, plot_runs
from graph_rl.plotting.metrics import (
    Curve,
    Run,
    aggregate,
    find_run_dirs,
    group_runs,
    load_benchmark,
    load_run,
    metric_kind,
    split_metric,
)

__all__ = [
    "HEADLINE",
    "plot_runs",
    "Curve",
    "Run",
    "aggregate",
    "find_run_dirs",
    "group_runs",
    "load_benchmark",
    "load_run",
    "metric_kind",
    "split_metric",
]
