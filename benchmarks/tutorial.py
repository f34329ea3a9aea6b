"""The tutorial notebook at its shipped budgets: wall time per cell, and whether lessons 1 and 2 show what they claim.

Prints one JSON object. The test suite runs the notebook on smaller budgets (``GRAPH_RL_TUTORIAL_SCALE``), where
lessons 3-5 (byte-identical runs, exact resume, EAT terminations) still hold and are asserted, but lessons 1 and 2
learn too little to show their curves; this benchmark checks those two on the budgets users run.

    python benchmarks/tutorial.py [--runs-dir DIR] [--scale 1.0] [--out report.json]

``--runs-dir`` (default: a new temporary folder) is where the notebook writes its runs and figures; the notebook
clears that folder first, so an existing non-empty one is refused.

Claims checked, from the runs' ``metrics.jsonl`` (``late`` = the last quarter of the records):
- lesson 1: with alpha 5.0 the policy entropy stays near its maximum (late mean >= 0.9 log 2) and the mean Q sits at
  the ``force_negative`` ceiling (late mean > -1); with the shipped alpha the entropy is lower and Q more negative.
- lesson 2: with budget 20 the top level uses most of its budget (mean ``budget_use`` >= 0.7), with budget 200 at most
  a fifth of it, and failed tests (penalty -200; the lesson restores the default -budget) pull the top level's Q
  below budget 20's.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_cli
import nbclient
import nbformat

from graph_rl.logging import read_metrics

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "hrl_debugging_tutorial.ipynb"


def _mean(run_dir: Path, split: str, key: str, last: float = 1.0) -> float:
    """Mean of ``key`` over the last fraction ``last`` of the run's ``split`` records (at least one record)."""
    values = [r[key] for r in read_metrics(run_dir, split) if r.get(key) is not None]
    tail = values[-max(1, int(len(values) * last)) :]
    return float(sum(tail) / len(tail))


def _late_mean(run_dir: Path, split: str, key: str) -> float:
    return _mean(run_dir, split, key, last=0.25)


def lesson_claims(out: Path) -> dict[str, Any]:
    """What lessons 1 and 2 claim, measured on the notebook's own run directories."""
    shipped, large = out / "sac-alpha-shipped", out / "sac-alpha-too-large"
    l1 = {
        "entropy_late": {
            "shipped": _late_mean(shipped, "learner", "sac_0/entropy"),
            "too_large": _late_mean(large, "learner", "sac_0/entropy"),
        },
        "q_mean_late": {
            "shipped": _late_mean(shipped, "learner", "sac_0/q_mean"),
            "too_large": _late_mean(large, "learner", "sac_0/q_mean"),
        },
    }
    l1["holds"] = {
        "too_large_entropy_near_max": l1["entropy_late"]["too_large"] >= 0.9 * math.log(2),
        "too_large_q_at_ceiling": l1["q_mean_late"]["too_large"] > -1.0,
        "shipped_entropy_lower": l1["entropy_late"]["shipped"] < l1["entropy_late"]["too_large"],
        "shipped_q_more_negative": l1["q_mean_late"]["shipped"] < l1["q_mean_late"]["too_large"],
    }
    b20, b200 = out / "hits-budget-20", out / "hits-budget-200"
    l2 = {
        "budget_use": {"20": _mean(b20, "train", "hac_1/budget_use"), "200": _mean(b200, "train", "hac_1/budget_use")},
        "q_taken_late": {
            "20": _late_mean(b20, "train", "hac_1/q_taken"),
            "200": _late_mean(b200, "train", "hac_1/q_taken"),
        },
    }
    l2["holds"] = {
        "budget_20_mostly_spent": l2["budget_use"]["20"] >= 0.7,
        "budget_200_mostly_unused": l2["budget_use"]["200"] <= 0.2,
        "budget_200_q_lower": l2["q_taken_late"]["200"] < l2["q_taken_late"]["20"],
    }
    return {"lesson1": l1, "lesson2": l2}


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs-dir", type=Path, default=None, help="where the notebook's runs go (default: a temp dir)"
    )
    parser.add_argument("--scale", type=_positive, default=1.0, help="GRAPH_RL_TUTORIAL_SCALE (1 = as shipped)")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = bench_cli.parse_args(parser)
    if args.runs_dir is not None and args.runs_dir.exists() and any(args.runs_dir.iterdir()):
        parser.error(f"--runs-dir {args.runs_dir}: not empty (the notebook clears its folder)")
    out = (args.runs_dir or Path(tempfile.mkdtemp(prefix="graph_rl_tutorial_"))).resolve()
    os.environ["GRAPH_RL_TUTORIAL_DIR"] = str(out)
    os.environ["GRAPH_RL_TUTORIAL_SCALE"] = str(args.scale)
    os.environ.pop("GRAPH_RL_TUTORIAL_ARTIFACT", None)

    nb = nbformat.read(NOTEBOOK, as_version=4)
    starts: dict[int, float] = {}
    cell_s: dict[int, float] = {}

    def on_execute(cell: Any, cell_index: int) -> None:
        starts[cell_index] = time.perf_counter()

    def on_executed(cell: Any, cell_index: int, execute_reply: Any) -> None:
        cell_s[cell_index] = round(time.perf_counter() - starts[cell_index], 1)

    client = nbclient.NotebookClient(
        nb,
        timeout=3600,
        kernel_name="python3",
        resources={"metadata": {"path": str(out.parent)}},
        on_cell_execute=on_execute,
        on_cell_executed=on_executed,
    )
    code = bench_cli.code_version()
    start = time.perf_counter()
    client.execute()
    total = time.perf_counter() - start
    claims = lesson_claims(out)
    report = {
        "benchmark": "tutorial",
        "scale": args.scale,
        "runs_dir": str(out),
        "wall_s": round(total, 1),
        "cell_wall_s": {str(i): s for i, s in sorted(cell_s.items()) if nb.cells[i].cell_type == "code"},
        **claims,
        "all_hold": all(all(claims[k]["holds"].values()) for k in ("lesson1", "lesson2")),
        "code": code,
        "host": {**bench_cli.host(), "machine": platform.machine()},
    }
    return bench_cli.emit(parser.prog, report, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
