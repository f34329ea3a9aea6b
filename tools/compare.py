"""Compare the test success of two agents from ``benchmarks/learning.py`` reports, seed by seed, with intervals.

    python tools/compare.py --a eat.json eat_seeds45.json --b hits.json hits_seeds45.json --margin 0.10

Each side is one or more reports of the same env, algorithm, overrides and step budget (files from separate
invocations merge; a seed may appear once per side). Per seed: the mean test success over all evaluations, over the
evaluations at or after ``--from-step`` (default: half the step budget, where the agents have had time to learn),
and over the last 5 evaluations. Per side: the seed means of those three, and a 95% percentile-bootstrap interval of
the seed mean (seeds resampled with replacement; a fixed generator, so the printed JSON is reproducible). The
difference A - B of each metric gets an interval from resampling both sides' seeds independently, and
``meets_margin`` says whether the difference of ``--metric`` reaches ``--margin`` (the EAT issue's target is
EAT >= HiTS + 0.10 on NoisyPlatforms).

Override paths are compared as the config names them today: a report from before the SAC settings moved from
``algo_kwargs.flat_algo_kwargs`` to ``model_kwargs`` (commit b26504b) merges with one that names the same values the
new way, and the report shows the new names.

A seed stopped before the budget (``total_steps`` below ``steps``) is refused, since its late evaluations are
missing, unless ``--allow-partial`` is given; the report then lists it under ``partial``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_cli  # noqa: E402  (the benchmarks' shared CLI helpers)

METRICS = ("mean", "late", "last5")
LAST_N = 5
BOOTSTRAP_DRAWS = 10_000
_SAME_SIDE = ("env", "algo", "steps", "overrides", "test_frequency", "test_episodes")
"""Report fields every file of one side must share."""
_RENAMED_PATHS = {".algo_kwargs.flat_algo_kwargs.": ".model_kwargs."}
"""Override path fragments the config has renamed (old: new); the values and their meaning are unchanged."""


class CompareError(Exception):
    """Bad input, named by file and field."""


def current_overrides(overrides: Sequence[str]) -> list[str]:
    """``overrides`` with renamed paths written the way the config names them today."""
    current = []
    for override in overrides:
        path, sep, value = override.partition("=")
        for old, new in _RENAMED_PATHS.items():
            path = path.replace(old, new)
        current.append(path + sep + value)
    return current


def load_side(paths: Sequence[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the shared report fields, every run) of one side's report files."""
    shared: dict[str, Any] | None = None
    runs: list[dict[str, Any]] = []
    for path in paths:
        try:
            report = json.loads(Path(path).read_text())
            fields = {key: report[key] for key in _SAME_SIDE}
            fields["overrides"] = current_overrides(fields["overrides"])
            file_runs = list(report["runs"])
        except FileNotFoundError:
            raise CompareError(f"{path}: no such file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise CompareError(f"{path}: not JSON ({err})") from None
        except (KeyError, TypeError) as err:
            raise CompareError(f"{path}: not a learning.py report (no {err})") from None
        if shared is None:
            shared = fields
        for key in _SAME_SIDE:
            if fields[key] != shared[key]:
                raise CompareError(f"{path}: {key} {fields[key]!r} differs from {shared[key]!r} in {paths[0]}")
        for run in file_runs:
            if any(run["seed"] == other["seed"] for other in runs):
                raise CompareError(f"{path}: seed {run['seed']} appears twice on this side")
            runs.append(run)
    assert shared is not None
    return shared, sorted(runs, key=lambda r: r["seed"])


def seed_metrics(run: dict[str, Any], from_step: int) -> dict[str, Any]:
    """Mean test success of one seed over the whole run, from ``from_step`` on, and over its last evaluations."""
    success = [point["success"] or 0.0 for point in run["curve"]]
    late = [point["success"] or 0.0 for point in run["curve"] if point["step"] >= from_step]
    if not success:
        raise CompareError(f"seed {run['seed']}: no test evaluations")
    return {
        "seed": run["seed"],
        "mean": round(float(np.mean(success)), 4),
        "late": round(float(np.mean(late)), 4) if late else None,
        "last5": round(float(np.mean(success[-LAST_N:])), 4),
        "evaluations": len(success),
        "total_steps": run["total_steps"],
    }


def bootstrap_means(values: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    """``BOOTSTRAP_DRAWS`` means of seed values resampled with replacement."""
    data = np.asarray(values, dtype=float)
    return data[rng.integers(0, len(data), size=(BOOTSTRAP_DRAWS, len(data)))].mean(axis=1)


def _interval(draws: np.ndarray) -> list[float]:
    return [round(float(q), 4) for q in np.percentile(draws, [2.5, 97.5])]


def compare(a: Sequence[str], b: Sequence[str], from_step: int | None, margin: float, metric: str,
            allow_partial: bool) -> dict[str, Any]:
    """The comparison report (see the module docstring)."""
    sides = {"a": load_side(a), "b": load_side(b)}
    if sides["a"][0]["env"] != sides["b"][0]["env"] or sides["a"][0]["steps"] != sides["b"][0]["steps"]:
        raise CompareError("--a and --b: the env and step budget must be the same on both sides")
    start = sides["a"][0]["steps"] // 2 if from_step is None else from_step
    rng = np.random.default_rng(0)
    report: dict[str, Any] = {"env": sides["a"][0]["env"], "steps": sides["a"][0]["steps"], "from_step": start}
    draws: dict[str, dict[str, np.ndarray]] = {}
    for name, (shared, runs) in sides.items():
        partial = [r["seed"] for r in runs if r["total_steps"] < shared["steps"]]
        if partial and not allow_partial:
            raise CompareError(f"--{name}: seeds {partial} stopped before {shared['steps']} steps "
                               "(--allow-partial to compare them anyway)")
        per_seed = [seed_metrics(run, start) for run in runs]
        side: dict[str, Any] = {"algo": shared["algo"], "overrides": shared["overrides"],
                                "seeds": [s["seed"] for s in per_seed], "partial": partial}
        draws[name] = {}
        for key in METRICS:
            values = [s[key] for s in per_seed if s[key] is not None]
            if not values:
                raise CompareError(f"--{name}: no seed has evaluations for {key!r} (from step {start})")
            draws[name][key] = bootstrap_means(values, rng)
            side[key] = {"mean": round(float(np.mean(values)), 4), "ci95": _interval(draws[name][key])}
        side["per_seed"] = per_seed
        report[name] = side
    report["difference"] = {
        key: {"a_minus_b": round(report["a"][key]["mean"] - report["b"][key]["mean"], 4),
              "ci95": _interval(draws["a"][key] - draws["b"][key])}
        for key in METRICS
    }
    report["metric"], report["margin"] = metric, margin
    report["meets_margin"] = report["difference"][metric]["a_minus_b"] >= margin
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", nargs="+", required=True, help="learning.py reports of agent A")
    parser.add_argument("--b", nargs="+", required=True, help="learning.py reports of agent B")
    parser.add_argument("--from-step", type=int, default=None, help="start of the 'late' window (default: steps/2)")
    parser.add_argument("--margin", type=float, default=0.0, help="A - B needed for meets_margin")
    parser.add_argument("--metric", choices=METRICS, default="late", help="the metric meets_margin judges")
    parser.add_argument("--allow-partial", action="store_true", help="also compare seeds stopped before the budget")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = bench_cli.parse_args(parser)
    try:
        report = compare(args.a, args.b, args.from_step, args.margin, args.metric, args.allow_partial)
    except CompareError as err:
        parser.error(str(err))
    return bench_cli.emit(parser.prog, report, args.out)


if __name__ == "__main__":
    sys.exit(main())
