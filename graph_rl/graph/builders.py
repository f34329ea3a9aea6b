"""Builders: a :class:`GraphParams` + an env -> a wired :class:`Graph` (the original's graph classes
and runner factories, reference 1.7 and 6.4-6.6).

* ``SAC``: one leaf node with the env subtask = flat SAC + hindsight goals (reference 3.8).
* ``HAC``: ``n`` shortest-path levels under an env-subtask root.
* ``HiTS``: timed-goal (HiTS) levels under an HAC root with the env subtask.
* ``EAT``: HiTS whose root may terminate its running timed subgoal early (``graph_params.eat.strategy``) and,
  with ``eat.time_discounted``, learns the time-discounted env objective (:mod:`graph_rl.algorithms.eat`).
  Strategy ``never`` without the time discount builds exactly the HiTS agent (same names, streams, numbers).

Derived values, as in the original: the top level's ``max_n_actions = -1`` is the episode length;
HAC level 0's ``-1`` is ``episode length / product of the higher budgets``; HiTS ``delta_t_max = -1``
(right below the top) is ``episode length / top budget``; default ``child_failure_penalty`` is
``-max_n_actions`` of the level (HiTS levels: -1); default replay capacities follow reference 6.4.
Each level's random streams are ``node/<name>/{init,explore,replay,her,policy}`` (EAT's intra-action transitions:
``node/<name>/intra``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, cast

import gymnasium as gym
import numpy as np

from graph_rl.algorithms import EAT, HAC, Algorithm, HiTS
from graph_rl.algorithms.eat import DiscountedEnvGoalSubtask
from graph_rl.config import ConfigError
from graph_rl.config.graph_params import TIMED_ALGORITHMS, GraphParams, LevelParams, SubtaskSpecParams
from graph_rl.graph.graph import Graph
from graph_rl.learners import Learner, learner_names, make_learner
from graph_rl.nodes import Node
from graph_rl.replay import ReplayBuffer
from graph_rl.rng import RngRegistry
from graph_rl.spaces import DictLayout, UnitMap, box_bounds
from graph_rl.spaces.goal_env import is_canonical
from graph_rl.subtasks import (
    AuxReward,
    DeltaTAchReward,
    EnvGoalSubtask,
    EnvReward,
    GoalTolReward,
    PartialObs,
    ShortestPathSubtask,
    Subtask,
    TimedGoalSubtask,
)

__all__ = ["EnvSpec", "build_graph"]

_DEFAULT_N_STEPS = 100_000


@dataclasses.dataclass(frozen=True)
class EnvSpec:
    """What the builders need from a goal env with dict observations."""

    obs_layout: DictLayout
    goal_bounds: tuple[np.ndarray, np.ndarray]
    action_bounds: tuple[np.ndarray, np.ndarray]
    max_episode_length: int
    compute_reward: Callable[..., Any]

    @classmethod
    def from_env(cls, env: gym.Env) -> EnvSpec:
        space = cast(gym.spaces.Dict, env.observation_space)
        if not isinstance(space, gym.spaces.Dict) or "desired_goal" not in space.spaces:
            raise ConfigError(
                f"env: not a goal env (needs Dict observations with 'achieved_goal' and 'desired_goal' and a "
                f"compute_reward; got {type(space).__name__})"
            )
        if not is_canonical(space):
            raise ConfigError(
                "env: observations are not a Dict with a Dict-of-Boxes 'observation' and 'desired_goal'; wrap the env "
                "with graph_rl.spaces.adapt_goal_env(env, observation_slices) first (training runs do)"
            )
        length = getattr(env.unwrapped, "max_episode_length", None)
        if length is None and env.spec is not None:
            length = env.spec.max_episode_steps
        if length is None:
            raise ConfigError("env: unknown episode length (no max_episode_length, no spec.max_episode_steps)")
        return cls(
            obs_layout=DictLayout.from_space(cast(gym.spaces.Dict, space["observation"])),
            goal_bounds=box_bounds(space["desired_goal"], "desired_goal"),
            action_bounds=box_bounds(env.action_space, "action_space"),
            max_episode_length=int(length),
            compute_reward=env.get_wrapper_attr("compute_reward"),
        )

    def reward_at(self, far: bool) -> float:
        """``compute_reward`` for a goal reached (achieved == desired) or far away (every dimension off by 10 times
        the goal's scale): how this env scores success and failure, whatever its reward convention."""
        low, high = self.goal_bounds
        finite = np.isfinite(low) & np.isfinite(high)
        goal = np.where(finite, (np.where(finite, low, 0.0) + np.where(finite, high, 0.0)) / 2, 0.0).astype(np.float32)
        scale = np.where(finite, np.where(finite, high - low, 0.0), 1.0) + np.abs(goal) + 1.0
        desired = goal + 10.0 * scale if far else goal
        return float(np.asarray(self.compute_reward(goal[None], desired[None].astype(np.float32), {})).ravel()[0])

    def success_threshold(self, success_reward: float | None) -> float:
        """The reward at and above which ``compute_reward`` means "goal reached": ``success_reward``, checked against
        the env (a goal far away must score below it, a reached one at or above), or the reached goal's reward."""
        reached, missed = self.reward_at(far=False), self.reward_at(far=True)
        if success_reward is None:
            success_reward = reached
        if not reached >= success_reward > missed:
            raise ConfigError(
                f"run_params.success_reward: {success_reward!r} does not separate this env's rewards (goal reached: "
                f"{reached!r}, goal far away: {missed!r}); set it to the reward of a reached goal"
            )
        return success_reward


def _learner(name: str, obs_dim: int, act_dim: int, level: LevelParams, rng: RngRegistry, device: str) -> Learner:
    return make_learner(
        level.algo_kwargs.flat_algo_name,
        obs_dim,
        act_dim,
        level.model_kwargs,
        init_generator=rng.torch(f"node/{name}/init", device),
        explore_generator=rng.torch(f"node/{name}/explore", device),
        device=device,
    )


def build_graph(
    algo: str,
    env: gym.Env,
    params: GraphParams,
    rng: RngRegistry,
    *,
    device: str = "cpu",
    n_steps: int | None = None,
    success_reward: float | None = None,
) -> Graph:
    """Build the agent ``algo`` ("SAC", "HAC", "HiTS" or "EAT") for ``env`` from ``params``.

    Args:
        n_steps: planned env steps of the run (default replay capacities scale with it).
        success_reward: the top level reaches the env goal when ``compute_reward >= success_reward``; None: the
            reward ``compute_reward`` gives a reached goal. Checked against the env either way, so a value every
            step reaches (0 for a 0/1 reward) is an error, not an agent that "succeeds" after one step.

    Raises:
        ConfigError: naming the dotted parameter path of any inconsistency.
    """
    if algo not in ("SAC", "HAC", *TIMED_ALGORITHMS):
        raise ConfigError(f"algorithm: unknown {algo!r} (choose SAC, HAC, HiTS or EAT)")
    if params.algorithm != algo:
        raise ConfigError(f"algorithm: parameters are for {params.algorithm!r}, asked to build {algo!r}")
    spec = EnvSpec.from_env(env)
    return _Builder(algo, spec, params, rng, device, n_steps, spec.success_threshold(success_reward)).build()


class _Builder:
    def __init__(
        self,
        algo: str,
        env: EnvSpec,
        params: GraphParams,
        rng: RngRegistry,
        device: str,
        n_steps: int | None,
        success_reward: float,
    ) -> None:
        self.algo, self.env, self.params, self.rng, self.device = algo, env, params, rng, device
        self.success_reward = success_reward
        self.timed = algo in TIMED_ALGORITHMS
        self.n_steps = _DEFAULT_N_STEPS if n_steps is None else int(n_steps)
        self.levels = params.level_params_list
        self.top = len(self.levels) - 1
        self.budgets = self._budgets()

    def path(self, i: int, section: str, key: str) -> str:
        return f"level_params_list[{i}].{section}.{key}"

    def name(self, i: int) -> str:
        if self.algo == "SAC":
            return "sac_0"
        return f"hits_{i}" if self.timed and i < self.top else f"hac_{i}"

    def _budgets(self) -> list[float | None]:
        """Resolved ``max_n_actions`` per level (None = unlimited; timed levels have none)."""
        raw = [lv.subtask_spec_params.max_n_actions for lv in self.levels]
        length = self.env.max_episode_length
        out: list[float | None] = [None if n == -1 else n for n in raw]
        if raw[self.top] == -1:
            out[self.top] = length
        if self.algo == "HAC" and self.top > 0 and raw[0] == -1:
            higher = out[1:]
            if any(n is None for n in higher):
                raise ConfigError(
                    f"{self.path(0, 'subtask_spec_params', 'max_n_actions')}: -1 needs finite budgets above"
                )
            out[0] = length / math.prod(cast(list[float], higher))
        if self.timed:
            out[: self.top] = [None] * self.top
        return out

    def partial(self, i: int) -> PartialObs:
        spec = self.levels[i].subtask_spec_params
        layout = self.env.obs_layout
        if spec.subgoal_bounds:
            bounds = {k: (layout.low[sl], layout.high[sl]) for k, sl in layout.slices.items()}
            for key, (low, high) in spec.subgoal_bounds.items():
                where = self.path(i, "subtask_spec_params", f"subgoal_bounds.{key}")
                if key not in bounds:
                    raise ConfigError(f"{where}: {key!r} is not an observation key {list(layout.keys)}")
                if len(low) != len(bounds[key][0]):
                    raise ConfigError(f"{where}: {key!r} has {len(bounds[key][0])} dims, the bounds {len(low)}")
                bounds[key] = (np.asarray(low, np.float32), np.asarray(high, np.float32))
            layout = DictLayout(bounds)
        try:
            return PartialObs(layout, spec.partial_obs_keys)
        except KeyError as err:
            raise ConfigError(f"{self.path(i, 'subtask_spec_params', 'partial_obs_keys')}: {err.args[0]}") from None

    def subtask(self, i: int, child: Subtask | None) -> Subtask:
        spec = self.levels[i].subtask_spec_params
        aux: list[AuxReward] = []
        if spec.weight_delta_t_ach_aux and isinstance(child, TimedGoalSubtask):
            index = child.parent_action_layout.slices["delta_t_ach"].start
            aux.append(DeltaTAchReward(spec.weight_delta_t_ach_aux, index))
        if spec.learn_goal_ach_thresholds and isinstance(child, TimedGoalSubtask) and spec.goal_tol_rew:
            aux.append(GoalTolReward(spec.goal_tol_rew, child.parent_action_layout.slices["goal_tol"]))
        if spec.env_reward_weight:
            aux.append(EnvReward(spec.env_reward_weight))
        partial = self.partial(i)
        if i == self.top:
            eat = self.params.eat
            self.check_env_goal(i, partial)
            key = spec.env_goal_key
            assert key is not None, "validated: the top level needs the env goal key"
            common = (
                partial,
                key,
                self.env.goal_bounds,
                self.env.compute_reward,
                self.budgets[i],
                aux,
                spec.constant_failure_return,
                self.success_reward,
            )
            if eat is not None and eat.time_discounted:
                if spec.observe_budget:
                    raise ConfigError(
                        f"{self.path(i, 'subtask_spec_params', 'observe_budget')}: not with EAT's "
                        "time-discounted top level"
                    )
                return DiscountedEnvGoalSubtask(*common, reward_normalization=eat.reward_normalization)
            return EnvGoalSubtask(*common, **self.budget_kwargs(spec))
        goal_keys = list(partial.keys) if spec.goal_keys is None else spec.goal_keys
        learnt = self.max_thresholds(i, goal_keys) if self.timed else None
        thresholds = {**(learnt or {}), **spec.goal_thresholds}
        missing = [k for k in goal_keys if k not in thresholds]
        if missing:
            raise ConfigError(f"{self.path(i, 'subtask_spec_params', 'goal_thresholds')}: no threshold for {missing}")
        if not self.timed:
            if spec.observe_budget and self.budgets[i] is None:
                raise ConfigError(f"{self.path(i, 'subtask_spec_params', 'observe_budget')}: needs a budget")
            return ShortestPathSubtask(
                partial,
                goal_keys,
                spec.goal_thresholds,
                self.budgets[i],
                aux,
                spec.constant_failure_return,
                **self.budget_kwargs(spec),
            )
        delta_t_max = spec.delta_t_max
        assert delta_t_max is not None, "validated: HiTS levels have delta_t_max"
        if delta_t_max == -1:
            if self.budgets[self.top] is None:
                raise ConfigError(f"{self.path(i, 'subtask_spec_params', 'delta_t_max')}: -1 needs a top-level budget")
            delta_t_max = self.env.max_episode_length / cast(float, self.budgets[self.top])
        return TimedGoalSubtask(
            partial,
            goal_keys,
            thresholds,
            delta_t_max,
            spec.delta_t_min,
            self.rng.numpy(f"node/{self.name(i)}/her"),
            aux,
            learnt,
        )

    def check_critic_sign(self, i: int, subtask: Subtask) -> None:
        """A critic bounded by 0 (``force_negative``) cannot value rewards above 0: refuse it on a level whose
        rewards reach above 0 (a timed goal's 1 for an achieved subgoal, or the env's rewards where the level
        learns from them), instead of training a critic that silently cannot represent success."""
        if not self.levels[i].model_kwargs.force_negative:
            return
        where = self.path(i, "model_kwargs", "force_negative")
        if subtask.achieved_reward > 0:
            raise ConfigError(
                f"{where}: this level's {type(subtask).__name__} rewards an achieved goal with "
                f"{subtask.achieved_reward!r} > 0; a critic bounded by 0 cannot value it (set it to false)"
            )
        weight = self.levels[i].subtask_spec_params.env_reward_weight
        eat = self.params.eat
        if i == self.top and eat is not None and eat.time_discounted:
            weight = 1.0  # EAT's time-discounted top level is rewarded with the (normalised) env rewards
        if not weight:
            return
        best = max(weight * self.env.reward_at(far=False), weight * self.env.reward_at(far=True))
        if best > 0:
            raise ConfigError(
                f"{where}: this level learns from env rewards, which reach {best!r} > 0 here; a critic bounded by 0 "
                "cannot value them"
            )

    def check_env_goal(self, i: int, partial: PartialObs) -> None:
        """The top level's env goal key must be visible and as wide as the env goal; an observed budget needs one."""
        spec = self.levels[i].subtask_spec_params
        key = spec.env_goal_key
        if key not in partial.layout.slices:
            raise ConfigError(
                f"{self.path(i, 'subtask_spec_params', 'env_goal_key')}: {key!r} is not a visible "
                f"observation key {list(partial.keys)}"
            )
        width, goal_dim = len(partial.layout.indices([key])), len(self.env.goal_bounds[0])
        if width != goal_dim:
            raise ConfigError(
                f"{self.path(i, 'subtask_spec_params', 'env_goal_key')}: {key!r} has {width} dims but "
                f"desired_goal has {goal_dim}"
            )
        if spec.observe_budget and self.budgets[i] is None:
            raise ConfigError(f"{self.path(i, 'subtask_spec_params', 'observe_budget')}: needs a budget")

    def check_finite_goals(self, i: int, child: Subtask) -> None:
        """Level ``i + 1`` emits level ``i``'s goals as actions, which need finite bounds."""
        goals = getattr(child, "goal_layout", None)
        if goals is None:
            return
        unbounded = [
            k
            for k, sl in goals.slices.items()
            if not np.isfinite(goals.low[sl]).all() or not np.isfinite(goals.high[sl]).all()
        ]
        if unbounded:
            raise ConfigError(
                f"{self.path(i, 'subtask_spec_params', 'subgoal_bounds')}: goal keys {unbounded} are unbounded in the "
                "observation space; set their [low, high] so the level above can emit them"
            )

    @staticmethod
    def budget_kwargs(spec: SubtaskSpecParams) -> dict[str, Any]:
        """The observed-budget options of a shortest-path subtask, only where set (not every subtask takes them)."""
        return {"observe_budget": True} if spec.observe_budget else {}

    def max_thresholds(self, i: int, goal_keys: list[str]) -> dict[str, float] | None:
        """Bounds of the thresholds that level ``i + 1`` chooses for level ``i``'s goals (None: fixed thresholds)."""
        parent = self.levels[i + 1].subtask_spec_params
        if not parent.learn_goal_ach_thresholds:
            return None
        extra = sorted(set(parent.max_goal_thresholds) - set(goal_keys))
        if extra:
            raise ConfigError(
                f"{self.path(i + 1, 'subtask_spec_params', 'max_goal_thresholds')}: {extra} are not goal keys of level {i}"
            )
        return {k: parent.max_goal_thresholds.get(k, 1.0) for k in goal_keys}

    def capacity(self, i: int) -> int:
        algo = self.levels[i].algo_kwargs
        if algo.buffer_size is not None:
            return algo.buffer_size
        per_step = 1.0
        if self.algo == "HAC" or self.algo == "SAC" or i == self.top:
            budgets = [self.env.max_episode_length if b is None else b for b in self.budgets[i:]]
            per_step = math.prod(budgets) / self.env.max_episode_length
        copies = algo.n_hindsight_goals + 1
        if self.params.eat is not None and i == self.top:
            copies += self.params.eat.intra_action_samples
        return max(1, int(algo.buffer_size_factor * self.n_steps * per_step) * copies)

    def penalty(self, i: int) -> float:
        algo = self.levels[i].algo_kwargs
        if algo.child_failure_penalty is not None:
            return algo.child_failure_penalty
        if self.timed and i < self.top:
            return -1.0
        if self.budgets[i] is None:
            raise ConfigError(f"{self.path(i, 'algo_kwargs', 'child_failure_penalty')}: required without a budget")
        return -float(cast(float, self.budgets[i]))

    def algorithm(
        self, i: int, subtask: Subtask, action_layout: tuple[np.ndarray, np.ndarray], child: Subtask | None
    ) -> Algorithm:
        level, name = self.levels[i], self.name(i)
        if level.algo_kwargs.flat_algo_name not in learner_names():
            raise ConfigError(
                f"{self.path(i, 'algo_kwargs', 'flat_algo_name')}: unknown {level.algo_kwargs.flat_algo_name!r} "
                f"(known: {', '.join(learner_names())})"
            )
        action_map = UnitMap(*action_layout)
        learner = _learner(name, subtask.obs_dim, action_map.dim, level, self.rng, self.device)
        buffer = ReplayBuffer(
            self.capacity(i), subtask.obs_dim, action_map.dim, self.rng.numpy(f"node/{name}/replay"), self.device
        )
        args = (
            subtask,
            action_map,
            learner,
            buffer,
            level.algo_kwargs,
            self.rng.numpy(f"node/{name}/policy"),
            self.rng.numpy(f"node/{name}/her"),
        )
        fidelity = self.params.fidelity
        if isinstance(subtask, TimedGoalSubtask):
            columns = child.parent_action_layout.slices["goal"] if isinstance(child, TimedGoalSubtask) else None
            return HiTS(*args, child_failure_penalty=self.penalty(i), fidelity=fidelity, hindsight_columns=columns)
        eat = self.params.eat
        if eat is not None and i == self.top:
            assert isinstance(child, TimedGoalSubtask)
            intra_rng = self.rng.numpy(f"node/{name}/intra") if eat.intra_action_samples else None
            return EAT(
                *args,
                child_failure_penalty=self.penalty(i),
                fidelity=fidelity,
                eat=eat,
                gamma=level.model_kwargs.gamma,
                child=child,
                intra_rng=intra_rng,
            )
        return HAC(*args, child_failure_penalty=self.penalty(i) if i > 0 else -1.0, fidelity=fidelity)

    def build(self) -> Graph:
        child_node: Node | None = None
        for i in range(len(self.levels)):
            child = child_node.subtask if child_node is not None else None
            subtask = self.subtask(i, child)
            self.check_critic_sign(i, subtask)
            if child is None:
                bounds = self.env.action_bounds
            else:
                layout = child.parent_action_layout
                assert layout is not None, "a child subtask takes its goal from its parent"
                bounds = (layout.low, layout.high)
                self.check_finite_goals(i - 1, child)
            node = Node(self.name(i), subtask, self.algorithm(i, subtask, bounds, child))
            if child_node is not None:
                node.add_child(child_node)
            child_node = node
        assert child_node is not None
        return Graph(child_node)
