"""HAC: hindsight action transitions, subgoal testing and hindsight goals (Levy et al. 2019; reference 3.5).

For every closed action ``i`` of a finished node episode:

* the real transition, ``done`` = goal achieved (time-outs and budget ends are bootstrapped);
* if the node has children and the child did not achieve the subgoal:
  * when this action subgoal-tested the child: a *testing transition* with the original action and
    reward ``child_failure_penalty`` (terminal only if ``bootstrap_testing_transitions`` is off);
  * the real transition's action becomes the *hindsight action*: what the child actually achieved.
* hindsight-goal copies of the (hindsight-action) transition: the desired goal is replaced by goals
  achieved later in the node episode, reward and ``done`` recomputed for it (``done`` also where the real
  transition was terminal for another reason: env termination, an observed budget spent).

Hindsight goals (``goal_sampling_strategy``), drawn with replacement from the node's ``her`` stream:
``future`` ``min(n, len-i-1)`` goals achieved after actions ``i+1..``; ``episode`` ``min(n, len)`` goals
from the whole node episode; ``final`` the goal achieved at the end of the node episode.

Deviations from the original, on purpose:

* the reward of a hindsight-action transition is recomputed for the relabelled action, so its aux
  terms (e.g. the desired-time penalty) agree with the hindsight-goal copies (reference 7.2 item 5);
* ``final`` works (the original crashed reading a missing attribute, reference 7.2 item 7).

A node without children is flat SAC + hindsight goals: the builder's ``SAC`` agent is one such node.
"""

from __future__ import annotations

import numpy as np

from graph_rl.algorithms.base import Algorithm, EpisodeArrays, RelabelledBatch, Transition

__all__ = ["HAC"]


class HAC(Algorithm):
    """HAC node algorithm (also the flat SAC baseline when the node is a leaf)."""

    def hindsight_indices(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(source transition, goal transition) index pairs for the hindsight-goal copies."""
        k = self.params.n_hindsight_goals
        strategy = self.params.goal_sampling_strategy
        if k == 0 or n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        if strategy == "final":
            return np.arange(n), np.full(n, n - 1)
        if strategy == "episode":
            src = np.repeat(np.arange(n), min(k, n))
            return src, self.her_rng.integers(0, n, size=len(src))
        counts = np.minimum(k, n - 1 - np.arange(n))
        src = np.repeat(np.arange(n), counts)
        return src, self.her_rng.integers(src + 1, n) if len(src) else src

    def hindsight_env_returns(self, ep: EpisodeArrays, src: np.ndarray, goals: np.ndarray) -> np.ndarray:
        """Env rewards of actions ``src`` as seen under hindsight ``goals``: the stored ones (the env's rewards
        for its own goal). A time-discounted level (EAT) re-scores the last step for the hindsight goal."""
        return ep.env_return[src]

    def relabel(self, episode: list[Transition]) -> RelabelledBatch:
        ep = EpisodeArrays.stack(episode)
        disc = self.discount_exponents(ep.t0, ep.t1)
        testing = None
        if episode[0].child_hindsight is not None:
            testing = self.apply_child_feedback(episode, ep, disc)
        parts = [RelabelledBatch(ep.obs, ep.act, ep.rew, ep.new_obs, ep.done, disc)]
        if testing is not None:
            parts.append(testing)
        src, tgt = self.hindsight_indices(len(episode))
        goals, achieved_goals = ep.achieved_goal[tgt], ep.achieved_goal[src]
        if len(src):
            gs = self.subtask.goal_slice
            obs, new_obs = ep.obs[src], ep.new_obs[src]
            obs[:, gs] = goals
            new_obs[:, gs] = goals
            env_returns = self.hindsight_env_returns(ep, src, goals)
            rew, achieved = self.subtask.relabel(achieved_goals, goals, ep.act[src], env_returns)
            real_achieved = np.array([tr.achieved for tr in episode], dtype=bool)
            terminal = (ep.done[src] > 0) & ~real_achieved[src]
            done = (achieved | terminal | self.subtask.budget_spent(new_obs)).astype(np.float32)
            parts.append(RelabelledBatch(obs, ep.act[src], rew, new_obs, done, disc[src]))
        parts.extend(self.extra_transitions(episode, ep, disc))
        return RelabelledBatch.concat(parts)

    def extra_transitions(
        self, episode: list[Transition], ep: EpisodeArrays, disc: np.ndarray
    ) -> list[RelabelledBatch]:
        """More replay transitions from the relabelled episode (``ep`` with hindsight actions); HAC has none."""
        return []
