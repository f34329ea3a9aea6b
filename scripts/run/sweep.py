"""Many seeds and/or an Optuna search over any dotted parameter; every run is a train.py subprocess.

    # 3 seeds of the shipped config, 3 at a time: mean and spread of the objective
    python scripts/run/sweep.py --env EasyPlatforms --algo HiTS --seeds 1 2 3 --n_workers 3 --run_params n_steps=30000

    # search alpha and the learning rate: 20 trials of 2 seeds each on 2 worker processes
    python scripts/run/sweep.py --env EasyPlatforms --algo HiTS --seeds 1 2 --n_trials 20 --n_workers 2 \\
        --graph_params_to_optimize 'level_params_list[0].model_kwargs.alpha:float:1e-4:1e-1:log' \\
            'level_params_list[0].model_kwargs.learning_rate:float:1e-4:1e-3:log' \\
        --run_params n_steps=30000 --objective test:success --last_k 3

    # workers on several machines join one study through a shared database
    python scripts/run/sweep.py ... --storage postgresql://user:pw@host/db --study_name hits-alpha

Spec forms: PATH:float:LOW:HIGH[:log], PATH:int:LOW:HIGH[:log|:STEP], PATH:cat:V1,V2,... or PATH:cat:[JSON list].
The default storage is a journal file in the sweep directory (safe for parallel processes on one machine); any
optuna RDB URL (sqlite:///study.db, postgresql://...) works too. Prints the result as JSON (best params and the
train.py overrides that reproduce them) and writes it to OUT/result.json. Exit code 2 on bad input, 1 if no
trial completed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from graph_rl.sweep import (  # noqa: E402
    BadInputError,
    Objective,
    SpecError,
    SweepError,
    SweepSpec,
    parse_spec,
    run_seed_sweep,
    run_sweep,
)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors, like train.py."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="sweep.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--env", required=True, help="environment folder in data/, e.g. EasyPlatforms")
    p.add_argument("--algo", required=True, help="SAC, HAC, HiTS or EAT")
    p.add_argument("--seeds", nargs="+", type=int, default=[1], help="seeds trained per configuration (default: 1)")
    p.add_argument("--graph_params_to_optimize", nargs="+", default=[], metavar="SPEC", help="graph parameters to search")
    p.add_argument("--run_params_to_optimize", nargs="+", default=[], metavar="SPEC", help="run parameters to search")
    p.add_argument("--n_trials", type=int, default=10, help="trials this invocation runs (split over the workers)")
    p.add_argument("--n_workers", type=int, default=1, help="worker processes (seeds-only sweeps: parallel seeds)")
    p.add_argument("--seed_jobs", type=int, default=1, help="seeds of one trial trained in parallel")
    p.add_argument("--objective", default="test:success", help="[SPLIT:]METRIC from metrics.jsonl (default test:success)")
    p.add_argument("--last_k", type=int, default=3, help="average the last K logged values (0: all; default 3)")
    p.add_argument("--direction", choices=("maximize", "minimize"), default="maximize")
    p.add_argument("--study_name", help="default: <env>-<algo>-<timestamp>; reuse a name to join a study")
    p.add_argument("--storage", help="journal file path or RDB URL (default: OUT/optuna_journal.log)")
    p.add_argument("--out", type=Path, help="sweep directory (default: sweeps/<study_name>)")
    p.add_argument("--sampler_seed", type=int, help="seed of the TPE sampler (worker i uses seed + i)")
    p.add_argument("--timeout_s", type=float, help="wall-clock limit of one train.py run")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="passed to train.py")
    p.add_argument("--threads", type=int, help="passed to train.py (torch threads per run)")
    for name in ("run_params", "graph_params"):
        p.add_argument(f"--{name}", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                       help=f"fixed {name} overrides for every run")
    return p


def _spec(args: argparse.Namespace) -> tuple[SweepSpec, bool]:
    """The sweep spec and whether it searches (raises SpecError/ValueError on bad input)."""
    params = tuple([parse_spec(s, "graph_params") for s in args.graph_params_to_optimize]
                   + [parse_spec(s, "run_params") for s in args.run_params_to_optimize])
    if len({p.name for p in params}) < len(params):
        raise SpecError("a parameter is searched twice")
    for name in ("n_trials", "n_workers", "seed_jobs"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be >= 1")
    if len(set(args.seeds)) < len(args.seeds):
        raise ValueError(f"--seeds repeats a seed: {args.seeds}")
    study_name = args.study_name or f"{args.env}-{args.algo}-{time.strftime('%Y%m%d-%H%M%S')}"
    out = args.out or Path("sweeps") / study_name
    train_args = [*(("--device", args.device) if args.device else ()), *(("--threads", str(args.threads)) if args.threads else ())]
    spec = SweepSpec(
        env=args.env, algo=args.algo, out_dir=out.resolve(), seeds=tuple(args.seeds),
        objective=Objective.parse(args.objective, args.last_k), params=params,
        storage=args.storage or str((out / "optuna_journal.log").resolve()), study_name=study_name,
        direction=args.direction, run_overrides=tuple(args.run_params), graph_overrides=tuple(args.graph_params),
        train_args=tuple(train_args), seed_jobs=args.seed_jobs, sampler_seed=args.sampler_seed, timeout_s=args.timeout_s,
    )
    return spec, bool(params)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        spec, searching = _spec(args)
    except (SpecError, ValueError) as err:
        print(f"sweep.py: error: {err}", file=sys.stderr)
        return 2
    spec.out_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = run_sweep(spec, args.n_trials, args.n_workers) if searching else run_seed_sweep(spec, args.n_workers)
    except BadInputError as err:
        print(f"sweep.py: error: {err}", file=sys.stderr)
        return 2
    except SweepError as err:
        print(f"sweep.py: error: {err}", file=sys.stderr)
        return 1
    text = json.dumps(result, indent=2)
    (spec.out_dir / "result.json").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
