"""Timed-goal subtask (HiTS): be at the parent's goal exactly when the desired time has passed.

A timed subgoal ``(g, delta)`` emitted at step ``t0`` asks the node to be in ``g`` exactly
``T = unconvert(delta)`` env steps later, ``T`` in ``[delta_t_min, delta_t_max]`` (reference 4.1).
Times are normalised to [-1, 1] by ``convert(T) = 2T / delta_t_max - 1``. The node observes its
partial observation, ``g`` and the *remaining* time ``convert(T - e)``, ``e = t - t0`` (not clipped:
the final observation can dip slightly below -1, as in the original).

After each step: the deadline has passed iff ``T - e <= 0`` (up to float32 noise); then the activation ends, the learning
target stops bootstrapping, and the reward is 1 iff the goal is achieved at that moment (0 otherwise,
being early earns nothing; reference 4.2). The parent's hindsight action is the goal actually reached
paired with the time that really elapsed, ``convert(e - U)``, ``U ~ Uniform[0, 1)`` from the node's
``her`` stream: every duration that would have expired exactly at this step is equally likely.

Learnt tolerances (``max_thresholds`` given; the parent's ``learn_goal_ach_thresholds``): the parent also
chooses one achievement threshold per goal key, in ``[0, max]``; the node observes them after the goal,
hindsight goals keep them, and the hindsight action copies them (reference 4.6, ``...TolTG``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from graph_rl.spaces import DictLayout
from graph_rl.subtasks.aux_rewards import AuxReward
from graph_rl.subtasks.base import Goal, GoalCriterion, Outcome, PartialObs, Subtask

__all__ = ["TimedGoalSubtask", "TimeScale", "DEADLINE_TOLERANCE"]

DEADLINE_TOLERANCE = 1e-4
"""The deadline has passed iff ``T - e <= DEADLINE_TOLERANCE``. Desired times arrive as float32 actions, so
an intended 6-step subgoal can decode to 6.0000002 steps; without the tolerance it would run 7 steps."""


class TimeScale:
    """The map between env steps and the normalised time in [-1, 1]."""

    def __init__(self, delta_t_max: float) -> None:
        if delta_t_max <= 0:
            raise ValueError(f"delta_t_max must be > 0, got {delta_t_max}")
        self.delta_t_max = float(delta_t_max)

    def convert(self, steps: np.ndarray | float) -> np.ndarray | float:
        """Env steps -> [-1, 1]."""
        return 2.0 * steps / self.delta_t_max - 1.0

    def unconvert(self, delta: np.ndarray | float) -> np.ndarray | float:
        """[-1, 1] -> env steps."""
        return (delta + 1.0) / 2.0 * self.delta_t_max


class TimedGoalSubtask(Subtask):
    """Reach a timed subgoal (info-hiding dict spec).

    The parent's action layout is ``{"delta_t_ach": [convert(delta_t_min), 1], "goal": goal box}``,
    flattened in sorted key order (time first), as in the original.

    Args:
        partial_obs: the visible part of the env observation.
        goal_keys: partial-observation keys that form the goal.
        thresholds: per goal key achievement threshold.
        delta_t_max: longest subgoal duration in env steps.
        delta_t_min: shortest subgoal duration in env steps.
        rng: the node's ``her`` stream (for the hindsight time draw).
        aux_rewards: auxiliary terms.
        max_thresholds: per goal key upper bound of parent-chosen thresholds; None = fixed ``thresholds``.
    """

    max_n_actions = None
    achieved_reward = 1.0

    def __init__(
        self,
        partial_obs: PartialObs,
        goal_keys: Sequence[str],
        thresholds: Mapping[str, float],
        delta_t_max: float,
        delta_t_min: float,
        rng: np.random.Generator,
        aux_rewards: Sequence[AuxReward] = (),
        max_thresholds: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(aux_rewards)
        self.partial = partial_obs
        self.goal_layout = partial_obs.layout.sub(goal_keys)
        self.goal_index = partial_obs.layout.indices(goal_keys)
        self.criterion = GoalCriterion(self.goal_layout, thresholds)
        self.time = TimeScale(delta_t_max)
        self.delta_t_min = float(delta_t_min)
        self.rng = rng
        self.goal_slice = slice(partial_obs.dim, partial_obs.dim + self.goal_layout.dim)
        boxes = {
            "delta_t_ach": (np.array([self.time.convert(self.delta_t_min)]), np.array([1.0])),
            "goal": (self.goal_layout.low, self.goal_layout.high),
        }
        self.tol_slice: slice | None = None
        if max_thresholds is not None:
            keys = self.goal_layout.keys
            boxes["goal_tol"] = (np.zeros(len(keys)), np.array([max_thresholds[k] for k in keys]))
            self.tol_slice = slice(self.goal_slice.stop, self.goal_slice.stop + len(keys))
        self.time_index = self.goal_slice.stop if self.tol_slice is None else self.tol_slice.stop
        self.obs_dim = self.time_index + 1
        self.parent_action_layout: DictLayout = DictLayout(boxes)
        self._time_slot = self.parent_action_layout.slices["delta_t_ach"].start
        self._goal_slot = self.parent_action_layout.slices["goal"]
        self._tol_slot = self.parent_action_layout.slices.get("goal_tol")

    def start(self, parent_action: np.ndarray | None, env_obs: Mapping[str, Any], step: int) -> Goal:
        if parent_action is None:
            raise ValueError("a timed-goal subtask needs a timed goal from its parent")
        duration = float(self.time.unconvert(float(parent_action[self._time_slot])))
        thresholds = None if self._tol_slot is None else np.array(parent_action[self._tol_slot], dtype=np.float32)
        return Goal(
            desired=np.array(parent_action[self._goal_slot], dtype=np.float32),
            t0=step,
            duration=duration,
            thresholds=thresholds,
        )

    def _goal_part(self, goal: Goal) -> list[np.ndarray]:
        return [goal.desired] if goal.thresholds is None else [goal.desired, goal.thresholds]

    def remaining(self, goal: Goal, step: int) -> float:
        """Env steps left until the deadline (negative once past it)."""
        assert goal.duration is not None, "a timed goal has a duration"
        return goal.duration - (step - goal.t0)

    def observe(self, env_obs: Mapping[str, Any], goal: Goal, step: int) -> np.ndarray:
        time = np.array([self.time.convert(self.remaining(goal, step))], dtype=np.float32)
        return np.concatenate([self.partial(env_obs), *self._goal_part(goal), time])

    def finished(self, env_obs: Mapping[str, Any], goal: Goal, step: int) -> bool:
        return self.remaining(goal, step) <= DEADLINE_TOLERANCE

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
        achieved_goal = partial[self.goal_index]
        time_up = self.remaining(goal, step) <= DEADLINE_TOLERANCE
        achieved = time_up and bool(self.criterion(achieved_goal, goal.desired, goal.thresholds))
        reward = self.achieved_reward if achieved else 0.0
        if self.aux_rewards:
            reward += float(self.aux(action[None], np.array([env_return], dtype=np.float32))[0])
        time = np.array([self.time.convert(self.remaining(goal, step))], dtype=np.float32)
        return Outcome(
            reward=reward,
            achieved=achieved,
            ended=time_up,
            done=time_up,
            achieved_goal=achieved_goal,
            new_obs=np.concatenate([partial, *self._goal_part(goal), time]),
        )

    def hindsight_action(self, goal: Goal, achieved_goal: np.ndarray, step: int) -> np.ndarray:
        out = np.empty(self.parent_action_layout.dim, dtype=np.float32)
        out[self._time_slot] = self.time.convert((step - goal.t0) - self.rng.random())
        out[self._goal_slot] = achieved_goal
        if self._tol_slot is not None:
            out[self._tol_slot] = goal.thresholds
        return out

    def relabel(
        self,
        achieved_goals: np.ndarray,
        desired_goals: np.ndarray,
        actions: np.ndarray,
        env_returns: np.ndarray,
        time_up: np.ndarray | None = None,
        thresholds: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`Subtask.relabel`; ``thresholds`` ``(N, K)``: the learnt tolerances of each row."""
        if time_up is None:
            raise ValueError("timed relabelling needs the time_up mask")
        hit = self.criterion(achieved_goals, desired_goals, thresholds)
        achieved = np.asarray(time_up, dtype=bool) & np.asarray(hit, dtype=bool)
        rewards = np.where(achieved, self.achieved_reward, 0.0).astype(np.float32)
        if self.aux_rewards:
            rewards += self.aux(actions, env_returns)
        return rewards, achieved

    def render(self, goal: Goal, step: int) -> dict[str, Any] | None:
        tolerance = {key: self._threshold(goal, key) for key in self.goal_layout.keys}
        return self._marker(goal, float(self.remaining(goal, step)), tolerance)

    def _threshold(self, goal: Goal, key: str) -> float:
        if goal.thresholds is None:
            return self.criterion.thresholds[key]
        return float(goal.thresholds[self.goal_layout.keys.index(key)])
