"""The Python API: what ``train.py`` and ``evaluate.py`` do, as functions for notebooks and scripts.

    import envs                      # registers the Platforms family with gymnasium (the library never imports it)
    from graph_rl import api

    config = api.load_config("EasyPlatforms", "SAC", seed=1, run=["n_steps=20000"],
                             graph=["level_params_list[0].model_kwargs.alpha=0.05"])
    print(api.build(config).graph)   # the levels: what each sees, emits, its budget and learner
    run = api.train(config, logdir="runs/sac-alpha-0.05")
    df = run.metrics("learner")      # a pandas DataFrame: step, loss_critic, alpha, entropy, q_mean, ...
    more = api.resume(run.run_dir, run=["n_steps=40000"])   # continue exactly as if never stopped

Overrides use the command line's syntax (``KEY=VALUE``, JSON values, ``+KEY=VALUE`` adds a key), so a line of a
notebook and a flag of ``train.py`` read the same. A run made here is a ``train.py`` run: the same run directory
(``config.json``, ``metrics.jsonl``, CSVs, ``checkpoints/``), the same seeding, byte-identical metrics for the same
config, seed and thread count, and ``train.py --resume`` continues it (and ``resume`` here continues a CLI run).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym

from graph_rl.checkpoint import find_checkpoint
from graph_rl.config import ConfigError
from graph_rl.logging import read_metrics
from graph_rl.rng import RngRegistry, seed_everything
from graph_rl.session import RunConfig, RunRequest, SessionResult, prepare_run
from graph_rl.session.evaluate import Agent, EvalResult, FrameRecorder, evaluate, load_agent
from graph_rl.session.run import default_graph_factory, make_goal_env
from graph_rl.session.session import Callback, GraphLike
from graph_rl.session.setup import load_params
from graph_rl.session.video import write_gif

__all__ = [
    "Built",
    "TrainedRun",
    "load_config",
    "build",
    "train",
    "resume",
    "load_agent",
    "evaluate",
    "record_episode",
    "metrics",
    "DATA_DIR",
]

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
"""The shipped parameter folders ``data/<Env>/<Algo>/`` of this checkout."""

Overrides = Sequence[str] | Mapping[str, Any]
"""``["a.b[0].c=1", ...]`` as on the command line, or ``{"a.b[0].c": 1}`` (values are written as JSON)."""


@dataclass
class Built:
    """A fresh agent and its env, built as a training run would build them (same seed, same streams)."""

    config: RunConfig
    env: gym.Env
    graph: GraphLike
    rng: RngRegistry


@dataclass
class TrainedRun:
    """A finished (or stopped) training run: where it lives and how it ended."""

    run_dir: Path
    result: SessionResult
    config: RunConfig

    def metrics(self, split: str | None = None) -> Any:
        """This run's logged metrics as a pandas DataFrame (see :func:`metrics`)."""
        return metrics(self.run_dir, split)

    @property
    def checkpoint(self) -> Path:
        """The newest checkpoint of the run (what :func:`resume` continues from)."""
        return find_checkpoint(self.run_dir)


def _as_strings(overrides: Overrides) -> list[str]:
    if isinstance(overrides, Mapping):
        return [f"{key}={json.dumps(value)}" for key, value in overrides.items()]
    if isinstance(overrides, str):
        raise ConfigError(f"overrides: expected a list of KEY=VALUE strings, got the string {overrides!r}")
    return list(overrides)


def load_config(
    env: str,
    algo: str,
    *,
    seed: int | None = None,
    run: Overrides = (),
    graph: Overrides = (),
    wandb: Overrides = (),
    device: str = "cpu",
    threads: int | None = None,
    data_dir: str | Path | None = None,
) -> RunConfig:
    """The resolved config of a fresh run: ``data_dir/<env>/<algo>/*.json`` with the overrides applied.

    ``device`` defaults to ``cpu`` here (``auto`` picks as ``train.py`` does). The result is plain dataclasses:
    read it, change fields in Python, and pass it to :func:`build` or :func:`train`.

    Raises:
        ConfigError: unknown env/algo folder, bad JSON, unknown parameter, wrong type (one line naming it).
    """
    request = RunRequest(
        env=env,
        algo=algo,
        seed=seed,
        device=device,
        threads=threads,
        run_overrides=_as_strings(run),
        graph_overrides=_as_strings(graph),
        wandb_overrides=_as_strings(wandb),
    )
    if data_dir is None and not DATA_DIR.is_dir():
        raise ConfigError(f"data_dir: no shipped parameter folders at {DATA_DIR} (pass data_dir=<your params folder>)")
    return load_params(request, Path(data_dir) if data_dir is not None else DATA_DIR)


def build(config: RunConfig) -> Built:
    """The env and the untrained graph of ``config``, seeded exactly as :func:`train` seeds them."""
    seed_everything(config.seed)
    rng = RngRegistry(config.seed)
    env = make_goal_env(config)
    return Built(config=config, env=env, graph=default_graph_factory(config, env, rng), rng=rng)


def train(
    config: RunConfig,
    *,
    logdir: str | Path | None = None,
    callbacks: Iterable[Callback] = (),
    progress: bool = False,
    wandb: str = "disabled",
    stop_at: int | None = None,
) -> TrainedRun:
    """Train a fresh run of ``config`` into ``logdir`` (default ``runs/<env>-<algo>-<time>``; must be empty).

    ``callbacks(session, episode)`` run after each training episode and may call ``session.request_stop``; a
    callback that draws random numbers should take its own stream (``session.rng.numpy("my/name")``) so the run's
    other numbers stay as they were.
    """
    request = RunRequest(
        env=config.env,
        algo=config.algo,
        logdir=Path(logdir) if logdir is not None else None,
        wandb=wandb,
        progress=progress,
        stop_at=stop_at,
    )
    prepared = prepare_run(request, data_root=DATA_DIR, callbacks=tuple(callbacks), config=config)
    result = prepared.execute()
    return TrainedRun(run_dir=prepared.run_dir, result=result, config=prepared.config)


def resume(
    source: str | Path,
    *,
    logdir: str | Path | None = None,
    fork: bool = False,
    run: Overrides = (),
    graph: Overrides = (),
    device: str = "cpu",
    callbacks: Iterable[Callback] = (),
    progress: bool = False,
    wandb: str = "disabled",
    stop_at: int | None = None,
) -> TrainedRun:
    """Continue a run from ``source``: a run directory, a checkpoint directory, or ``wandb:ENTITY/PROJECT/NAME[:ALIAS]``
    (a model artifact; needs the network and a wandb login).

    Without ``logdir`` a local run continues in its own directory, exactly as if never stopped; ``run`` may raise
    ``n_steps`` or change test settings. ``fork=True`` starts a new run in ``logdir`` from the checkpoint's state and
    lets ``graph`` overrides change values that keep the shapes (learning rates, a fixed alpha, penalties, ...).
    """
    request = RunRequest(
        resume=str(source),
        logdir=Path(logdir) if logdir is not None else None,
        fork=fork,
        device=device,
        run_overrides=_as_strings(run),
        graph_overrides=_as_strings(graph),
        wandb=wandb,
        progress=progress,
        stop_at=stop_at,
    )
    prepared = prepare_run(request, data_root=DATA_DIR, callbacks=tuple(callbacks))
    result = prepared.execute()
    return TrainedRun(run_dir=prepared.run_dir, result=result, config=prepared.config)


def record_episode(
    agent: Agent, path: str | Path, *, seed: int = 0, every: int = 2, fps: float = 30.0
) -> tuple[Path, EvalResult, int]:
    """One deterministic episode of ``agent`` as a GIF at ``path``: running subgoals drawn in, a red border right
    after an action was ended early (an EAT termination). ``agent`` must be loaded with ``render_mode="rgb_array"``.

    Returns (path, the episode's result, how many early ends were marked).
    """
    if agent.env.render_mode != "rgb_array":
        raise ConfigError(
            "record_episode: the agent's env does not render frames (load_agent(..., render_mode='rgb_array'))"
        )
    recorder = FrameRecorder(agent.env, agent.graph, every=every)
    result = evaluate(agent, n_episodes=1, seed=seed, on_act=recorder.on_act, on_episode_end=recorder.on_episode_end)
    out = Path(path)
    write_gif(out, recorder.frames, fps)
    return out, result, recorder.n_marked_events


def metrics(run_dir: str | Path, split: str | None = None) -> Any:
    """A run's ``metrics.jsonl`` as a pandas DataFrame, one row per record: ``step``, ``split`` and the metrics
    (``train``: per episode; ``test``: per test block; ``learner``: update statistics). With ``split`` only that
    split's rows, without the ``split`` column (so every column is numeric and ``.rolling().mean()`` just works).

    Raises:
        ImportError: pandas is not installed (``pip install pandas``; the library itself does not need it).
    """
    try:
        import pandas as pd
    except ImportError as err:
        raise ImportError("api.metrics needs pandas: pip install pandas (or graph_rl[notebook])") from err
    frame = pd.DataFrame.from_records(read_metrics(run_dir, split))
    return frame.drop(columns="split") if split is not None and "split" in frame else frame
