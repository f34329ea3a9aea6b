"""Shortest-path subtask (HAC): reach the parent's goal in as few actions as possible.

Reward -1 per action, 0 for the action after which the goal is achieved (reference 3.1), plus aux
rewards. The activation ends when the goal is achieved or the action budget ``max_n_actions`` is
spent. The node sees only ``partial_obs_keys`` of the env observation plus the desired goal; its goal
is the ``goal_keys`` part of that partial observation, achieved when every key is within its L2
threshold.

``observe_budget`` (not in the original) makes the budget part of the task's state, the standard treatment
of a time limit that belongs to the task (Pardo et al. 2018, "Time Limits in Reinforcement Learning"): the node
observes the fraction of its budget left, and spending the budget is terminal. HAC encodes the same
finite horizon by bounding its critics to [-H, 0]; the original bootstrapped through budget exhaustion
from states whose remaining budget it could not see.

``constant_failure_return`` reproduces the original exactly (-4 per unused action when the env ends
without success; it does not fire on budget exhaustion, reference 7.2 item 14).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from graph_rl.spaces import DictLayout
from graph_rl.subtasks.aux_rewards import AuxReward
from graph_rl.subtasks.base import Goal, GoalCriterion, Outcome, PartialObs, Subtask

__all__ = ["ShortestPathSubtask"]

_FAILURE_RETURN_PER_ACTION = -4.0  # the original's hard-coded 0.3 * (-10) - 1
_BUDGET_EPS = 1e-6  # the observed fraction left is exactly 0 once spent; float32 slack


class ShortestPathSubtask(Subtask):
    """Reach a goal handed down by the parent (info-hiding dict spec).

    Args:
        partial_obs: the visible part of the env observation.
        goal_keys: partial-observation keys that form the goal (and the parent's action).
        thresholds: per goal key achievement threshold.
        max_n_actions: budget per activation (None = unlimited).
        aux_rewards: auxiliary terms.
        constant_failure_return: see module docstring.
        observe_budget: see module docstring (needs a budget).
    """

    def __init__(
        self,
        partial_obs: PartialObs,
        goal_keys: Sequence[str],
        thresholds: Mapping[str, float],
        max_n_actions: float | None,
        aux_rewards: Sequence[AuxReward] = (),
        constant_failure_return: bool = False,
        observe_budget: bool = False,
    ) -> None:
        super().__init__(aux_rewards)
        self.partial = partial_obs
        self.goal_layout = partial_obs.layout.sub(goal_keys)
        self.goal_index = partial_obs.layout.indices(goal_keys)
        self.criterion = GoalCriterion(self.goal_layout, thresholds)
        self.max_n_actions = max_n_actions
        self.constant_failure_return = constant_failure_return
        if observe_budget and max_n_actions is None:
            raise ValueError("observe_budget needs a finite max_n_actions")
        self.observe_budget = observe_budget
        self.goal_slice = slice(partial_obs.dim, partial_obs.dim + self.goal_layout.dim)
        self.obs_dim = partial_obs.dim + self.goal_layout.dim + int(observe_budget)
        self.parent_action_layout: DictLayout | None = self.goal_layout

    def start(self, parent_action: np.ndarray | None, env_obs: Mapping[str, Any], step: int) -> Goal:
        if parent_action is None:
            raise ValueError("a shortest-path subtask needs a goal from its parent")
        return Goal(desired=np.array(parent_action, dtype=np.float32), t0=step)

    def achieved_goal(self, partial: np.ndarray) -> np.ndarray:
        """The goal-space point the node is at."""
        return partial[self.goal_index]

    def is_achieved(self, achieved: np.ndarray, desired: np.ndarray) -> np.ndarray:
        """Vectorised achievement test."""
        return self.criterion(achieved, desired)

    def _with_goal(self, partial: np.ndarray, goal: Goal) -> np.ndarray:
        if not self.observe_budget:
            return np.concatenate([partial, goal.desired])
        assert self.max_n_actions is not None, "an observed budget is finite"
        left = np.array([1.0 - goal.used / self.max_n_actions], dtype=np.float32)
        return np.concatenate([partial, goal.desired, left])

    def observe(self, env_obs: Mapping[str, Any], goal: Goal, step: int) -> np.ndarray:
        return self._with_goal(self.partial(env_obs), goal)

    def finished(self, env_obs: Mapping[str, Any], goal: Goal, step: int) -> bool:
        return bool(self.is_achieved(self.achieved_goal(self.partial(env_obs)), goal.desired))

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
        partial = self.partial(env_obs)
        achieved_goal = self.achieved_goal(partial)
        achieved = bool(self.is_achieved(achieved_goal, goal.desired))
        reward = self.achieved_reward if achieved else -1.0
        if self.aux_rewards:
            reward += float(self.aux(action[None], np.array([env_return], dtype=np.float32))[0])
        if self.constant_failure_return and env_done and not achieved and self.max_n_actions is not None:
            reward += (self.max_n_actions - n_actions) * _FAILURE_RETURN_PER_ACTION
        spent = self.max_n_actions is not None and n_actions >= self.max_n_actions
        goal.used = n_actions
        return Outcome(
            reward=reward,
            achieved=achieved,
            ended=achieved or spent,
            done=self._done(achieved, terminated) or (self.observe_budget and spent),
            achieved_goal=achieved_goal,
            new_obs=self._with_goal(partial, goal),
        )

    def _done(self, achieved: bool, terminated: bool) -> bool:
        # Env time-outs and budget exhaustion are bootstrapped (bootstrap_end_of_episode, reference 3.5).
        return achieved

    def budget_spent(self, new_obs: np.ndarray) -> np.ndarray:
        """Which ``(N, obs_dim)`` next observations show an observed budget spent."""
        if not self.observe_budget:
            return np.zeros(len(new_obs), dtype=bool)
        return new_obs[:, -1] <= _BUDGET_EPS

    def hindsight_action(self, goal: Goal, achieved_goal: np.ndarray, step: int) -> np.ndarray:
        return achieved_goal.astype(np.float32, copy=True)

    def relabel(
        self,
        achieved_goals: np.ndarray,
        desired_goals: np.ndarray,
        actions: np.ndarray,
        env_returns: np.ndarray,
        time_up: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        achieved = np.asarray(self.is_achieved(achieved_goals, desired_goals), dtype=bool)
        rewards = np.where(achieved, self.achieved_reward, -1.0).astype(np.float32)
        if self.aux_rewards:
            rewards += self.aux(actions, env_returns)
        return rewards, achieved

    def render(self, goal: Goal, step: int) -> dict[str, Any] | None:
        return self._marker(goal, None, self.criterion.thresholds)
