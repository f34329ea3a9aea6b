"""EAT's higher level: HAC relabelling, the time-discounted objective and termination bookkeeping (reference EAT 1.5-1.7).

The level above the timed subgoals of an EAT hierarchy. It is its node's :class:`~graph_rl.algorithms.base.ActionHook`:
after every env step of a running subgoal it records the node's observation (for intra-action transitions) and
asks its termination policy (:mod:`graph_rl.algorithms.eat.termination`), which may end the subgoal; everything
else stays HAC:

* **time discount** (with a :class:`~graph_rl.algorithms.eat.discounting.DiscountedEnvGoalSubtask`): a transition's discount
  exponent is the number of env steps its action lasted, ``t1 - t0``, so the learner bootstraps with
  ``gamma ** k`` (the original's VariableDiscountSAC). A hindsight-goal copy keeps the env rewards of the action
  but re-scores its last step for the hindsight goal, ``+ gamma^(k-1) (r(g) - r(g_env))`` with the env's
  ``compute_reward``: the original swapped that last reward to the achievement reward when the hindsight goal
  was reached (1.7), which is the same on goal envs whose reward is -1/0. Without that subtask this is HAC.
* **interrupted subgoal tests** get no failure penalty: the child was cut short before its deadline, so nothing is
  known about whether the subgoal was achievable (the core skips every test whose child did not complete,
  ``Transition.child_completed``). A penalty would also make the level shy away from terminating, which the
  time-discounted objective is built to make free. The original meant to scale it by the elapsed fraction but,
  through a flag read from the wrong dict, always gave the full one (1.6, 1.9 item 3);
  ``fidelity.penalise_interrupted_tests`` restores that. The interrupted action's hindsight transition (the state
  reached in the time that passed) is stored as usual.
* **intra-action transitions** (``eat.intra_action_samples`` = n > 0, with the time discount): the algorithm traces
  its node's observation at every step of a running subgoal (:class:`ActionTrace`); per closed action, n offsets ``j`` in ``1..k-1`` (drawn without
  replacement from the node's own ``intra`` stream) each give the transition "from s_{t0+j}, the same subgoal
  with ``j`` fewer steps to go": the (hindsight) action re-timed, the env reward still to come discounted from
  there, the action's end state, exponent ``k - j``; a failed subgoal test gives its testing transition the same
  way. A termination policy asks the critic about exactly such running subgoals, which plain HAC data never shows
  it (every stored action starts where it was chosen); without them the critic extrapolates, and on EasyPlatforms
  rated the re-timed running subgoal far below a fresh one late in most subgoals (docs/research). Not in the
  original; no hindsight-goal copies of them.
* **metrics**: per episode ``terminations`` and ``termination_rate`` (terminated / closed actions) plus the
  policy's own statistics; without a policy (strategy ``never``) none of them, so such a run logs what HiTS logs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from graph_rl.algorithms.base import EpisodeArrays, PendingAction, RelabelledBatch, Transition
from graph_rl.algorithms.eat.discounting import DiscountedEnvGoalSubtask
from graph_rl.algorithms.eat.termination import make_termination
from graph_rl.algorithms.hac import HAC
from graph_rl.config.graph_params import EATParams
from graph_rl.subtasks import TimedGoalSubtask

__all__ = ["EAT", "ActionTrace", "IntraRows"]


class IntraRows(NamedTuple):
    """Intra-action samples of one closed action: observations at offsets ``j`` into it, the offsets, and the
    discounted env return still to come from each."""

    obs: np.ndarray
    offset: np.ndarray
    rest: np.ndarray


class ActionTrace:
    """A running action's node observation after each of its env steps, with ``env_return`` and ``env_weight``
    at that point (rows grow by doubling: no allocation per step)."""

    def __init__(self, obs_dim: int, capacity: int = 64) -> None:
        self.obs = np.empty((capacity, obs_dim), np.float32)
        self.ret = np.empty(capacity, np.float64)
        self.weight = np.empty(capacity, np.float64)
        self.n = 0

    def record(self, obs: np.ndarray, env_return: float, env_weight: float) -> None:
        if self.n == len(self.ret):
            self.obs = np.concatenate([self.obs, np.empty_like(self.obs)])
            self.ret = np.concatenate([self.ret, np.empty_like(self.ret)])
            self.weight = np.concatenate([self.weight, np.empty_like(self.weight)])
        self.obs[self.n], self.ret[self.n], self.weight[self.n] = obs, env_return, env_weight
        self.n += 1

    def intra(self, steps: int, env_return: float) -> IntraRows | None:
        """For an action that lasted ``steps`` and earned ``env_return``: its rows at offsets 1..steps-1; None for a
        one-step action."""
        m = min(steps - 1, self.n)
        if m <= 0:
            return None
        rest = (env_return - self.ret[:m]) / self.weight[:m]
        return IntraRows(self.obs[:m].copy(), np.arange(1, m + 1, dtype=np.int64), rest.astype(np.float32))

    def state_dict(self) -> dict[str, Any]:
        n = self.n
        return {"obs": self.obs[:n].copy(), "ret": self.ret[:n].copy(), "weight": self.weight[:n].copy()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.n = 0
        for obs, ret, weight in zip(state["obs"], state["ret"], state["weight"]):
            self.record(np.asarray(obs, np.float32), float(ret), float(weight))


class EAT(HAC):
    """Top-level algorithm of an EAT hierarchy.

    Extra args:
        eat: the ``eat`` section (termination strategy, intra-action transitions).
        gamma: the learner's discount per env step of a higher-level action (its ``model_kwargs.gamma``).
        child: the timed subtask of the node's child.
        intra_rng: ``node/<name>/intra``, which offsets become intra-action transitions (with
            ``eat.intra_action_samples``).
    """

    def __init__(
        self,
        *args: Any,
        eat: EATParams,
        gamma: float,
        child: TimedGoalSubtask,
        intra_rng: np.random.Generator | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.time_discounted = isinstance(self.subtask, DiscountedEnvGoalSubtask)
        self.gamma = gamma
        if self.time_discounted:
            self.env_reward_discount = self.gamma
        self.termination = make_termination(eat, child, self.action_map, self.learner, self.subtask.obs_dim)
        self.intra_samples = eat.intra_action_samples
        if self.intra_samples and (not self.time_discounted or intra_rng is None):
            raise ValueError("intra-action transitions need the time-discounted objective and an intra stream")
        self.intra_rng = intra_rng
        self.child_time = child.time
        layout = child.parent_action_layout
        assert layout is not None
        self.time_slot = layout.slices["delta_t_ach"].start
        self.trace = ActionTrace(self.subtask.obs_dim) if self.intra_samples else None
        self.intra: list[IntraRows | None] = []
        """Per transition of the running node episode: its traced rows (sampled when the episode is stored)."""
        if self.termination is not None or self.trace is not None:
            self.hook = self  # strategy never without intra-action samples: nothing to watch per step
        self.n_closed = 0
        self.n_terminated = 0

    def on_step(
        self,
        pending: PendingAction,
        observe: Callable[[], np.ndarray],
        child_finished: Callable[[], bool],
        env_obs: Mapping[str, Any],
        *,
        ep_step: int,
        total_step: int,
        testing: bool,
    ) -> bool:
        if self.trace is not None:
            self.trace.record(observe(), pending.env_return, pending.env_weight)
        if self.termination is None:
            return False
        return self.termination(
            pending, observe, child_finished, env_obs, ep_step=ep_step, total_step=total_step, testing=testing
        )

    def add(self, transition: Transition) -> None:
        self.n_closed += 1
        self.n_terminated += transition.interrupted
        if self.trace is not None:
            self.intra.append(self.trace.intra(transition.t1 - transition.t0, transition.env_return))
            self.trace.n = 0
        super().add(transition)

    def sample_intra(self, rows: IntraRows | None) -> IntraRows | None:
        """Up to ``intra_samples`` of an action's traced rows, drawn without replacement."""
        assert self.intra_rng is not None
        if rows is None or len(rows.offset) <= self.intra_samples:
            return rows
        keep = np.sort(self.intra_rng.choice(len(rows.offset), self.intra_samples, replace=False))
        return IntraRows(rows.obs[keep], rows.offset[keep], rows.rest[keep])

    def end_episode(self, store: bool) -> None:
        """Samples the intra-action rows of a stored node episode only: test episodes draw nothing from the stream."""
        if store and self.trace is not None:
            self.intra = [self.sample_intra(rows) for rows in self.intra]
        super().end_episode(store)
        self.intra = []

    def reset(self) -> None:
        super().reset()
        self.intra = []
        if self.trace is not None:
            self.trace.n = 0

    def extra_transitions(
        self, episode: list[Transition], ep: EpisodeArrays, disc: np.ndarray
    ) -> list[RelabelledBatch]:
        """Intra-action transitions of the (hindsight-action) transitions and of the failed subgoal tests."""
        rows = [(i, r) for i, r in enumerate(self.intra) if r is not None]
        if not rows:
            return []
        idx = np.concatenate([np.full(len(r.offset), i) for i, r in rows])
        offset = np.concatenate([r.offset for _, r in rows]).astype(np.float32)
        obs = np.concatenate([r.obs for _, r in rows])
        rest = np.concatenate([r.rest for _, r in rows])
        goals = obs[:, self.subtask.goal_slice]
        act = self.retimed(ep.act[idx], offset)
        rew_rest, _ = self.subtask.relabel(ep.achieved_goal[idx], goals, act, rest)
        rew_all, _ = self.subtask.relabel(ep.achieved_goal[idx], goals, ep.act[idx], ep.env_return[idx])
        exponent = disc[idx] - offset
        parts = [RelabelledBatch(obs, act, ep.rew[idx] - rew_all + rew_rest, ep.new_obs[idx], ep.done[idx], exponent)]
        tested = self.failed_tests(episode)[idx]
        if tested.any():
            original = np.stack([episode[i].action for i in idx[tested]])
            done = (
                ep.done[idx[tested]]
                if self.params.bootstrap_testing_transitions
                else np.ones(int(tested.sum()), np.float32)
            )
            parts.append(
                RelabelledBatch(
                    obs[tested],
                    self.retimed(original, offset[tested]),
                    np.full(int(tested.sum()), self.child_failure_penalty, np.float32),
                    ep.new_obs[idx[tested]],
                    done,
                    exponent[tested],
                )
            )
        return parts

    def retimed(self, actions: np.ndarray, elapsed: np.ndarray) -> np.ndarray:
        """``actions`` with their desired time shortened by ``elapsed`` env steps (kept inside the action box)."""
        out = actions.copy()
        slot, time = self.time_slot, self.child_time
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
        assert isinstance(self.subtask, DiscountedEnvGoalSubtask)
        reward = self.subtask.compute_reward
        achieved, env_goals = ep.achieved_goal[src], ep.obs[src, self.subtask.goal_slice]
        rescored = np.asarray(reward(achieved, goals, {}), np.float64) - np.asarray(
            reward(achieved, env_goals, {}), np.float64
        )
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
        if self.trace is not None:
            state["intra"] = {
                "trace": self.trace.state_dict(),
                "rows": [None if r is None else list(r) for r in self.intra],
            }
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        if self.termination is not None:
            self.termination.load_state_dict(state["termination"]["policy"])
        self.n_closed, self.n_terminated = state["termination"]["counts"]
        if self.trace is not None:
            self.trace.load_state_dict(state["intra"]["trace"])
            self.intra = [None if r is None else IntraRows(*(np.asarray(x) for x in r)) for r in state["intra"]["rows"]]
