"""Tiny training configs for the real algorithms on EasyPlatforms: learning starts early, tests every 2 episodes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import envs  # noqa: F401 - registers the Platforms environments
from graph_rl.session import RunRequest, train

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
LEVELS = {"SAC": 1, "HAC": 2, "HiTS": 2, "EAT": 2}
STEPS = 1000


def tiny_overrides(algo: str, steps: int = STEPS) -> tuple[list[str], list[str]]:
    """(run_params, graph_params) overrides for a run of ``steps`` env steps that learns after a quarter."""
    run = [f"n_steps={steps}", "test_frequency=2", "n_test_episodes=1", f"model_save_frequency={steps // 2}"]
    graph = [f"level_params_list[{i}].algo_kwargs.learning_starts={steps // 4}" for i in range(LEVELS[algo])]
    return run, graph


def tiny_train(
    algo: str, logdir: Path | None, *, seed: int = 0, graph_extra: tuple[str, ...] = (),
    run_extra: tuple[str, ...] = (), **kwargs: Any,
) -> tuple[Path, Any]:
    """Train in this process; ``graph_extra``/``run_extra``: more overrides; ``kwargs`` go to :class:`RunRequest`
    or :func:`train` (graph_factory, callbacks)."""
    run, graph = tiny_overrides(algo)
    run, graph = [*run, *run_extra], [*graph, *graph_extra]
    factory = {k: kwargs.pop(k) for k in ("graph_factory", "callbacks", "api_factory") if k in kwargs}
    request = RunRequest(
        env="EasyPlatforms", algo=algo, seed=seed, logdir=logdir, progress=False,
        run_overrides=run, graph_overrides=graph, **kwargs,
    )
    return train(request, data_root=DATA, **factory)
