"""Auxiliary reward terms added to a level's subtask reward.

Each term is a pure function of the level's own action and of the env rewards collected while that
action ran, evaluated on batches. Being pure (no per-step state) is a deliberate fix: the original's
``EnvReward`` accumulated env rewards in the term itself and reset them on every call, so hindsight
copies of a transition got 0 (reference 7.2 item 6); here every copy gets the same env-reward term.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

__all__ = ["AuxReward", "DeltaTAchReward", "EnvReward", "GoalTolReward"]


class AuxReward(Protocol):
    """``(N, A)`` flat actions (action-space units), ``(N,)`` env returns -> ``(N,)`` rewards."""

    def __call__(self, actions: np.ndarray, env_returns: np.ndarray) -> np.ndarray: ...


class DeltaTAchReward:
    """Desired-time penalty ``-w * (delta + 1) / 2 = -w * T / delta_t_max`` of an emitted timed subgoal.

    It makes the higher level of HiTS prefer short subgoals (reference 4.4).

    Args:
        weight: w.
        index: position of the normalised desired time in the level's flat action.
    """

    def __init__(self, weight: float, index: int) -> None:
        self.weight = float(weight)
        self.index = int(index)

    def __call__(self, actions: np.ndarray, env_returns: np.ndarray) -> np.ndarray:
        return (-self.weight * (actions[:, self.index] + 1.0) / 2.0).astype(np.float32)


class EnvReward:
    """``weight`` times the sum of env rewards collected while the action ran."""

    def __init__(self, weight: float) -> None:
        self.weight = float(weight)

    def __call__(self, actions: np.ndarray, env_returns: np.ndarray) -> np.ndarray:
        return (self.weight * np.asarray(env_returns, dtype=np.float32)).astype(np.float32)


class GoalTolReward:
    """``-weight * mean(chosen thresholds)`` for a level that chooses its child's goal tolerances.

    Without it, loose tolerances would be free and the level would make every subgoal trivially achievable
    (reference 4.4, ``learn_goal_ach_thresholds``).

    Args:
        weight: ``goal_tol_rew``.
        columns: where the chosen thresholds sit in the level's flat action.
    """

    def __init__(self, weight: float, columns: slice) -> None:
        self.weight = float(weight)
        self.columns = columns

    def __call__(self, actions: np.ndarray, env_returns: np.ndarray) -> np.ndarray:
        return (-self.weight * actions[:, self.columns].mean(axis=1)).astype(np.float32)
