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
* **intra-action transitions** (``eat.intra_action_samples`` = n > 0, with the time discount): the node traces its
  observation at every step of a running subgoal; per closed action, n offsets ``j`` in ``1..k-1`` (drawn without
  replacement from the node's own ``intra`` stream) each give the transition "from s_{t0+j}, the same subgoal
  with ``j`` fewer steps to go": the (hindsight) action re-timed, the env reward still to come discounted from
  there, the action's end state, exponent ``k - j``; a failed subgoal test gives its testing transition the same
  way. A termination policy asks the critic about exactly such running subgoals, which plain HAC data never shows
  it (every stored action starts where it was chosen); without them the critic extrapolates, and on EasyPlatforms
  rated the re-timed running subgoal far below a fresh one late in most subgoals (see the README). Not in the
  original; no hindsight-goal copies of them.
* **metrics**: per episode ``terminations`` and ``termination_rate`` (terminated / closed actions) plus the
  policy's own statistics; without a policy (strategy ``never``) none of them, so such a run logs what HiTS logs.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from graph_rl.algorithms.base import EpisodeArrays, RelabelledBatch, Transition
from graph_rl.algorithms.hac import HAC
from graph_rl.subtasks import DiscountedEnvGoalSubtask
from graph_rl.subtasks.timed_goal import TimeScale

if TYPE_CHECKING:
    from graph_rl.nodes.termination import TerminationPolicy

__all__ = ["EAT", "IntraActions"]


@dataclasses.dataclass(slots=True)
class IntraActions:
    """How many intra-action transitions per action, drawn from which stream, and where an action keeps its time.

    ``time`` and ``time_slot``: the child's time scale and the index of the desired time in this node's actions.
    """

    samples: int
    rng: np.random.Generator
    time: TimeScale
    time_slot: int


class EAT(HAC):
    """Top-level algorithm of an EAT hierarchy.

    Extra args:
        termination: the node's termination policy (its state and statistics live in this algorithm's
            checkpoint and metrics); None for strategy ``never``.
        penalise_interrupted_tests: a subgoal test cut short by a termination gets ``child_failure_penalty``
            (``eat.interrupted_test_penalty = "full"``, the original's behaviour) instead of no testing transition.
        intra: intra-action transitions (needs the time-discounted subtask and a node with ``trace_actions``).
    """

    def __init__(self, *args: Any, termination: TerminationPolicy | None = None,
                 penalise_interrupted_tests: bool = False, intra: IntraActions | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.termination = termination
        self.penalise_interrupted_tests = penalise_interrupted_tests
        self.time_discounted = isinstance(self.subtask, DiscountedEnvGoalSubtask)
        if intra is not None and not self.time_discounted:
            raise ValueError("intra-action transitions need the time-discounted objective")
        self.intra = intra
        self.gamma = self.params.flat_algo_kwargs.gamma
        self.n_closed = 0
        self.n_terminated = 0

    def add(self, transition: Transition) -> None:
        self.n_closed += 1
        self.n_terminated += transition.interrupted
        offsets = transition.intra_offset
        if self.intra is None or offsets is None:
            transition.intra_obs = transition.intra_offset = transition.intra_return = None
        elif len(offsets) > self.intra.samples:
            keep = np.sort(self.intra.rng.choice(len(offsets), self.intra.samples, replace=False))
            transition.intra_obs = transition.intra_obs[keep]
            transition.intra_offset = offsets[keep]
            transition.intra_return = transition.intra_return[keep]
        super().add(transition)

    def extra_transitions(self, episode: list[Transition], ep: EpisodeArrays, disc: np.ndarray) -> list[RelabelledBatch]:
        """Intra-action transitions of the (hindsight-action) transitions and of the failed subgoal tests."""
        rows = [i for i, tr in enumerate(episode) if tr.intra_offset is not None]
        if self.intra is None or not rows:
            return []
        idx = np.concatenate([np.full(len(episode[i].intra_offset), i) for i in rows])
        offset = np.concatenate([episode[i].intra_offset for i in rows]).astype(np.float32)
        obs = np.concatenate([episode[i].intra_obs for i in rows])
        rest = np.concatenate([episode[i].intra_return for i in rows])
        goals = obs[:, self.subtask.goal_slice]
        act = self.retimed(ep.act[idx], offset)
        rew_rest, _ = self.subtask.relabel(ep.achieved_goal[idx], goals, act, rest)
        rew_all, _ = self.subtask.relabel(ep.achieved_goal[idx], goals, ep.act[idx], ep.env_return[idx])
        exponent = disc[idx] - offset
        parts = [RelabelledBatch(obs, act, ep.rew[idx] - rew_all + rew_rest, ep.new_obs[idx], ep.done[idx], exponent)]
        tested = self.failed_tests(episode)[idx]
        if tested.any():
            original = np.stack([episode[i].action for i in idx[tested]])
            done = ep.done[idx[tested]] if self.params.bootstrap_testing_transitions else np.ones(int(tested.sum()), np.float32)
            parts.append(RelabelledBatch(
                obs[tested], self.retimed(original, offset[tested]),
                np.full(int(tested.sum()), self.child_failure_penalty, np.float32), ep.new_obs[idx[tested]], done,
                exponent[tested],
            ))
        return parts

    def retimed(self, actions: np.ndarray, elapsed: np.ndarray) -> np.ndarray:
        """``actions`` with their desired time shortened by ``elapsed`` env steps (kept inside the action box)."""
        out = actions.copy()
        slot, time = self.intra.time_slot, self.intra.time
        shifted = time.convert(time.unconvert(out[:, slot]) - elapsed)
        out[:, slot] = np.clip(shifted, self.action_map.low[slot], self.action_map.high[slot])
        return out

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
