"""Running sweeps: train.py subprocesses per seed, Optuna trials over them, and worker processes on one study.

Layout of a sweep directory::

    OUT/trial_0003/seed_1/        train.py's run directory (metrics.jsonl, config.json, checkpoints)
    OUT/trial_0003/seed_1.log     its stdout and stderr
    OUT/seeds/seed_1/             the same for a seeds-only sweep (no parameter searched)

Each trial trains every seed in its own process with its own logdir, so a crashed run never takes a worker down,
and workers coordinate only through the study's storage: a journal file on one machine, or an RDB URL that
workers on several machines share (every invocation with the same ``--storage`` and ``--study_name`` joins).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from graph_rl.sweep.objective import Objective, ObjectiveError
from graph_rl.sweep.space import ParamSpec

if TYPE_CHECKING:
    import optuna

__all__ = [
    "SweepSpec",
    "TrainError",
    "BadInputError",
    "SweepError",
    "run_seeds",
    "make_storage",
    "run_sweep",
    "run_seed_sweep",
    "summarize",
]

ROOT = Path(__file__).resolve().parents[2]
FINISHED = ("n_steps", "max_runtime")
"""train.py stop reasons of a run that used its budget (others: interrupted, so its score would be partial)."""


class TrainError(RuntimeError):
    """One train.py run failed; the trial is marked failed and the sweep goes on."""


class BadInputError(RuntimeError):
    """train.py rejected its input (exit code 2): every trial would fail the same way, so the worker stops."""


class SweepError(RuntimeError):
    """The sweep produced no result (every trial failed, or a worker stopped on bad input)."""


@dataclass(frozen=True)
class SweepSpec:
    """Everything a worker needs; plain data so it can be sent to spawned processes."""

    env: str
    algo: str
    out_dir: Path
    seeds: tuple[int, ...]
    objective: Objective = field(default_factory=Objective)
    params: tuple[ParamSpec, ...] = ()
    storage: str = ""
    study_name: str = ""
    direction: Literal["maximize", "minimize"] = "maximize"
    run_overrides: tuple[str, ...] = ()
    graph_overrides: tuple[str, ...] = ()
    train_args: tuple[str, ...] = ()
    seed_jobs: int = 1
    sampler_seed: int | None = None
    timeout_s: float | None = None
    train_script: Path = ROOT / "scripts" / "run" / "train.py"


def _train_command(
    spec: SweepSpec, seed: int, logdir: Path, run_overrides: list[str], graph_overrides: list[str]
) -> list[str]:
    cmd = [
        sys.executable,
        str(spec.train_script),
        "--env",
        spec.env,
        "--algo",
        spec.algo,
        "--seed",
        str(seed),
        "--logdir",
        str(logdir),
        "--no-progress",
        *spec.train_args,
    ]
    if run_overrides:
        cmd += ["--run_params", *run_overrides]
    if graph_overrides:
        cmd += ["--graph_params", *graph_overrides]
    return cmd


def _train_once(
    spec: SweepSpec, run_root: Path, seed: int, run_overrides: list[str], graph_overrides: list[str]
) -> float:
    logdir = run_root / f"seed_{seed}"
    cmd = _train_command(spec, seed, logdir, run_overrides, graph_overrides)
    # PYTHONHASHSEED set here spares train.py its re-exec (it pins the variable itself otherwise).
    env = {**os.environ, "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0")}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=spec.timeout_s)
    except subprocess.TimeoutExpired as err:
        raise TrainError(f"seed {seed}: train.py ran past {spec.timeout_s} s") from err
    (run_root / f"seed_{seed}.log").write_text(f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}", encoding="utf-8")
    last_error = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
    if proc.returncode == 2:
        raise BadInputError(f"seed {seed}: {last_error}")
    if proc.returncode != 0:
        raise TrainError(f"seed {seed}: train.py exited with {proc.returncode}: {last_error}")
    lines = proc.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    if summary.get("stop_reason") not in FINISHED:
        raise TrainError(f"seed {seed}: run stopped early ({summary.get('stop_reason', 'no summary line')})")
    return spec.objective.score(logdir)


def run_seeds(
    spec: SweepSpec, run_root: Path, run_overrides: list[str], graph_overrides: list[str], jobs: int
) -> dict[int, float]:
    """Train every seed (``jobs`` at a time) under ``run_root``; returns seed → objective score."""
    run_root.mkdir(parents=True, exist_ok=True)
    train = partial(_train_once, spec, run_root, run_overrides=run_overrides, graph_overrides=graph_overrides)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return dict(zip(spec.seeds, pool.map(train, spec.seeds)))


def make_storage(storage: str) -> optuna.storages.BaseStorage:
    """An RDB storage for a URL (``sqlite:///x.db``, ``postgresql://...``), else a journal file at that path.

    RDB storages get a heartbeat, so a trial whose worker died is marked failed and retried once.
    """
    import optuna

    if "://" in storage:
        return optuna.storages.RDBStorage(
            storage,
            heartbeat_interval=60,
            grace_period=120,
            failed_trial_callback=optuna.storages.RetryFailedTrialCallback(max_retry=1),
        )
    from optuna.storages.journal import JournalFileBackend

    Path(storage).parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(JournalFileBackend(storage))


def _objective(spec: SweepSpec, trial: optuna.Trial) -> float:
    values = [(p, p.suggest(trial)) for p in spec.params]
    run_overrides = [*spec.run_overrides, *(p.override(v) for p, v in values if p.section == "run_params")]
    graph_overrides = [*spec.graph_overrides, *(p.override(v) for p, v in values if p.section == "graph_params")]
    run_root = spec.out_dir / f"trial_{trial.number:04d}"
    trial.set_user_attr("run_dir", str(run_root))
    trial.set_user_attr("worker_pid", os.getpid())
    trial.set_user_attr("overrides", {"run_params": run_overrides, "graph_params": graph_overrides})
    try:
        scores = run_seeds(spec, run_root, run_overrides, graph_overrides, spec.seed_jobs)
    except (TrainError, BadInputError, ObjectiveError) as err:
        trial.set_user_attr("error", str(err))
        raise
    trial.set_user_attr("seed_scores", {str(s): v for s, v in scores.items()})
    return statistics.fmean(scores.values())


def _run_worker(spec: SweepSpec, n_trials: int, index: int) -> str | None:
    """Run ``n_trials`` trials of the shared study; returns the error that stopped it on bad input, else None."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    seed = None if spec.sampler_seed is None else spec.sampler_seed + index
    study = optuna.load_study(
        study_name=spec.study_name, storage=make_storage(spec.storage), sampler=optuna.samplers.TPESampler(seed=seed)
    )
    try:
        study.optimize(partial(_objective, spec), n_trials=n_trials, catch=(TrainError, ObjectiveError))
    except BadInputError as err:
        return str(err)
    return None


def _worker_process(spec: SweepSpec, n_trials: int, index: int) -> None:
    """Entry point of a spawned worker: exit code 2 when it stopped on bad input."""
    error = _run_worker(spec, n_trials, index)
    if error is not None:
        print(f"sweep worker {index}: error: {error}", file=sys.stderr)
        sys.exit(2)


def run_sweep(spec: SweepSpec, n_trials: int, n_workers: int) -> dict[str, Any]:
    """Create (or join) the study, run ``n_trials`` trials on ``n_workers`` processes, return :func:`summarize`.

    Trials are split evenly over the workers, so this invocation runs exactly ``n_trials``; other invocations on
    the same storage and study add their own. A single worker runs in this process, more in spawned processes.

    Raises:
        BadInputError: train.py rejected the configuration (unknown parameter path, bad value).
        SweepError: no trial completed.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(
        study_name=spec.study_name, storage=make_storage(spec.storage), direction=spec.direction, load_if_exists=True
    )
    shares = [n for n in (n_trials // n_workers + (i < n_trials % n_workers) for i in range(n_workers)) if n]
    if len(shares) == 1:
        error = _run_worker(spec, shares[0], 0)
        if error is not None:
            raise BadInputError(error)
    else:
        ctx = multiprocessing.get_context("spawn")
        procs = [ctx.Process(target=_worker_process, args=(spec, n, i)) for i, n in enumerate(shares)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        if all(p.exitcode == 2 for p in procs):
            study = optuna.load_study(study_name=spec.study_name, storage=make_storage(spec.storage))
            raise BadInputError(_first_error(study.get_trials(deepcopy=False)))
    return summarize(spec)


def _first_error(trials: list[optuna.trial.FrozenTrial]) -> str:
    return next((t.user_attrs["error"] for t in trials if "error" in t.user_attrs), "no trial ran")


def summarize(spec: SweepSpec) -> dict[str, Any]:
    """Best trial of the study as JSON-ready data (params decoded to config values, train.py overrides).

    Raises:
        SweepError: no trial of the study completed; names the first recorded failure.
    """
    import optuna

    study = optuna.load_study(study_name=spec.study_name, storage=make_storage(spec.storage))
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    failed = [t for t in trials if t.state == optuna.trial.TrialState.FAIL]
    if not complete:
        raise SweepError(f"no trial of study '{spec.study_name}' completed: {_first_error(failed)}")
    best = study.best_trial
    by_name = {p.name: p for p in spec.params}
    return {
        "study_name": spec.study_name,
        "storage": spec.storage,
        "objective": str(spec.objective),
        "direction": spec.direction,
        "n_complete": len(complete),
        "n_failed": len(failed),
        "best_trial": best.number,
        "best_value": best.value,
        "best_params": {k: by_name[k].decode(v) if k in by_name else v for k, v in best.params.items()},
        "best_seed_scores": best.user_attrs.get("seed_scores"),
        "best_run_dir": best.user_attrs.get("run_dir"),
        "best_overrides": best.user_attrs.get("overrides"),
    }


def run_seed_sweep(spec: SweepSpec, n_workers: int) -> dict[str, Any]:
    """No search: train every seed of one configuration, ``n_workers`` at a time; mean and spread of the scores.

    Raises:
        BadInputError: train.py rejected the configuration.
        SweepError: a run failed (its log is next to its run directory).
    """
    try:
        scores = run_seeds(
            spec, spec.out_dir / "seeds", list(spec.run_overrides), list(spec.graph_overrides), n_workers
        )
    except (TrainError, ObjectiveError) as err:
        raise SweepError(str(err)) from err
    values = list(scores.values())
    return {
        "objective": str(spec.objective),
        "seed_scores": {str(s): v for s, v in scores.items()},
        "mean": statistics.fmean(values),
        "std": statistics.pstdev(values),
        "run_dir": str(spec.out_dir / "seeds"),
    }
