"""The root's env subtask: reach the env's own goal, judged by the env's ``compute_reward``.

A shortest-path subtask whose goal is the env observation's ``desired_goal`` and whose achieved goal
is the ``env_goal_key`` entry of the partial observation (reference 3.2, ``EnvSPSubtaskSpec``);
achievement = ``compute_reward(achieved, desired) >= achievement_reward`` (the builder checks that threshold against
the env, so 0/1, -1/0 and dense rewards are all read right). Its budget is the top
level's ``max_n_actions``: when spent, the root returns control and the episode ends for the agent.

Deviation: ``done`` is also true when the env *terminates* (a real terminal state). On goal envs that
terminate only on success, like Platforms, this is identical to the original.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from graph_rl.spaces import DictLayout
from graph_rl.subtasks.aux_rewards import AuxReward
from graph_rl.subtasks.base import Goal, PartialObs
from graph_rl.subtasks.shortest_path import ShortestPathSubtask

__all__ = ["EnvGoalSubtask"]

RewardFn = Callable[[np.ndarray, np.ndarray, Any], Any]


class EnvGoalSubtask(ShortestPathSubtask):
    """Shortest path to the env goal.

    Args:
        partial_obs: what the root sees of the env observation.
        env_goal_key: partial-observation key that is the env's achieved goal.
        goal_bounds: (low, high) of the env's ``desired_goal``.
        compute_reward: the env's vectorised ``compute_reward(achieved, desired, info)``.
        max_n_actions: budget per episode (None = unlimited).
        achievement_reward: env reward at and above which the goal counts as reached.
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
        observe_budget: bool = False,
    ) -> None:
        if env_goal_key not in partial_obs.layout.slices:
            raise KeyError(f"env_goal_key {env_goal_key!r} is not a visible observation key {list(partial_obs.keys)}")
        super().__init__(
            partial_obs,
            [env_goal_key],
            {env_goal_key: 1.0},
            max_n_actions,
            aux_rewards,
            constant_failure_return,
            observe_budget,
        )
        self.goal_layout = DictLayout({"desired_goal": goal_bounds})
        if self.goal_layout.dim != len(self.goal_index):
            raise ValueError(
                f"desired_goal has {self.goal_layout.dim} dims but {env_goal_key!r} has {len(self.goal_index)}"
            )
        self.env_goal_key = env_goal_key
        self.compute_reward = compute_reward
        self.achievement_reward = float(achievement_reward)
        self.parent_action_layout = None

    def start(self, parent_action: np.ndarray | None, env_obs: Mapping[str, Any], step: int) -> Goal:
        return Goal(desired=np.asarray(env_obs["desired_goal"], dtype=np.float32).copy(), t0=step)

    def finished(self, env_obs: Mapping[str, Any], goal: Goal, step: int) -> bool:
        # Checked every env step: read the achieved goal directly instead of flattening the observation.
        achieved = np.asarray(env_obs["observation"][self.env_goal_key], dtype=np.float32)
        return bool(self.is_achieved(achieved, goal.desired))

    def is_achieved(self, achieved: np.ndarray, desired: np.ndarray) -> np.ndarray:
        return np.asarray(self.compute_reward(achieved, desired, {})) >= self.achievement_reward

    def _done(self, achieved: bool, terminated: bool) -> bool:
        return achieved or terminated

    def hindsight_action(self, goal: Goal, achieved_goal: np.ndarray, step: int) -> np.ndarray:
        raise RuntimeError("the env subtask has no parent")

    def render(self, goal: Goal, step: int) -> dict[str, Any] | None:
        return None
