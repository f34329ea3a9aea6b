"""Plot learning curves and per-node diagnostics of one or more runs to PNG (no network, no display needed).

    python scripts/plot/plot_training.py runs/hits_s1 runs/hits_s2 --out plots/hits
    python scripts/plot/plot_training.py runs/sweep --group_by parent --spread minmax --smooth 5
    python scripts/plot/plot_training.py hits.json sac.json --out plots/bench    # benchmarks/learning.py reports

Each argument is a run directory (with ``metrics.jsonl``), a folder searched recursively for them, or a JSON report
of ``benchmarks/learning.py`` (one run per seed). Runs whose
configs differ only in seed form one group, drawn as mean with a shaded spread. Writes ``learning_curves.png``
(test success and return vs env step), ``session.png`` and ``diag_<kind>.png`` (entropy/alpha, Q values, losses,
subgoal success, budget use, termination rate, other) and prints the written paths.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from graph_rl.plotting import find_run_dirs, group_runs, load_benchmark, load_run, plot_runs  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", help="run directories, folders containing them, or learning.py JSON reports")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: RUN_DIR/plots for a single run, ./plots otherwise)")
    p.add_argument("--group_by", choices=("config", "parent", "run"), default="config",
                   help="config: same config apart from seed; parent: same parent folder; run: no grouping")
    p.add_argument("--spread", choices=("std", "sem", "minmax"), default="std", help="band drawn around the mean")
    p.add_argument("--smooth", type=int, default=1, help="moving-average window in logged points (1: none)")
    p.add_argument("--dpi", type=int, default=100, help="resolution of the PNG files")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.smooth < 1 or args.dpi < 10:
        print("error: --smooth must be >= 1 and --dpi >= 10", file=sys.stderr)
        return 2
    reports = [a for a in args.runs if a.endswith(".json")]
    try:
        run_dirs = find_run_dirs([a for a in args.runs if a not in reports])
        runs = [run for report in reports for run in load_benchmark(report)]
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as err:
        print(f"error: malformed JSON report: {err}", file=sys.stderr)
        return 2
    if not run_dirs and not runs:
        print(f"error: no metrics.jsonl found under {' '.join(args.runs)}", file=sys.stderr)
        return 2
    runs += [load_run(d) for d in run_dirs]
    out = args.out or (run_dirs[0] / "plots" if len(run_dirs) == 1 and not reports else Path("plots"))
    for path in plot_runs(group_runs(runs, by=args.group_by), out, spread=args.spread, smooth=args.smooth, dpi=args.dpi):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
