"""Parameters of a training session (``run_params.json``) and of its optional wandb run (``wandb_params.json``).

Both files live next to ``graph_params.json`` in ``data/<Env>/<Algo>/``. Field names follow the original
runner's files where the meaning is unchanged; where it changed the docstring says how (``max_runtime`` is wall
seconds here, not minutes of CPU time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from graph_rl.config.schema import ConfigError

__all__ = ["RunParams", "WandbParams"]


def _positive(path: str, name: str, value: float | None, *, allow_none: bool = False, allow_zero: bool = False) -> None:
    if value is None and allow_none:
        return
    if value is None or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{path + '.' if path else ''}{name}: must be {bound}, got {value!r}")


@dataclass(kw_only=True)
class RunParams:
    """What to train on, for how long, and how often to test and checkpoint."""

    env: str
    """Gymnasium id of the environment, e.g. ``EasyPlatforms-v1``."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for ``gymnasium.make``."""
    n_steps: int
    """Training budget in env steps (test episodes do not count). Checked at episode ends, so a run may
    overshoot by less than one episode; that keeps every checkpoint on an episode boundary."""
    max_runtime: float | None = None
    """Wall-clock budget in seconds for one invocation (a resumed run gets a fresh budget); null = none.
    The original counted minutes of CPU time, which ran slow with several threads."""
    test_frequency: int = 40
    """Run a test block after every ``test_frequency``-th training episode."""
    n_test_episodes: int = 10
    """Deterministic episodes per test block; 0 disables testing."""
    model_save_frequency: int | None = None
    """Checkpoint at the first episode end after every multiple of this many env steps; null = only at the end."""
    keep_checkpoints: int | None = 3
    """How many of the newest checkpoints stay on disk (older ones are deleted); null = keep all."""
    success_reward: float | None = 0.0
    """An episode succeeds if any step's env reward equals this value; null = no success metric."""
    seed: int = 0
    """Root seed of the run's RNG registry (``--seed`` overrides it)."""
    torch_num_threads: int = 1
    """Torch intra-op threads (``--threads`` overrides it). Part of the reproducibility contract."""
    tensorboard_log: bool = False
    """Also write TensorBoard event files to ``<run dir>/tensorboard``."""
    video_frequency: int | None = None
    """Record the first episode of every ``video_frequency``-th test block as ``<run dir>/videos/test-step-<N>.gif``
    (and to wandb); null = no videos. Recording changes no metric."""
    video_every_k_steps: int = 2
    """Keep every k-th frame of a recorded episode (2: real time for the Platforms envs at 30 fps)."""

    def validate(self, path: str) -> None:
        _positive(path, "n_steps", self.n_steps)
        _positive(path, "max_runtime", self.max_runtime, allow_none=True)
        _positive(path, "test_frequency", self.test_frequency)
        _positive(path, "n_test_episodes", self.n_test_episodes, allow_zero=True)
        _positive(path, "model_save_frequency", self.model_save_frequency, allow_none=True)
        _positive(path, "keep_checkpoints", self.keep_checkpoints, allow_none=True)
        _positive(path, "seed", self.seed, allow_zero=True)
        _positive(path, "torch_num_threads", self.torch_num_threads)
        _positive(path, "video_frequency", self.video_frequency, allow_none=True)
        _positive(path, "video_every_k_steps", self.video_every_k_steps)


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(kw_only=True)
class WandbParams:
    """Weights & Biases run settings; only read when ``--wandb`` is ``online`` or ``offline``.

    The original's ``sync_tensorboard`` and ``monitor_gym`` are gone: metrics go to wandb directly from the
    logger, videos from ``RunParams.video_frequency`` (test episodes) and ``scripts/run/evaluate.py``.
    """

    project: str = "graph_rl"
    entity: str | None = None
    """Team or user; null = your default entity."""
    name: str | None = "{algo}-{env}-s{seed}"
    """Run name; ``{algo}``, ``{env}`` and ``{seed}`` are filled in."""
    group: str | None = None
    tags: list[str] = field(default_factory=list)
    notes: str | None = None
    model_logging: bool = True
    """Log every checkpoint as a ``model`` artifact (aliases ``latest`` and ``step-<N>``)."""
    save_code: bool = False

    def validate(self, path: str) -> None:
        if self.name is not None:
            for key in _PLACEHOLDER.findall(self.name):
                if key not in ("algo", "env", "seed"):
                    where = f"{path}.name" if path else "name"
                    raise ConfigError(f"{where}: unknown placeholder {{{key}}} (use {{algo}}, {{env}} or {{seed}})")

    def run_name(self, *, algo: str, env: str, seed: int) -> str | None:
        """The run name with its placeholders filled in."""
        return None if self.name is None else self.name.format(algo=algo, env=env, seed=seed)
