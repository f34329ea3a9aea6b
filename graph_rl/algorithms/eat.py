"""EAT's higher level: HAC relabelling, the time-discounted objective and termination bookkeeping (reference EAT 1.5-1.7).

The level above the timed subgoals of an EAT hierarchy. Its termination policy (the node's interruption hook,
:mod:`graph_rl.nodes.termination`) may end a running subgoal at any env step; everything else stays HAC:

* **time discount** (with a :class:`~graph_rl.subtasks.DiscountedEnvGoalSubtask`): a transition's discount
  exponent is the number of env steps its action lasted, ``t1 - t0``, so the learner bootstraps with
  ``gamma ** k`` (the original's VariableDiscountSAC). A hindsight-goal copy keeps the env rewards of the action
  but re-scores its last step for the hindsight goal, ``+ gamma^(k-1) (r(g) - r(g_env))`` with the env's
  ``compute_reward``: the original swapped that last reward to the achievement reward when the hindsight goal
  was reached (1.7), which is the same on goal envs whose reward is -1/0. Without that subtask this is HAC.
* **interrupted subgoal tests** get no failure penalty by default (``eat.interrupted_test_penalty``): the child
  was cut short before its deadline, so nothing is known about whether the subgoal was achievable (the core
  skips every test whose child did not complete, ``Transition.child_completed``). A penalty would also make the
  level shy away from terminating, which the time-discounted objective is built to make free. The original meant
  to scale it by the elapsed fraction but, through a flag read from the wrong dict, always gave the full one
  (1.6, 1.9 item 3); ``full`` restores that behaviour (on EasyPlatforms it did not keep terminations from taking
  over either: see the README). The interrupted action's hindsight transition (the state reached in the time that
  passed) is stored as usual.
* **metrics**: per episode ``terminations`` and ``termination_rate`` (terminated / closed actions) plus the
  policy's own statistics; without a policy (strategy ``never``) none of them, so such a run logs what HiTS logs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graph_rl.algorithms.base import EpisodeArrays, Transition
from graph_rl.algorithms.hac import HAC
from graph_rl.subtasks import DiscountedEnvGoalSubtask

if TYPE_CHECKING:
    from graph_rl.nodes.termination import TerminationPolicy

__all__ = ["EAT"]


class EAT(HAC):
    """Top-level algorithm of an EAT hierarchy.

    Extra args:
        termination: the node's termination policy (its state and statistics live in this algorithm's
            checkpoint and metrics); None for strategy ``never``.
        penalise_interrupted_tests: a subgoal test cut short by a termination gets ``child_failure_penalty``
            (``eat.interrupted_test_penalty = "full"``, the original's behaviour) instead of no testing transition.
    """

    def __init__(self, *args: Any, termination: TerminationPolicy | None = None,
                 penalise_interrupted_tests: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.termination = termination
        self.penalise_interrupted_tests = penalise_interrupted_tests
        self.time_discounted = isinstance(self.subtask, DiscountedEnvGoalSubtask)
        self.gamma = self.params.flat_algo_kwargs.gamma
        self.n_closed = 0
        self.n_terminated = 0

    def add(self, transition: Transition) -> None:
        self.n_closed += 1
        self.n_terminated += transition.interrupted
        super().add(transition)

    def discount_exponents(self, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        if not self.time_discounted:
            return super().discount_exponents(t0, t1)
        return (t1 - t0).astype(np.float32)

    def hindsight_env_returns(self, ep: EpisodeArrays, src: np.ndarray, goals: np.ndarray) -> np.ndarray:
        if not self.time_discounted:
            return super().hindsight_env_returns(ep, src, goals)
        reward = self.subtask.compute_reward
        achieved, env_goals = ep.achieved_goal[src], ep.obs[src, self.subtask.goal_slice]
        rescored = np.asarray(reward(achieved, goals, {}), np.float64) - np.asarray(reward(achieved, env_goals, {}), np.float64)
        last_weight = self.gamma ** (ep.t1[src] - ep.t0[src] - 1.0)
        return (ep.env_return[src] + last_weight * rescored).astype(np.float32)

    def pop_episode_metrics(self) -> dict[str, float]:
        out = super().pop_episode_metrics()
        if self.termination is not None:
            out["terminations"] = float(self.n_terminated)
            if self.n_closed:
                out["termination_rate"] = self.n_terminated / self.n_closed
            out.update(self.termination.metrics())
        self.n_closed = self.n_terminated = 0
        return out

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        policy = None if self.termination is None else self.termination.state_dict()
        state["termination"] = {"policy": policy, "counts": [self.n_closed, self.n_terminated]}
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        if self.termination is not None:
            self.termination.load_state_dict(state["termination"]["policy"])
        self.n_closed, self.n_terminated = state["termination"]["counts"]
