"""HAC: hindsight action transitions, subgoal testing and hindsight goals (Levy et al. 2019; reference 3.5).

For every closed action ``i`` of a finished node episode:

* the real transition, ``done`` = goal achieved (time-outs and budget ends are bootstrapped);
* if the node has children and the child did not achieve the subgoal:
  * when this action subgoal-tested the child: a *testing transition* with the original action and
    reward ``child_failure_penalty`` (terminal only if ``bootstrap_testing_transitions`` is off);
  * the real transition's action becomes the *hindsight action*: what the child actually achieved.
* hindsight-goal copies of the (hindsight-action) transition: the desired goal is replaced by goals
  achieved later in the node episode, reward and ``done`` recomputed for it (``done`` also where the real
  transition was terminal for another reason: env termination, an observed budget spent; an observed budget
  spent without reaching the hindsight goal also earns the subtask's ``budget_failure_reward``).

Hindsight goals (``goal_sampling_strategy``), drawn with replacement from the node's ``her`` stream:
``future`` ``min(n, len-i-1)`` goals achieved after actions ``i+1..``; ``episode`` ``min(n, len)`` goals
from the whole node episode; ``final`` the goal achieved at the end of the node episode; ``future_steps``
(not in the original) ``n`` goals achieved after any env step from the start of action ``i`` on, each
achieved by action ``i`` if it was passed while the action ran (needs the node's ``trace_actions``).

Why ``future_steps``: a shortest-path goal counts as reached at whichever env step it is reached (the
activation ends there; the env's own goal ends the episode), but the other strategies only relabel with
where actions *ended*. On EasyPlatforms the goal is reached while a lift carries the ball past it,
mid-action, and a root that learns only from action ends uses a few goal-independent routes, each grazing a
band of goals at the edge of the success radius (README, "Why the tests swing").

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

    def step_hindsight_goals(self, episode: list[Transition]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``future_steps``: (source action, hindsight goal, whether the source action passed the goal)."""
        k, n = self.params.n_hindsight_goals, len(episode)
        goal_dim = len(episode[0].achieved_goal) if n else 0
        if k == 0 or n == 0:
            return np.zeros(0, np.int64), np.zeros((0, goal_dim), np.float32), np.zeros(0, bool)
        paths = [self.action_path(tr) for tr in episode]
        lengths = np.array([len(p) for p in paths])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        steps = np.concatenate(paths)
        src = np.repeat(np.arange(n), k)
        goals = steps[self.her_rng.integers(starts[src], len(steps))]
        passed = np.array(
            [bool(np.any(self.subtask.is_achieved(paths[i], np.broadcast_to(g, paths[i].shape)))) for i, g in zip(src, goals)]
        )
        return src, goals, passed

    def action_path(self, tr: Transition) -> np.ndarray:
        """The goals the node achieved after each env step of the action ``tr``, last one = ``tr.achieved_goal``."""
        if tr.t1 - tr.t0 <= 1:
            return tr.achieved_goal[None]
        if tr.intra_obs is None:
            raise RuntimeError("goal_sampling_strategy 'future_steps' needs the node's trace_actions")
        return np.concatenate([tr.intra_obs[:, self.subtask.goal_index], tr.achieved_goal[None]])

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
        if self.params.goal_sampling_strategy == "future_steps":
            src, goals, passed = self.step_hindsight_goals(episode)
            # A goal passed during the action counts as the goal the action achieved.
            achieved_goals = np.where(passed[:, None], goals, ep.achieved_goal[src])
        else:
            src, tgt = self.hindsight_indices(len(episode))
            goals, achieved_goals = ep.achieved_goal[tgt], ep.achieved_goal[src]
        if len(src):
            gs = self.subtask.goal_slice
            obs, new_obs = ep.obs[src], ep.new_obs[src]
            obs[:, gs] = goals
            new_obs[:, gs] = goals
            env_returns = self.hindsight_env_returns(ep, src, goals)
            rew, achieved = self.subtask.relabel(achieved_goals, goals, ep.act[src], env_returns)
            rew += self.subtask.budget_failures(new_obs, achieved)
            real_achieved = np.array([tr.achieved for tr in episode], dtype=bool)
            terminal = (ep.done[src] > 0) & ~real_achieved[src]
            done = (achieved | terminal | self.subtask.budget_spent(new_obs)).astype(np.float32)
            parts.append(RelabelledBatch(obs, ep.act[src], rew, new_obs, done, disc[src]))
        parts.extend(self.extra_transitions(episode, ep, disc))
        return RelabelledBatch.concat(parts)

    def extra_transitions(self, episode: list[Transition], ep: EpisodeArrays, disc: np.ndarray) -> list[RelabelledBatch]:
        """More replay transitions from the relabelled episode (``ep`` with hindsight actions); HAC has none."""
        return []
