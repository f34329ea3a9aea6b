"""Many seeds and Optuna searches over any dotted config parameter, each run a train.py subprocess."""

from graph_rl.sweep.objective import Objective, ObjectiveError
from graph_rl.sweep.runner import (
    BadInputError,
    SweepError,
    SweepSpec,
    TrainError,
    make_storage,
    run_seed_sweep,
    run_seeds,
    run_sweep,
    summarize,
)
from graph_rl.sweep.space import ParamSpec, SpecError, parse_spec

__all__ = [
    "Objective",
    "ObjectiveError",
    "BadInputError",
    "SweepError",
    "SweepSpec",
    "TrainError",
    "make_storage",
    "run_seed_sweep",
    "run_seeds",
    "run_sweep",
    "summarize",
    "ParamSpec",
    "SpecError",
    "parse_spec",
]
