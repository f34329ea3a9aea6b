"""What a subtask is: a node's view of the env (observation, goal) and its judge (reward, termination).

A subtask turns env observations plus the goal its parent handed down into the node's flat
observation, decides when the node's activation is over, scores each closed action, and tells the
parent afterwards what the node actually achieved (the hindsight action). The goal pursued by one
activation is a :class:`Goal`; the score of one closed action is an :class:`Outcome`.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from graph_rl.spaces import DictLayout
from graph_rl.subtasks.aux_rewards import AuxReward

__all__ = ["Goal", "Outcome", "Subtask", "GoalCriterion", "PartialObs"]


@dataclasses.dataclass(slots=True)
class Goal:
    """What one activation of a node pursues.

    Attributes:
        desired: flat desired goal (goal-space units).
        t0: episode step at which the activation started.
        duration: timed goals only: env steps until the deadline (T).
        thresholds: per goal key achievement thresholds chosen by the parent (learnt tolerances), else None.
        used: actions of the activation charged to its budget so far.
    """

    desired: np.ndarray
    t0: int
    duration: float | None = None
    thresholds: np.ndarray | None = None
    used: int = 0


@dataclasses.dataclass(slots=True)
class Outcome:
    """The subtask's verdict on one closed action.

    Attributes:
        reward: the node's reward, aux rewards included.
        achieved: the node's goal counts as achieved after this action (HiTS: at the deadline).
        ended: the activation is over (achieved, budget spent, deadline passed).
        done: no bootstrapping from the next observation in the node's learning target.
        achieved_goal: flat achieved goal after the action.
        new_obs: the node's flat observation after the action.
    """

    reward: float
    achieved: bool
    ended: bool
    done: bool
    achieved_goal: np.ndarray
    new_obs: np.ndarray


class PartialObs:
    """The keys of the env's ``observation`` dict that a level sees (info hiding), flattened.

    Args:
        env_obs_layout: layout of the env's full ``observation`` dict.
        keys: the visible keys; None = all.
    """

    def __init__(self, env_obs_layout: DictLayout, keys: Sequence[str] | None) -> None:
        self.layout = env_obs_layout if keys is None else env_obs_layout.sub(keys)
        self.keys = self.layout.keys
        self.dim = self.layout.dim

    def __call__(self, env_obs: Mapping[str, Any]) -> np.ndarray:
        return self.layout.flatten(env_obs["observation"])


class GoalCriterion:
    """Per-key achievement: every goal key within its L2 threshold (strictly below, like the original).

    Args:
        layout: the goal keys' flat layout.
        thresholds: key -> threshold; every key of ``layout`` needs one.
    """

    def __init__(self, layout: DictLayout, thresholds: Mapping[str, float]) -> None:
        missing = [k for k in layout.keys if k not in thresholds]
        if missing:
            raise KeyError(f"goal keys {missing} have no achievement threshold")
        self.layout = layout
        self.thresholds = {k: float(thresholds[k]) for k in layout.keys}
        self._groups = [(layout.slices[k], self.thresholds[k]) for k in layout.keys]

    def __call__(self, achieved: np.ndarray, desired: np.ndarray, thresholds: np.ndarray | None = None) -> np.ndarray:
        """Bool array over leading axes of ``(..., G)`` goal arrays.

        ``thresholds`` (``(..., K)``, one per key in sorted key order) replaces the fixed ones (learnt tolerances).
        """
        diff = achieved - desired
        ok = np.ones(diff.shape[:-1], dtype=bool)
        for k, (sl, thr) in enumerate(self._groups):
            ok &= np.sqrt(np.sum(diff[..., sl] ** 2, axis=-1)) < (thr if thresholds is None else thresholds[..., k])
        return ok


class Subtask(ABC):
    """Base of every subtask.

    Attributes:
        obs_dim: size of the node's flat observation.
        goal_slice: where the desired goal sits in that observation (hindsight goals overwrite it).
        goal_layout: the goal keys' flat layout.
        parent_action_layout: what a parent must emit for this subtask (None for the root's env subtask).
        max_n_actions: action budget per activation (None = unlimited).
        aux_rewards: auxiliary reward terms added to every reward of this node.
        achieved_reward: the reward of an action that achieves the goal, before aux terms (the largest this
            subtask pays): 0 for shortest paths (-1 otherwise), 1 for timed goals. The builder reads it to refuse a
            critic bounded by 0 (``force_negative``) where rewards reach above 0.
    """

    achieved_reward: float = 0.0
    obs_dim: int
    goal_slice: slice
    goal_layout: DictLayout
    parent_action_layout: DictLayout | None
    max_n_actions: float | None = None

    def __init__(self, aux_rewards: Sequence[AuxReward] = ()) -> None:
        self.aux_rewards = list(aux_rewards)

    def aux(self, actions: np.ndarray, env_returns: np.ndarray) -> np.ndarray:
        """Sum of the aux rewards for a batch: ``(N, A)`` actions, ``(N,)`` env returns -> ``(N,)``."""
        total = np.zeros(len(actions), dtype=np.float32)
        for term in self.aux_rewards:
            total += term(actions, env_returns)
        return total

    @abstractmethod
    def start(self, parent_action: np.ndarray | None, env_obs: Mapping[str, Any], step: int) -> Goal:
        """The goal of a new activation (parent's flat action, or the env's goal at the root)."""

    @abstractmethod
    def observe(self, env_obs: Mapping[str, Any], goal: Goal, step: int) -> np.ndarray:
        """The node's flat observation."""

    @abstractmethod
    def finished(self, env_obs: Mapping[str, Any], goal: Goal, step: int) -> bool:
        """Whether the activation must end now (checked every step while the node waits on a child)."""

    @abstractmethod
    def evaluate(
        self,
        env_obs: Mapping[str, Any],
        goal: Goal,
        step: int,
        n_actions: int,
        action: np.ndarray,
        env_return: float,
        terminated: bool,
        env_done: bool,
    ) -> Outcome:
        """Score the action just closed (``n_actions`` counts it)."""

    @abstractmethod
    def hindsight_action(self, goal: Goal, achieved_goal: np.ndarray, step: int) -> np.ndarray:
        """The parent action that the activation actually achieved (flat, parent-action units)."""

    @abstractmethod
    def relabel(
        self,
        achieved_goals: np.ndarray,
        desired_goals: np.ndarray,
        actions: np.ndarray,
        env_returns: np.ndarray,
        time_up: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rewards and achievement for a batch of hindsight goals: ``(N,)`` float32 and ``(N,)`` bool."""

    def budget_spent(self, new_obs: np.ndarray) -> np.ndarray:
        """Which ``(N, obs_dim)`` next observations show the node's budget spent, where it observes one."""
        return np.zeros(len(new_obs), dtype=bool)

    def render(self, goal: Goal, step: int) -> dict[str, Any] | None:
        """The running goal in the ``set_subgoals`` format of an env that draws subgoals, or None (nothing to draw)."""
        return None

    def _marker(self, goal: Goal, time_left: float | None, tolerance: Mapping[str, float]) -> dict[str, Any]:
        """``set_subgoals`` entry: ``{"goal": {key: value}, "time_left": steps or None, "tolerance": {key: radius}}``.

        Every goal key is handed over: which of them the env can draw (Platforms: ``position``) is the env's call."""
        goal_values = {key: goal.desired[sl].copy() for key, sl in self.goal_layout.slices.items()}
        return {"goal": goal_values, "time_left": time_left, "tolerance": dict(tolerance)}
