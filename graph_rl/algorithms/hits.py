"""HiTS: timed hindsight goals for a level that pursues timed subgoals (Gürtler et al. 2021; reference 4.3).

The real transitions are stored as they are: reward 1 only when the deadline passes with the goal
achieved, ``done`` at the deadline. On top, for transition ``i`` of a node episode of length ``n``,
``k_i = floor(x) + Bernoulli(frac(x))`` timed hindsight goals with ``x = 2 (n - i) / n * n_hindsight_goals``
(more for early transitions, ``n_hindsight_goals`` on average), each from an index ``j`` drawn
uniformly from ``[i, n)`` (``i`` included) with its own ``u ~ U[0, 1)``:

* goal = the goal achieved after action ``j``;
* remaining time in the observation ``t1_j - t0_i - u`` steps, in the next observation ``t1_j - t1_i - u``
  (normalised), i.e. the deadline falls within action ``j``;
* so only ``j = i`` reaches the deadline: reward 1 (+aux), ``done``; ``j > i``: reward 0 (+aux), not done.

``final`` uses ``j = n - 1`` once per transition. (``episode`` would put deadlines in the past and is
rejected.) A HiTS level that itself has timed children (3+ levels) also stores testing transitions and
hindsight actions like HAC, replacing only the goal part of its action: the desired time is kept.

The higher level's hindsight action carries the time that really elapsed (see
:mod:`graph_rl.subtasks.timed_goal`); that relabelling happens in the parent's algorithm.
"""

from __future__ import annotations

import numpy as np

from graph_rl.algorithms.base import Algorithm, EpisodeArrays, RelabelledBatch, Transition
from graph_rl.subtasks.timed_goal import DEADLINE_TOLERANCE, TimedGoalSubtask

__all__ = ["HiTS"]


class HiTS(Algorithm):
    """HiTS node algorithm for a :class:`TimedGoalSubtask` level.

    Extra args:
        hindsight_columns: with timed children, the action columns a hindsight action replaces
            (the goal part of the child's timed goal).
    """

    subtask: TimedGoalSubtask

    def __init__(self, *args, hindsight_columns: slice | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not isinstance(self.subtask, TimedGoalSubtask):
            raise TypeError(f"HiTS needs a TimedGoalSubtask, got {type(self.subtask).__name__}")
        if self.params.goal_sampling_strategy not in ("future", "final"):
            raise ValueError(
                f"HiTS supports the 'future' and 'final' hindsight strategies, not {self.params.goal_sampling_strategy!r}"
            )
        self.hindsight_columns = hindsight_columns

    def hindsight_indices(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(source transition, goal transition) index pairs for the timed hindsight goals."""
        k = self.params.n_hindsight_goals
        if k == 0 or n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        if self.params.goal_sampling_strategy == "final":
            return np.arange(n), np.full(n, n - 1)
        x = 2.0 * (n - np.arange(n)) / n * k
        whole = np.floor(x)
        counts = (whole + (self.her_rng.random(n) < x - whole)).astype(np.int64)
        src = np.repeat(np.arange(n), counts)
        return src, self.her_rng.integers(src, n) if len(src) else src

    def relabel(self, episode: list[Transition]) -> RelabelledBatch:
        ep = EpisodeArrays.stack(episode)
        disc = self.discount_exponents(ep.t0, ep.t1)
        testing = None
        if episode[0].child_hindsight is not None:
            testing = self.apply_child_feedback(episode, ep, disc, self.hindsight_columns)
        parts = [RelabelledBatch(ep.obs, ep.act, ep.rew, ep.new_obs, ep.done, disc)]
        if testing is not None:
            parts.append(testing)
        src, tgt = self.hindsight_indices(len(episode))
        if len(src):
            u = self.her_rng.random(len(src))
            left_before = ep.t1[tgt] - ep.t0[src] - u
            left_after = ep.t1[tgt] - ep.t1[src] - u
            time_up = left_after <= DEADLINE_TOLERANCE
            goals = ep.achieved_goal[tgt]
            gs, ti, scale = self.subtask.goal_slice, self.subtask.time_index, self.subtask.time
            obs, new_obs = ep.obs[src], ep.new_obs[src]
            obs[:, gs] = goals
            new_obs[:, gs] = goals
            obs[:, ti] = scale.convert(left_before)
            new_obs[:, ti] = scale.convert(left_after)
            tol = None if self.subtask.tol_slice is None else obs[:, self.subtask.tol_slice]
            rew, _ = self.subtask.relabel(ep.achieved_goal[src], goals, ep.act[src], ep.env_return[src], time_up, tol)
            parts.append(RelabelledBatch(obs, ep.act[src], rew, new_obs, time_up.astype(np.float32), disc[src]))
        return RelabelledBatch.concat(parts)
