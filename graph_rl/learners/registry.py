"""The learners a level can name in ``flat_algo_name``, and the interface every one of them provides.

A learner maps flat float32 observations to actions in [-1, 1]^act_dim, scores (observation, action) pairs and takes
gradient steps on replay batches. It knows nothing of nodes, goals or hierarchy. ``SAC`` (our lean SAC) is built in;
``tianshou.SAC|TD3|DDPG|REDQ`` wrap tianshou 2.x and import it only when built. :func:`register_learner` adds a
learner of one's own under a new name, usable from JSON like the shipped ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import torch

from graph_rl.learners.sac import SACConfig, SACLearner
from graph_rl.replay.buffer import ReplayBatch

__all__ = ["Learner", "LearnerFactory", "register_learner", "make_learner", "learner_names"]


class Learner(Protocol):
    """What algorithms, the graph and checkpoints use of a learner."""

    @property
    def device(self) -> torch.device: ...

    def act(self, obs: Any, deterministic: bool) -> Any:
        """Unit action (numpy, ``(act_dim,)``) for one flat observation."""

    def q_values(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """The value the actor maximises for a batch of pairs, ``(B,)``, without grad."""

    def update(self, batch: ReplayBatch) -> None:
        """One gradient step."""

    def pop_stats(self) -> dict[str, float]:
        """Means of the update statistics since the last call."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


LearnerFactory = Callable[..., Learner]
"""``factory(obs_dim, act_dim, config, *, init_generator, explore_generator, device) -> Learner``."""


def _tianshou(algo: str) -> LearnerFactory:
    def build(obs_dim: int, act_dim: int, config: SACConfig, **kwargs: Any) -> Learner:
        from graph_rl.learners.tianshou_adapter import TianshouLearner

        return TianshouLearner(algo, obs_dim, act_dim, config, **kwargs)

    return build


_REGISTRY: dict[str, LearnerFactory] = {
    "SAC": SACLearner,
    **{f"tianshou.{algo}": _tianshou(algo) for algo in ("SAC", "TD3", "DDPG", "REDQ")},
}


def register_learner(name: str, factory: LearnerFactory) -> None:
    """Make ``name`` a valid ``flat_algo_name``; refuses to replace a registered name."""
    if name in _REGISTRY:
        raise ValueError(f"learner {name!r} is already registered")
    _REGISTRY[name] = factory


def learner_names() -> tuple[str, ...]:
    """Every valid ``flat_algo_name``, in registration order."""
    return tuple(_REGISTRY)


def make_learner(
    name: str,
    obs_dim: int,
    act_dim: int,
    config: SACConfig,
    *,
    init_generator: torch.Generator,
    explore_generator: torch.Generator,
    device: str | torch.device = "cpu",
) -> Learner:
    """The learner registered as ``name``."""
    factory = _REGISTRY.get(name)
    if factory is None:
        raise ValueError(f"unknown flat_algo_name {name!r}; choose from {', '.join(_REGISTRY)}")
    return factory(
        obs_dim, act_dim, config, init_generator=init_generator, explore_generator=explore_generator, device=device
    )
