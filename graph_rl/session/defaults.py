"""Generic parameters for a gymnasium goal env without a params folder (``--env module:Id``).

Every value is derived from the env or the run, and lands in ``config.json`` like a shipped file's:

* episode length ``L``: ``spec.max_episode_steps`` (or the env's ``max_episode_length``);
* the env goal: the observation key equal to ``achieved_goal`` at reset (``"achieved_goal"`` for the
  gymnasium-robotics shape, which :mod:`graph_rl.spaces.goal_env` adds);
* success: ``run_params.success_reward`` = what ``compute_reward`` gives a reached goal (1 for 0/1 rewards, 0 for
  -1/0); the builder checks that a far goal scores below it;
* subgoal space = the goal space; its achievement threshold = the distance at which ``compute_reward`` stops
  counting a goal as reached (probed along the diagonal);
* hierarchy: top-level budget ``H = round(sqrt(L))`` actions; HAC's lower budget ``L / H``; HiTS subgoals last at
  most ``2 L / H`` steps (the shipped EasyPlatforms file's ratio);
* learner: SAC with automatic entropy, [64, 64] networks, gamma 0.98, 4 hindsight goals ("future"), batch 256, one
  gradient step per env step, ``learning_starts = clip(n_steps / 50, 1000, 10000)``; ``force_negative`` (a critic
  bounded by 0) where the level's rewards are at most 0 (shortest-path levels: -1 per action, 0 on success), not on
  HiTS's timed lower level, which earns 1 for an achieved subgoal.

Subgoal bounds are not guessed: a goal space with infinite bounds (gymnasium-robotics' mazes) needs
``subgoal_bounds`` for HAC and HiTS, and the builder says so.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from graph_rl.config import ConfigError
from graph_rl.graph.builders import EnvSpec
from graph_rl.spaces.goal_env import GoalEnvShapeError, adapt_goal_env

__all__ = ["GENERIC_N_STEPS", "generic_run_params", "generic_graph_params"]

GENERIC_N_STEPS = 100_000


def _env(env_name: str) -> tuple[gym.Env, EnvSpec]:
    try:
        env = adapt_goal_env(gym.make(env_name))
    except GoalEnvShapeError as err:
        raise ConfigError(str(err)) from None
    return env, EnvSpec.from_env(env)


def generic_run_params(env_name: str) -> dict[str, Any]:
    """``run_params`` for ``env_name``: 100k steps, a test block of 10 episodes every 20 training episodes."""
    _, spec = _env(env_name)
    return {
        "env": env_name,
        "n_steps": GENERIC_N_STEPS,
        "test_frequency": 20,
        "n_test_episodes": 10,
        "model_save_frequency": 25_000,
        "success_reward": spec.reward_at(far=False),
    }


def _goal_key(env: gym.Env) -> str:
    obs, _ = env.reset(seed=0)
    achieved = np.asarray(obs["achieved_goal"], np.float32).ravel()
    for key in sorted(obs["observation"]):
        value = np.asarray(obs["observation"][key], np.float32).ravel()
        if value.shape == achieved.shape and np.allclose(value, achieved):
            return key
    raise ConfigError("level_params_list[-1].subtask_spec_params.env_goal_key: no observation key equals achieved_goal")


def _threshold(spec: EnvSpec, success_reward: float) -> float:
    """The L2 distance below which ``compute_reward`` still counts the goal as reached (bisection on the diagonal)."""
    dim = spec.goal_bounds[0].size
    direction = np.full(dim, 1.0 / math.sqrt(dim), np.float32)
    goal = np.zeros(dim, np.float32)

    def reached(d: float) -> bool:
        reward = spec.compute_reward(goal[None], (goal + d * direction)[None], {})
        return bool(np.asarray(reward).ravel()[0] >= success_reward)

    low, high = 0.0, 1e-3
    while reached(high):
        low, high = high, high * 2
        if high > 1e6:
            raise ConfigError(
                "level_params_list[0].subtask_spec_params.goal_thresholds: cannot be derived (every goal "
                "counts as reached); set it"
            )
    for _ in range(40):
        mid = (low + high) / 2
        low, high = (mid, high) if reached(mid) else (low, mid)
    return round(low, 6)


def generic_graph_params(env_name: str, algo: str, n_steps: int, success_reward: float | None) -> dict[str, Any]:
    """``graph_params`` for ``algo`` (SAC, HAC or HiTS) on ``env_name`` and a run of ``n_steps``."""
    if algo == "EAT":
        raise ConfigError(
            "--algo EAT: no generic defaults (its time-discounted top level needs a reward "
            "normalisation for the env); give a params folder (--data_dir)"
        )
    env, spec = _env(env_name)
    key = _goal_key(env)
    length = spec.max_episode_length
    budget = max(2, round(math.sqrt(length)))
    learner = {
        "hidden_layers": [64, 64],
        "learning_rate": 3e-4,
        "gamma": 0.98,
        "tau": 0.005,
        "alpha": 0.2,
        "auto_alpha": True,
        "force_negative": True,
    }
    learning = {
        "n_hindsight_goals": 4,
        "goal_sampling_strategy": "future",
        "batch_size": 256,
        "grad_steps_per_env_step": 1.0,
        "fully_random_fraction": 0.05,
        "learning_starts": int(min(10_000, max(1_000, n_steps // 50))),
    }

    def level(spec_params: dict[str, Any]) -> dict[str, Any]:
        return {"algo_kwargs": dict(learning), "model_kwargs": dict(learner), "subtask_spec_params": spec_params}

    top: dict[str, Any] = {"env_goal_key": key}
    if algo == "SAC":
        return {"algorithm": "SAC", "n_layers": 1, "level_params_list": [level({**top, "max_n_actions": -1})]}
    reached = spec.reward_at(far=False) if success_reward is None else success_reward
    lower: dict[str, Any] = {"goal_keys": [key], "goal_thresholds": {key: _threshold(spec, reached)}}
    if algo == "HiTS":
        lower["delta_t_max"] = round(2 * length / budget, 3)
    else:
        lower["max_n_actions"] = -1
    bottom = level(lower)
    bottom["model_kwargs"]["force_negative"] = algo != "HiTS"  # a timed subgoal pays 1 when achieved
    return {
        "algorithm": algo,
        "n_layers": 2,
        "level_params_list": [bottom, level({**top, "max_n_actions": budget, "observe_budget": True})],
    }
