"""The top level of an EAT hierarchy: reach the env goal in as few *env steps* as possible (reference EAT 1.7).

HiTS's top level pays -1 per subgoal and discounts once per subgoal, so cutting a subgoal short and emitting a
fresh one costs an extra -1 and an extra discount: termination would defeat itself. Here an action lasting
``k`` env steps earns the env rewards collected meanwhile, discounted inside the action,
``sum_{i<k} gamma^i r_i / c`` (the node's ``env_reward_discount`` is gamma; ``c`` normalises a typical subgoal's
reward to about -1), and the learner bootstraps with ``gamma ** k`` (the algorithm's discount exponents). The
level's discounted return is then the env's discounted return divided by ``c``, however time is cut into
actions. ``done`` stays "env goal reached" (time-outs bootstrap). Aux terms still add on top.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from graph_rl.subtasks.aux_rewards import AuxReward
from graph_rl.subtasks.base import Goal, Outcome, PartialObs
from graph_rl.subtasks.env_goal import EnvGoalSubtask, RewardFn

__all__ = ["DiscountedEnvGoalSubtask"]


class DiscountedEnvGoalSubtask(EnvGoalSubtask):
    """Env-goal subtask whose reward is the normalised discounted env reward of each action.

    Args:
        reward_normalization: c.
        (the rest as :class:`EnvGoalSubtask`)
    """

    def __init__(
        self,
        partial_obs: PartialObs,
        env_goal_key: str,
        goal_bounds: tuple[np.ndarray, np.ndarray],
        compute_reward: RewardFn,
        max_n_actions: float | None,
        aux_rewards: Sequence[AuxReward] = (),
        constant_failure_return: bool = False,
        achievement_reward: float = 0.0,
        *,
        reward_normalization: float,
    ) -> None:
        super().__init__(
            partial_obs,
            env_goal_key,
            goal_bounds,
            compute_reward,
            max_n_actions,
            aux_rewards,
            constant_failure_return,
            achievement_reward,
        )
        if reward_normalization <= 0:
            raise ValueError(f"reward_normalization must be > 0, got {reward_normalization}")
        self.reward_normalization = float(reward_normalization)

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
        out = super().evaluate(env_obs, goal, step, n_actions, action, env_return, terminated, env_done)
        shortest_path_reward = 0.0 if out.achieved else -1.0
        out.reward += env_return / self.reward_normalization - shortest_path_reward
        return out

    def relabel(
        self,
        achieved_goals: np.ndarray,
        desired_goals: np.ndarray,
        actions: np.ndarray,
        env_returns: np.ndarray,
        time_up: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``env_returns`` must already be scored for ``desired_goals`` (see ``EAT.hindsight_env_returns``)."""
        achieved = np.asarray(self.is_achieved(achieved_goals, desired_goals), dtype=bool)
        rewards = (np.asarray(env_returns, dtype=np.float32) / np.float32(self.reward_normalization)).astype(np.float32)
        if self.aux_rewards:
            rewards += self.aux(actions, env_returns)
        return rewards, achieved
