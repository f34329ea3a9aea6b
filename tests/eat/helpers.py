"""Hand-wired EAT hierarchies on the 1-D point env: a timed child under an env-goal root, scripted policies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from graph_rl.algorithms import HiTS, PendingAction
from graph_rl.algorithms.eat import EAT, DiscountedEnvGoalSubtask, TerminationPolicy
from graph_rl.config.graph_params import AlgoKwargs, EATParams
from graph_rl.graph import Graph
from graph_rl.learners import Learner
from graph_rl.nodes import Node
from graph_rl.replay import ReplayBuffer
from graph_rl.spaces import DictLayout, UnitMap
from graph_rl.subtasks import EnvGoalSubtask, PartialObs, TimedGoalSubtask
from tests.core.point_env import PointGoalEnv

DELTA_T_MAX = 10.0
GAMMA = 0.9
ENV_ACTION = (np.array([-1.0], np.float32), np.array([1.0], np.float32))


def unit(steps: float, goal: float) -> list[float]:
    """The root's unit action for a subgoal ``goal`` due in ``steps`` env steps."""
    return [2.0 * steps / DELTA_T_MAX - 1.0, goal]


class ScriptedLearner:
    """Acts with ``policy(obs, deterministic)`` and values pairs with ``q(obs, act)``; records every call."""

    device = torch.device("cpu")

    def __init__(self, policy: Callable[[np.ndarray, bool], np.ndarray], q: Callable[..., np.ndarray] | None = None) -> None:
        self.policy, self.q = policy, q
        self.acts: list[np.ndarray] = []
        self.q_inputs: list[tuple[np.ndarray, np.ndarray]] = []

    def act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        self.acts.append(obs.copy())
        return np.asarray(self.policy(obs, deterministic), np.float32)

    def q_values(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        self.q_inputs.append((obs.numpy().copy(), act.numpy().copy()))
        values = self.q(obs.numpy(), act.numpy()) if self.q is not None else np.zeros(len(obs))
        return torch.as_tensor(np.asarray(values, np.float32))

    def pop_stats(self) -> dict[str, float]:
        return {}

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class StepTermination(TerminationPolicy):
    """Terminates at the given episode steps (a scripted strategy)."""

    def __init__(self, child: TimedGoalSubtask, action_map: UnitMap, learner: Learner, steps: set[int],
                 warmup_steps: int = 0) -> None:
        super().__init__(child, action_map, learner, warmup_steps)
        self.steps = steps

    def decide(self, pending: PendingAction, observe: Callable[[], np.ndarray], env_obs: Mapping[str, Any],
               elapsed: int, total_step: int, testing: bool) -> bool:
        return pending.t0 + elapsed in self.steps


class Chain:
    """Root (env goal, EAT algorithm) over a timed leaf on ``PointGoalEnv(dim=1)``; the leaf always pushes
    ``leaf_push`` (0.1 * leaf_push per step).

    Args:
        root_actions: the root's unit actions ``[time, goal]`` (a list cycled through, or a function of the count).
        termination: builds the root's termination policy from (timed child subtask, root action map, root
            learner), or None.
        discounted: root reward = discounted env reward / ``normalization`` (EAT's objective) instead of HiTS's.
        intra_samples: intra-action transitions per root action (drawn from ``default_rng(seed + 7)``).
    """

    def __init__(
        self, root_actions: Any,
        termination: Callable[[TimedGoalSubtask, UnitMap, Learner], TerminationPolicy] | None = None, *,
        discounted: bool = True, normalization: float = 4.0, budget: float | None = None, goal: float = 0.75,
        episode_length: int = 40, testing_fraction: float = 0.0, leaf_push: float = 1.0, seed: int = 0,
        intra_samples: int = 0,
    ) -> None:
        self.env = PointGoalEnv(dim=1, max_episode_length=episode_length, goal=np.array([goal]))
        layout = DictLayout.from_space(self.env.observation_space["observation"])
        self.child_task = TimedGoalSubtask(PartialObs(layout, None), ["position"], {"position": 0.05}, DELTA_T_MAX, 0.0,
                                           np.random.default_rng(seed))
        bounds = (self.env.observation_space["desired_goal"].low, self.env.observation_space["desired_goal"].high)
        args = (PartialObs(layout, None), "position", bounds, self.env.compute_reward, budget)
        self.root_task = (DiscountedEnvGoalSubtask(*args, reward_normalization=normalization) if discounted
                          else EnvGoalSubtask(*args))
        leaf_map = UnitMap(*ENV_ACTION)
        leaf_algo = HiTS(self.child_task, leaf_map, ScriptedLearner(lambda o, d: np.full(1, leaf_push)),
                         ReplayBuffer(1000, self.child_task.obs_dim, 1, np.random.default_rng(seed + 1)),
                         AlgoKwargs(fully_random_fraction=0.0, testing_fraction=0.0, n_hindsight_goals=0),
                         np.random.default_rng(seed + 2), np.random.default_rng(seed + 3))
        self.leaf = Node("hits_0", self.child_task, leaf_algo)
        layout = self.child_task.parent_action_layout
        self.root_map = UnitMap(layout.low, layout.high)
        self.n_root_actions = 0

        def root_policy(obs: np.ndarray, deterministic: bool) -> np.ndarray:
            n = self.n_root_actions
            self.n_root_actions += 1
            return np.asarray(root_actions(n) if callable(root_actions) else root_actions[n % len(root_actions)])

        params = AlgoKwargs(fully_random_fraction=0.0,
                            testing_fraction=testing_fraction, n_hindsight_goals=3)
        root_learner = ScriptedLearner(root_policy)
        self.root_algo = EAT(self.root_task, self.root_map, root_learner,
                             ReplayBuffer(1000, self.root_task.obs_dim, self.root_map.dim, np.random.default_rng(seed + 4)),
                             params, np.random.default_rng(seed + 5), np.random.default_rng(seed + 6),
                             child_failure_penalty=-5.0, eat=EATParams(intra_action_samples=intra_samples), gamma=GAMMA,
                             child=self.child_task, intra_rng=np.random.default_rng(seed + 7) if intra_samples else None)
        self.policy = termination(self.child_task, self.root_map, root_learner) if termination is not None else None
        if self.policy is not None:  # a scripted strategy in place of the one EATParams would build
            self.root_algo.termination = self.policy
            self.root_algo.hook = self.root_algo
        self.root = Node("hac_1", self.root_task, self.root_algo)
        self.root.add_child(self.leaf)
        self.graph = Graph(self.root)

    def run_episode(self, *, testing: bool = False, total_step: int = 0) -> list[float]:
        """One episode; returns the env rewards."""
        obs, _ = self.env.reset(seed=0)
        self.graph.reset()
        rewards, step = [], 0
        while True:
            action = self.graph.act(obs, ep_step=step, total_step=total_step + step, testing=testing)
            obs, reward, terminated, truncated, info = self.env.step(action)
            step += 1
            rewards.append(reward)
            done = self.graph.observe(obs, reward, terminated, truncated, info, ep_step=step,
                                      total_step=total_step + step, testing=testing)
            if done or terminated or truncated:
                return rewards
