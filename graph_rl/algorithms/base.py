"""What every node algorithm shares: acting with exploration, node episodes, replay and the update schedule.

An algorithm owns one learner and one replay buffer. The node hands it each closed action as a
:class:`Transition`; when the node's activation ends (goal reached, budget spent, deadline passed,
ancestor interrupted, env over) the whole node episode goes to :meth:`Algorithm.end_episode`, which
relabels it (HAC / HiTS, in the subclasses) and stores the result. Unlike the original, an activation
cut short by an ancestor is flushed too instead of leaking into the next activation's episode.

Update schedule (reference 3.7, with two fixes): every node gets ``grad_steps_per_env_step``
gradient steps per env step after ``learning_starts``; the fractional remainder is carried over
(the original truncated it every episode and did almost no updates on the first call).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, cast

import numpy as np
import torch

from graph_rl.config.graph_params import AlgoKwargs, FidelityParams
from graph_rl.learners import Learner, update_many
from graph_rl.replay import ReplayBatch, ReplayBuffer
from graph_rl.spaces import UnitMap
from graph_rl.subtasks import Subtask

__all__ = [
    "PendingAction",
    "ActionHook",
    "Transition",
    "RelabelledBatch",
    "EpisodeArrays",
    "Algorithm",
    "learn_together",
]


@dataclasses.dataclass(slots=True)
class PendingAction:
    """The action a node is running: emitted at ``t0`` on observation ``obs``, closed when control returns.

    ``env_return`` sums the env rewards collected while it runs, the k-th weighted by the algorithm's
    ``env_reward_discount ** k`` (``env_weight`` is the next weight).
    """

    obs: np.ndarray
    action: np.ndarray
    child: int
    t0: int
    test_child: bool
    env_return: float = 0.0
    env_weight: float = 1.0


class ActionHook(Protocol):
    """An algorithm's view of its node's running action, after every env step while the node waits on a child.

    ``observe()`` is the node's observation of ``env_obs`` (computed on demand), ``child_finished()`` whether the
    child's activation ends at this step anyway. Returning True ends the action now: the node closes it as
    ``interrupted`` (not charged to its budget) and emits a fresh one. EAT's termination and intra-action traces
    plug in here; nodes know nothing of them.
    """

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
    ) -> bool: ...


@dataclasses.dataclass(slots=True)
class Transition:
    """One closed action of a node, in the node's own terms.

    ``action`` and ``child_hindsight`` are flat, in action-space units; times are episode steps.
    ``interrupted``: the algorithm's :class:`ActionHook` ended the action early (EAT termination).
    """

    obs: np.ndarray
    action: np.ndarray
    reward: float
    new_obs: np.ndarray
    achieved: bool
    done: bool
    achieved_goal: np.ndarray
    t0: int
    t1: int
    env_return: float = 0.0
    test_child: bool = False
    child_achieved: bool = True
    child_hindsight: np.ndarray | None = None
    child_completed: bool = True
    interrupted: bool = False

    def to_state(self) -> dict[str, Any]:
        """Plain-data copy (lists, floats) for checkpoints."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for key, value in out.items():
            if isinstance(value, np.ndarray):
                out[key] = value.tolist()
        return out

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Transition:
        arrays = {"obs", "action", "new_obs", "achieved_goal", "child_hindsight"}
        kwargs: dict[str, Any] = {
            k: (np.asarray(v, dtype=np.float32) if k in arrays and v is not None else v) for k, v in state.items()
        }
        return cls(**kwargs)


@dataclasses.dataclass(slots=True)
class RelabelledBatch:
    """Transitions ready for replay; ``act`` in action-space units (normalised on storing)."""

    obs: np.ndarray
    act: np.ndarray
    rew: np.ndarray
    next_obs: np.ndarray
    done: np.ndarray
    discount_exponent: np.ndarray

    @classmethod
    def concat(cls, parts: list[RelabelledBatch]) -> RelabelledBatch:
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(cls)))

    def __len__(self) -> int:
        return len(self.rew)


@dataclasses.dataclass(slots=True)
class EpisodeArrays:
    """A node episode stacked column-wise (one row per closed action)."""

    obs: np.ndarray
    new_obs: np.ndarray
    act: np.ndarray
    rew: np.ndarray
    done: np.ndarray
    achieved_goal: np.ndarray
    env_return: np.ndarray
    t0: np.ndarray
    t1: np.ndarray

    @classmethod
    def stack(cls, episode: list[Transition]) -> EpisodeArrays:
        return cls(
            obs=np.stack([tr.obs for tr in episode]),
            new_obs=np.stack([tr.new_obs for tr in episode]),
            act=np.stack([tr.action for tr in episode]),
            rew=np.array([tr.reward for tr in episode], dtype=np.float32),
            done=np.array([tr.done for tr in episode], dtype=np.float32),
            achieved_goal=np.stack([tr.achieved_goal for tr in episode]),
            env_return=np.array([tr.env_return for tr in episode], dtype=np.float32),
            t0=np.array([tr.t0 for tr in episode], dtype=np.float64),
            t1=np.array([tr.t1 for tr in episode], dtype=np.float64),
        )


class Algorithm(ABC):
    """Learner + replay + exploration + schedule of one node; subclasses decide what to store.

    Args:
        subtask: the node's subtask (rewards for relabelled transitions).
        action_map: the node's action Box <-> [-1, 1].
        learner: the node's SAC learner (or anything with its API).
        buffer: the node's replay buffer.
        params: the level's algorithm parameters.
        policy_rng: ``node/<name>/policy`` (fully random actions, subgoal-testing flags).
        her_rng: ``node/<name>/her`` (hindsight indices and times).
        child_failure_penalty: reward of a testing transition (a failed subgoal test).
        fidelity: switches that reproduce the original's defects (default: none).
    """

    hook: ActionHook | None = None
    """Watches the node's running action step by step (EAT); None: the node only waits."""
    env_reward_discount: float = 1.0
    """Per-step weight of the env rewards summed over one of this level's actions (1 = plain sum)."""

    def __init__(
        self,
        subtask: Subtask,
        action_map: UnitMap,
        learner: Learner,
        buffer: ReplayBuffer,
        params: AlgoKwargs,
        policy_rng: np.random.Generator,
        her_rng: np.random.Generator,
        child_failure_penalty: float = -1.0,
        fidelity: FidelityParams | None = None,
    ) -> None:
        self.subtask = subtask
        self.action_map = action_map
        self.learner = learner
        self.buffer = buffer
        self.params = params
        self.policy_rng = policy_rng
        self.her_rng = her_rng
        self.child_failure_penalty = float(child_failure_penalty)
        self.fidelity = FidelityParams() if fidelity is None else fidelity
        self.episode: list[Transition] = []
        self._last_step = 0
        self._credit = 0.0
        self.q_sum = 0.0
        self.q_count = 0
        self.n_test_penalties = 0

    # --- acting -------------------------------------------------------------------------------

    def act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        """Unit action in [-1, 1]; during exploration a ``fully_random_fraction`` are uniform."""
        if not deterministic and self.params.fully_random_fraction > 0:
            if self.policy_rng.random() < self.params.fully_random_fraction:
                return self.policy_rng.uniform(-1.0, 1.0, self.action_map.dim).astype(np.float32)
        return self.learner.act(obs, deterministic)

    def draw_test_flag(self) -> bool:
        """Whether the next action subgoal-tests the child (HAC: ``testing_fraction`` per action)."""
        return bool(self.policy_rng.random() < self.params.testing_fraction)

    # --- node episodes ------------------------------------------------------------------------

    def add(self, transition: Transition) -> None:
        self.episode.append(transition)

    def reset(self) -> None:
        """Start of an env episode: drop any unfinished node episode and the previous episode's metrics."""
        self.episode.clear()
        self.pop_episode_metrics()

    def end_episode(self, store: bool) -> None:
        """Relabel and store the finished node episode (if ``store``); log Q of the taken actions."""
        episode, self.episode = self.episode, []
        if not episode:
            return
        obs = np.stack([tr.obs for tr in episode])
        act = self.action_map.to_unit(np.stack([tr.action for tr in episode]))
        device = self.learner.device
        q = self.learner.q_values(torch.from_numpy(obs).to(device), torch.from_numpy(act).to(device))
        self.q_sum += float(q.sum())
        self.q_count += len(episode)
        if not store:
            return
        batch = self.relabel(episode)
        self.buffer.add_batch(
            batch.obs,
            self.action_map.to_unit(batch.act),
            batch.rew,
            batch.next_obs,
            batch.done,
            batch.discount_exponent,
        )

    @abstractmethod
    def relabel(self, episode: list[Transition]) -> RelabelledBatch:
        """All replay transitions of one node episode (real, hindsight-action, testing, hindsight-goal)."""

    def discount_exponents(self, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        """Per-transition discount exponent: 1 (one discount per action of this level).

        A time-discounted level (EAT) overrides this with the env steps an action lasted, ``t1 - t0``.
        """
        return np.ones(len(t0), dtype=np.float32)

    def apply_child_feedback(
        self, episode: list[Transition], ep: EpisodeArrays, disc: np.ndarray, columns: slice | None = None
    ) -> RelabelledBatch | None:
        """Hindsight actions and testing transitions of a node with children (HAC, reference 3.5).

        Where the child failed, ``ep.act`` becomes what the child achieved (only ``columns`` of it, if
        given) and ``ep.rew`` is recomputed for that action. Returns the testing transitions: failed
        subgoal tests, with the original action and ``child_failure_penalty``.

        A test only fails if the child's activation ran its course (goal, budget or deadline) without
        success, or, with ``fidelity.penalise_interrupted_tests``, was cut short by this node's own termination. A child
        cut short otherwise, by the env episode ending (e.g. the env goal reached mid-subgoal) or by an
        ancestor's interruption, was not tested: the original penalised it anyway, so with 30% testing the
        very subgoal that reached the env goal often got the terminal failure penalty (the research fork
        meant to skip it for the env goal but never did, EAT reference 1.6).
        """
        child_ok = np.array([tr.child_achieved for tr in episode], dtype=bool)
        failed_test = self.failed_tests(episode)
        testing = None
        if failed_test.any():
            n_fail = int(failed_test.sum())
            self.n_test_penalties += n_fail
            done = ep.done[failed_test] if self.params.bootstrap_testing_transitions else np.ones(n_fail, np.float32)
            testing = RelabelledBatch(
                ep.obs[failed_test],
                ep.act[failed_test],
                np.full(n_fail, self.child_failure_penalty, np.float32),
                ep.new_obs[failed_test],
                done,
                disc[failed_test],
            )
        failed = ~child_ok
        if failed.any():
            hindsight = np.stack(cast(list[np.ndarray], [tr.child_hindsight for tr in episode]))
            act = ep.act.copy()
            if columns is None:
                act[failed] = hindsight[failed]
            else:
                act[failed, columns] = hindsight[failed, columns]
            if self.subtask.aux_rewards:
                ep.rew = ep.rew + self.subtask.aux(act, ep.env_return) - self.subtask.aux(ep.act, ep.env_return)
            ep.act = act
        return testing

    def failed_tests(self, episode: list[Transition]) -> np.ndarray:
        """Mask of the actions whose subgoal test failed (see :meth:`apply_child_feedback`)."""
        child_ok = np.array([tr.child_achieved for tr in episode], dtype=bool)
        completed = np.array([tr.child_completed for tr in episode], dtype=bool)
        if self.fidelity.penalise_interrupted_tests:
            completed |= np.array([tr.interrupted for tr in episode], dtype=bool)
        return np.array([tr.test_child for tr in episode], dtype=bool) & ~child_ok & completed

    # --- learning -----------------------------------------------------------------------------

    def due_updates(self, total_step: int) -> int:
        """Gradient steps owed for the env steps since the last call (and books them)."""
        start = max(self._last_step, self.params.learning_starts)
        if total_step > start:
            self._credit += self.params.grad_steps_per_env_step * (total_step - start)
        self._last_step = max(self._last_step, total_step)
        if len(self.buffer) < self.params.batch_size:
            self._credit = 0.0
            return 0
        n = int(self._credit)
        self._credit -= n
        return n

    def sample(self) -> ReplayBatch:
        return self.buffer.sample(self.params.batch_size)

    # --- metrics and state --------------------------------------------------------------------

    def pop_episode_metrics(self) -> dict[str, float]:
        """Mean Q of taken actions and testing-penalty count since the last call."""
        out = {"testing_penalties": float(self.n_test_penalties)}
        if self.q_count:
            out["q_taken"] = self.q_sum / self.q_count
        self.q_sum, self.q_count, self.n_test_penalties = 0.0, 0, 0
        return out

    def state_dict(self) -> dict[str, Any]:
        return {
            "learner": self.learner.state_dict(),
            "buffer": self.buffer.state_dict(),
            "episode": [tr.to_state() for tr in self.episode],
            "last_step": self._last_step,
            "credit": self._credit,
            "metrics": [self.q_sum, self.q_count, self.n_test_penalties],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.learner.load_state_dict(state["learner"])
        self.buffer.load_state_dict(state["buffer"])
        self.episode = [Transition.from_state(s) for s in state["episode"]]
        self._last_step = int(state["last_step"])
        self._credit = float(state["credit"])
        self.q_sum, self.q_count, self.n_test_penalties = state["metrics"]


def learn_together(algorithms: Sequence[Algorithm], total_step: int) -> list[dict[str, float]]:
    """Every algorithm's gradient steps due at ``total_step``; the k-th steps of several algorithms go through one
    batched :func:`~graph_rl.learners.update_many` call. Returns each algorithm's learner statistics over this call
    (empty where none was due)."""
    due = [algo.due_updates(total_step) for algo in algorithms]
    for k in range(max(due, default=0)):
        todo = [algo for algo, n in zip(algorithms, due) if k < n]
        batches = [algo.sample() for algo in todo]
        if len(todo) == 1:
            todo[0].learner.update(batches[0])
        else:
            update_many([algo.learner for algo in todo], batches)
    return [algo.learner.pop_stats() if n > 0 else {} for algo, n in zip(algorithms, due)]
